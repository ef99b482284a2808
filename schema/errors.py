"""Business errors as the contract shows them, and the one mapping from domain errors."""

from __future__ import annotations

import enum

import strawberry

from ledger.errors import LedgerError


@strawberry.enum(description="Why a request was refused.")
class ErrorCode(enum.Enum):
    INVALID_INPUT = "INVALID_INPUT"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    NOT_FOUND = "NOT_FOUND"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    FUND_NOT_OPEN = "FUND_NOT_OPEN"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    INVALID_STATE = "INVALID_STATE"
    SELF_APPROVAL = "SELF_APPROVAL"
    UNBALANCED_ENTRY = "UNBALANCED_ENTRY"
    PERIOD_CLOSED = "PERIOD_CLOSED"
    INVALID_STATEMENT = "INVALID_STATEMENT"
    RATE_LIMITED = "RATE_LIMITED"


@strawberry.type(description="A business failure; a payload with errors wrote nothing.")
class UserError:
    code: ErrorCode = strawberry.field(description="What kind of failure.")
    message: str = strawberry.field(description="What went wrong, for a person.")
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "amount"].'
    )


def user_error(exc: LedgerError) -> UserError:
    """The payload error for a domain refusal. `field` hints are dotted input paths."""
    try:
        code = ErrorCode(exc.code)
    except ValueError:
        code = ErrorCode.INVALID_INPUT
    field = ["input", *exc.field.split(".")] if exc.field else None
    return UserError(code=code, message=exc.message, field=field)
