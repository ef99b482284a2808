"""Business errors as the contract shows them, and the one mapping from domain errors."""

from __future__ import annotations

import enum

import strawberry

from ledger.errors import LedgerError


@strawberry.enum(description="Why a request was refused.")
class ErrorCode(enum.Enum):
    INVALID_INPUT = strawberry.enum_value(
        "INVALID_INPUT", description="An input value is not acceptable (see field and message)."
    )
    INVALID_AMOUNT = strawberry.enum_value(
        "INVALID_AMOUNT",
        description="An amount is not a positive Decimal string with at most two decimals, or is too large.",
    )
    CURRENCY_MISMATCH = strawberry.enum_value(
        "CURRENCY_MISMATCH", description="The amount's currency is not the fund's."
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="The object does not exist, or the viewer may not see it."
    )
    UNAUTHENTICATED = strawberry.enum_value(
        "UNAUTHENTICATED", description="Sign in first (login), or the token is no longer good."
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN", description="The viewer's roles do not allow it."
    )
    INSUFFICIENT_FUNDS = strawberry.enum_value(
        "INSUFFICIENT_FUNDS",
        description="It would take cash, bank, clearing, goods or the available balance below zero at its instant or any instant since.",
    )
    FUND_NOT_OPEN = strawberry.enum_value(
        "FUND_NOT_OPEN", description="The fund is FROZEN or CLOSED and does not take this."
    )
    IDEMPOTENCY_CONFLICT = strawberry.enum_value(
        "IDEMPOTENCY_CONFLICT",
        description="The idempotency key (or an ONLINE externalRef) was used before with another input.",
    )
    INVALID_STATE = strawberry.enum_value(
        "INVALID_STATE",
        description="The object is not in a state that allows it, e.g. approving a PAID disbursement.",
    )
    SELF_APPROVAL = strawberry.enum_value(
        "SELF_APPROVAL", description="Whoever requested a disbursement may not approve it."
    )
    UNBALANCED_ENTRY = strawberry.enum_value(
        "UNBALANCED_ENTRY", description="A journal entry's debits and credits differ."
    )
    PERIOD_CLOSED = strawberry.enum_value(
        "PERIOD_CLOSED", description="The date falls in a closed period."
    )
    INVALID_STATEMENT = strawberry.enum_value(
        "INVALID_STATEMENT",
        description="A statement file cannot be read; the message names the line and the problem.",
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED",
        description="Too many failed sign-ins; wait for the time in the Retry-After header.",
    )


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
