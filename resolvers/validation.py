"""Small input checks shared by use cases; each failure names the input field."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from ledger import money
from ledger.errors import InvalidEntry
from resolvers.errors import invalid

# The days an input may name. A day's instants in any time zone, and the days next to
# it, must stay inside Python's calendar (years 1 to 9999): a period's bounds, a
# DateTime moved to UTC or to the funds' zone.
FIRST_DAY, LAST_DAY = date(2, 1, 1), date(9998, 12, 31)


def within_calendar(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def text(
    value: str | None, field: str, *, max_length: int = 100, required: bool = True
) -> str | None:
    """Trimmed text of 1..max_length printable characters (None allowed when optional)."""
    if value is None or (not required and not value.strip()):
        if required:
            raise invalid(f"{field} is required", field)
        return None
    value = value.strip()
    if not value:
        raise invalid(f"{field} must not be empty", field)
    if len(value) > max_length:
        raise invalid(f"{field} is longer than {max_length} characters", field)
    # One C-level check for the usual case; newlines and tabs are allowed.
    if not value.isprintable() and not value.replace("\n", "").replace("\t", "").isprintable():
        raise invalid(f"{field} contains control characters", field)
    return value


def instant(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise invalid(f"{field} needs a UTC offset, e.g. 2023-06-10T09:00:00+08:00", field)
    return value


def calendar_date(value: date, field: str) -> date:
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        raise invalid(f"{field} is not a plausible date", field)
    return value


def centihours(value: str | Decimal, field: str) -> int:
    """Hours as ASCII digits with at most two decimals, more than zero and at most a year.

    The Decimal scalar hands over the client's text; the demo passes a Decimal.
    """
    hundredths = money.hundredths(
        value, field=field, error=InvalidEntry
    )  # INVALID_INPUT: hours are not money
    if not 0 < hundredths <= 24 * 366 * 100:
        raise invalid(f"{field} must be more than 0 and at most a year of hours", field)
    return hundredths
