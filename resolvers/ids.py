"""Opaque global IDs: base64url("Type:pk"). Anything else is NOT_FOUND, never a crash."""

from __future__ import annotations

import base64
import binascii

from resolvers.errors import UseCaseError

# Keys are PostgreSQL integers (bigint for journal entries): a larger key names no row,
# and would not even fit the query's parameter.
MAX_KEY = {"JournalEntry": 2**63 - 1}
MAX_INT_KEY = 2**31 - 1


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def to_global_id(type_name: str, pk: int) -> str:
    # base64.urlsafe_b64encode, without its three calls per ID: a list page makes many.
    encoded = binascii.b2a_base64(f"{type_name}:{pk}".encode(), newline=False)
    return encoded.translate(_URLSAFE).rstrip(b"=").decode()


def parse_global_id(value: object) -> tuple[str, int] | None:
    if not isinstance(value, str) or not value or len(value) > 100:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, sep, pk = raw.partition(":")
    # ASCII digits only: str.isdigit also takes "²" (which int() refuses) and "١".
    if not sep or not pk.isascii() or not pk.isdigit() or len(pk) > 18:
        return None
    if len(pk) > 1 and pk[0] == "0":  # one ID per object: "Fund:01" is not "Fund:1"
        return None
    key = int(pk)
    return (type_name, key) if key <= MAX_KEY.get(type_name, MAX_INT_KEY) else None


def decode_id(value: object, type_name: str, *, field: str, what: str | None = None) -> int:
    """The primary key behind a global ID of `type_name`, or NOT_FOUND naming the field."""
    parsed = parse_global_id(value)
    if parsed is None or parsed[0] != type_name:
        raise UseCaseError("NOT_FOUND", f"{what or type_name} not found", field=field)
    return parsed[1]


# The key a global ID that names nothing of the expected type is given: no row has it,
# so the use case answers NOT_FOUND where it looks the row up, after its other checks.
NO_ROW = 0


def key_of(value: object, type_name: str) -> int:
    """The primary key behind a global ID of `type_name`, or NO_ROW."""
    parsed = parse_global_id(value)
    return parsed[1] if parsed is not None and parsed[0] == type_name else NO_ROW


def stored_ref(type_name: str, pk: int) -> str:
    """How idempotency fingerprints name a fund or a disbursement: by its global ID, as
    they did when use cases took global IDs, so that keys stored then stay valid."""
    return to_global_id(type_name, pk)
