"""The ledger's refusals. Each carries the contract's error code and, where one
input is at fault, a hint of which (mapped to an input path once, in schema/errors.py)."""

from __future__ import annotations


class LedgerError(Exception):
    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidEntry(LedgerError):
    code = "INVALID_INPUT"


class InvalidAmount(LedgerError):
    code = "INVALID_AMOUNT"


class CurrencyMismatch(LedgerError):
    code = "CURRENCY_MISMATCH"


class UnbalancedEntry(LedgerError):
    code = "UNBALANCED_ENTRY"


class InsufficientFunds(LedgerError):
    code = "INSUFFICIENT_FUNDS"


class PeriodClosed(LedgerError):
    code = "PERIOD_CLOSED"


class IdempotencyConflict(LedgerError):
    code = "IDEMPOTENCY_CONFLICT"


class InvalidState(LedgerError):
    code = "INVALID_STATE"


class NotFound(LedgerError):
    code = "NOT_FOUND"


class FundNotOpen(LedgerError):
    """The fund's status (read under the book lock) does not take this kind of entry."""

    code = "FUND_NOT_OPEN"
