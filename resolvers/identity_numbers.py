"""Checking the identity numbers a receipt request carries: a resident identity card
number (GB 11643) or a unified social credit code (GB 32100). Pure."""

from __future__ import annotations

from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCI_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCI_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_ok(number: str) -> bool:
    """18 characters: a birth date that exists, digits, and the ISO 7064 check."""
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return number[17] == _ID_CHECK[total % 11]


def usci_ok(code: str) -> bool:
    """18 characters of the code's alphabet with its mod-31 check character."""
    if len(code) != 18 or any(c not in _USCI_CHARS for c in code):
        return False
    total = sum(_USCI_CHARS.index(c) * w for c, w in zip(code[:17], _USCI_WEIGHTS, strict=True))
    return code[17] == _USCI_CHARS[(31 - total % 31) % 31]


def normalised(number: str) -> str | None:
    """The number upper-cased if it is either kind, else None."""
    number = number.strip().upper()
    return number if resident_id_ok(number) or usci_ok(number) else None
