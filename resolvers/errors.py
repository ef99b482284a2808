"""Refusals raised by use cases. Each has the contract's error code and the input
field at fault; schema/errors.py maps them (and the ledger's) to payload errors."""

from __future__ import annotations

from ledger.errors import LedgerError


class UseCaseError(LedgerError):
    def __init__(self, code: str, message: str, *, field: str | None = None):
        super().__init__(message, field=field)
        self.code = code


def invalid(message: str, field: str | None = None) -> UseCaseError:
    return UseCaseError("INVALID_INPUT", message, field=field)


def not_found(what: str, field: str | None = None) -> UseCaseError:
    return UseCaseError("NOT_FOUND", f"{what} not found", field=field)


class AccessDenied(LedgerError):
    """UNAUTHENTICATED (no or bad token) or FORBIDDEN (signed in, not allowed)."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(message or _DEFAULT_MESSAGES[code])
        self.code = code


_DEFAULT_MESSAGES = {
    "UNAUTHENTICATED": "sign in first: this needs a valid bearer token",
    "FORBIDDEN": "your role does not allow this",
}
