"""Money below the API: integer fen. Conversion from and to Decimal strings lives here.

Amounts from clients arrive as text and are read by one strict grammar: ASCII digits,
optionally a point and one or two more digits. Nothing else is an amount: no sign,
exponent, separators, underscores, spaces, other scripts' digits ("１０", "١٠"), NaN or
Infinity. Python's Decimal and int accept several of those, so the text is matched
before any number is made from it, and fen are computed from the digits exactly.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ledger.errors import InvalidAmount

FEN_PER_YUAN = 100
# 10^11 yuan: far beyond any community fund, well inside a signed 64-bit integer.
MAX_FEN = 10**11 * FEN_PER_YUAN
SUPPORTED_CURRENCIES = frozenset({"CNY"})
# Longer text is refused before it is matched or turned into an int (leading zeros
# would otherwise let a client send an arbitrarily long "amount").
MAX_AMOUNT_CHARS = 32

# A str pattern's [0-9] is ASCII only (\d is not); fullmatch, since $ also matches
# before a trailing newline.
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_EXAMPLE = 'ASCII digits with at most two decimals, e.g. "100.00"'


def hundredths(value: str | Decimal, *, field: str = "amount", error=InvalidAmount) -> int:
    """A quantity with at most two decimals as a whole number of hundredths.

    Text (what clients send) must be ASCII digits, optionally a point and one or two
    digits; a Decimal (from the project's own code: demo, benchmarks) must be finite
    and not negative. Zero is allowed. Refusals raise `error` naming `field`.
    """
    name = field.rsplit(".", 1)[-1]
    if isinstance(value, Decimal):
        value = _decimal_text(value, name, field, error)
    if not isinstance(value, str):
        raise error(f"{name} must be a string of {_EXAMPLE}", field=field)
    if len(value) > MAX_AMOUNT_CHARS:
        raise error(f"{name} is longer than {MAX_AMOUNT_CHARS} characters", field=field)
    match = _AMOUNT.fullmatch(value)
    if match is None:
        if value.startswith("-") and _AMOUNT.fullmatch(value[1:]):
            raise error(f"{name} must be greater than zero", field=field)
        raise error(f"{name} {_shown(value)} is not {_EXAMPLE}", field=field)
    whole, decimals = match.group(1), match.group(2) or ""
    if len(decimals) > 2:
        raise error(f"{name} has more than two decimal places", field=field)
    return int(whole) * 100 + int(decimals.ljust(2, "0"))


def to_fen(amount: str | Decimal, *, field: str = "amount", allow_zero: bool = False) -> int:
    """A positive amount in major units (read as `hundredths` reads it) as fen."""
    name = field.rsplit(".", 1)[-1]
    fen = hundredths(amount, field=field)
    if fen == 0 and not allow_zero:
        raise InvalidAmount(f"{name} must be greater than zero", field=field)
    if fen > MAX_FEN:
        raise InvalidAmount(f"{name} is larger than any fund could hold", field=field)
    return fen


def _decimal_text(value: Decimal, name: str, field: str, error) -> str:
    """A Decimal written out in plain digits, once it is known to be short."""
    if not value.is_finite():
        raise error(f"{name} must be a finite number", field=field)
    # Bounded before it is written out: 1E+999999999 has a billion digits.
    if value and value.adjusted() > 20:
        raise error(f"{name} is larger than any fund could hold", field=field)
    if value and value.adjusted() < -20:
        raise error(f"{name} has more than two decimal places", field=field)
    return format(value, "f")


def _shown(text: str) -> str:
    """The refused text, quoted and cut short, for a message."""
    return repr(text if len(text) <= 20 else text[:20] + "…")


def to_decimal(fen: int) -> Decimal:
    """Fen as a Decimal with exactly two places: 12345 -> Decimal('123.45')."""
    # Exact: the fen's digits with the point moved two places (no division, no rounding).
    return Decimal(fen).scaleb(-2)
