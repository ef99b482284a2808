"""Money, and the scalars every domain shares: Decimal, DateTime, Date.

All three travel as JSON strings, both ways; a client's value of another JSON type is
refused by GraphQL coercion (BAD_USER_INPUT). What makes a Decimal an acceptable
amount is the use case's to decide, so that a malformed one is refused in the payload
with the field named (INVALID_AMOUNT): the scalar hands over the client's text as it
came, and ledger.money reads it by its strict grammar.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from datetime import timezone as FixedOffset
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from ledger.money import to_decimal
from resolvers.errors import not_found
from resolvers.validation import within_calendar
from schema.executor import ANSWERS_TYPE

# The same default as config.Settings.timezone, for schemas built without settings
# (the SDL export, tests).
DEFAULT_TIMEZONE = "Asia/Shanghai"
RFC3339_URL = "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
XSD_DECIMAL_URL = "https://www.w3.org/TR/xmlschema11-2/#decimal"

# [0-9] in a str pattern is ASCII only; \d would also take other scripts' digits.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt]"
    r"(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


@strawberry.type(
    description="An amount of money: a Decimal string in major units plus its currency."
)
class Money:
    amount: Decimal = strawberry.field(description='Major units, two decimals, e.g. "100.00".')
    currency: str = strawberry.field(description="ISO 4217 code, e.g. CNY.")


@strawberry.input(description="An amount of money as input: major units plus ISO 4217 currency.")
class MoneyInput:
    # At run time the client's text (see the module docstring), read by ledger.money.
    amount: Decimal = strawberry.field(
        description='Major units: ASCII digits with at most two decimals, e.g. "100.00".'
    )
    currency: str = strawberry.field(description="ISO 4217 code; the fund's currency (CNY).")


def money(fen: int, currency: str = "CNY") -> Money:
    return Money(amount=to_decimal(fen), currency=currency)


def funds_timezone() -> tzinfo:
    """The funds' time zone as the environment sets it (JINLIN_TIMEZONE)."""
    return ZoneInfo(os.environ.get("JINLIN_TIMEZONE", DEFAULT_TIMEZONE))


def scalar_map(timezone: tzinfo) -> dict[object, ScalarDefinition]:
    """The project's Decimal, DateTime and Date, in place of Strawberry's (whose
    Decimal takes JSON numbers and whose DateTime and Date take many ISO 8601 forms)."""
    return {
        Decimal: strawberry.scalar(
            name="Decimal",
            description=(
                'A decimal number as a JSON string, never a JSON number: "100.00". '
                "Amounts are ASCII digits with at most two decimals (no sign, exponent, "
                "separators or spaces); answers carry exactly two decimals."
            ),
            specified_by_url=XSD_DECIMAL_URL,
            serialize=_serialize_decimal,
            parse_value=_parse_decimal,
        ),
        datetime: strawberry.scalar(
            name="DateTime",
            description=(
                "An instant as an RFC 3339 date-time string with an offset, e.g. "
                '"2023-06-10T09:00:00+08:00". Any offset (or Z) is accepted, one without '
                "an offset is refused; answers are in the funds' time zone."
            ),
            specified_by_url=RFC3339_URL,
            serialize=_datetime_serializer(timezone),
            parse_value=_parse_datetime,
        ),
        date: strawberry.scalar(
            name="Date",
            description='A calendar day as an ISO 8601 date string (RFC 3339 full-date): "2023-06-10".',
            specified_by_url=RFC3339_URL,
            serialize=_serialize_date,
            parse_value=_parse_date,
        ),
    }


def _serialize_decimal(value: Any) -> str:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"Decimal cannot represent {value!r}")
    return format(value, "f")  # plain digits: str() would write 1E+2


setattr(_serialize_decimal, ANSWERS_TYPE, Decimal)
INSTANTS_KEPT = 8192  # answers of instants kept per time zone; emptied when full


def _datetime_serializer(timezone: tzinfo) -> Callable[[Any], str]:
    """DateTime's serializer in the funds' time zone. It keeps the answers of recent
    instants: a list page answers the same donations' times request after request,
    and an instant's answer in one time zone never changes. Only for instants with a
    fixed offset (what the database driver gives): equal ones, whatever their offset,
    hash and answer alike. Python compares two times of one zone with daylight saving
    by their wall clock, so the two instants of an hour set back would share a key."""
    answers: dict[datetime, str] = {}

    def serialize(value: Any) -> str:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"DateTime cannot represent {value!r}")
        if type(value.tzinfo) is not FixedOffset:
            return _serialize_datetime(value, timezone)
        answer = answers.get(value)
        if answer is None:
            if len(answers) >= INSTANTS_KEPT:
                answers.clear()
            answer = answers[value] = _serialize_datetime(value, timezone)
        return answer

    setattr(serialize, ANSWERS_TYPE, datetime)
    return serialize


def _parse_decimal(value: Any) -> str:
    if not isinstance(value, str):
        raise GraphQLError(f'Decimal takes a string such as "100.00", not {_json_kind(value)}.')
    return value


def _serialize_datetime(value: Any, timezone: tzinfo) -> str:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TypeError(f"DateTime cannot represent {value!r}")
    return value.astimezone(timezone).isoformat()


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise GraphQLError(f"DateTime takes an RFC 3339 string, not {_json_kind(value)}.")
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        raise GraphQLError(
            f"DateTime {_shown(value)} is not an RFC 3339 date-time, e.g. 2023-06-10T09:00:00+08:00."
        )
    offset = match["offset"]
    if offset is None:
        raise GraphQLError(f"DateTime {_shown(value)} has no offset: add one, e.g. +08:00 or Z.")
    # Python takes at most microseconds; finer digits are dropped, not rounded.
    fraction = f".{match['fraction'][:6]}" if match["fraction"] else ""
    offset = "+00:00" if offset.upper() == "Z" else offset
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}{fraction}{offset}")
    except ValueError as exc:
        raise GraphQLError(f"DateTime {_shown(value)} is not a real instant: {exc}.") from None
    if not within_calendar(moment.date()):
        raise GraphQLError(f"DateTime {_shown(value)} is outside the years 0002 to 9998.")
    return moment


def _serialize_date(value: Any) -> str:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"Date cannot represent {value!r}")
    return value.isoformat()


def _parse_date(value: Any) -> date:
    if not isinstance(value, str):
        raise GraphQLError(f"Date takes an ISO 8601 string, not {_json_kind(value)}.")
    if _DATE.fullmatch(value) is None:
        raise GraphQLError(f"Date {_shown(value)} is not an ISO 8601 date, e.g. 2023-06-10.")
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise GraphQLError(f"Date {_shown(value)} is not a real day: {exc}.") from None
    if not within_calendar(day):
        raise GraphQLError(f"Date {_shown(value)} is outside the years 0002 to 9998.")
    return day


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    return "a JSON list" if isinstance(value, list) else "a JSON object"


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "…")


def shown(row: Any, what: str) -> Any:
    """The row a non-null field leads to; the contract's NOT_FOUND error when the viewer-
    scoped loader found nothing the viewer may see (GraphQL then nulls the parent)."""
    if row is None:
        raise not_found(what)
    return row
