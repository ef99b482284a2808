"""Money below the API: integer fen. Conversion from and to Decimal strings lives here."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from ledger.errors import InvalidAmount

FEN_PER_YUAN = 100
# 10^11 yuan: far beyond any community fund, well inside a signed 64-bit integer.
MAX_FEN = 10**11 * FEN_PER_YUAN
SUPPORTED_CURRENCIES = frozenset({"CNY"})


def to_fen(amount: Decimal | str, *, field: str = "amount", allow_zero: bool = False) -> int:
    """Parse a positive major-unit amount with at most two decimals into fen."""
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount(f"{amount!r} is not a decimal amount", field=field) from exc
    if not value.is_finite():
        raise InvalidAmount("amount must be a finite number", field=field)
    if value.as_tuple().exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise InvalidAmount("amount has more than two decimal places", field=field)
    fen = int((value * FEN_PER_YUAN).to_integral_value())
    if fen < 0 or (fen == 0 and not allow_zero):
        raise InvalidAmount("amount must be greater than zero", field=field)
    if fen > MAX_FEN:
        raise InvalidAmount("amount is larger than any fund could hold", field=field)
    return fen


def to_decimal(fen: int) -> Decimal:
    """Fen as a Decimal with exactly two places: 12345 -> Decimal('123.45')."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))
