"""Building and checking entries, and their hash. Pure: no I/O."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from ledger.accounts import SIDES, Side
from ledger.errors import InvalidAmount, InvalidEntry, UnbalancedEntry
from ledger.money import MAX_FEN

MAX_MEMO = 500
MAX_RECORDED_BY = 64
MAX_REFERENCE = 100

KINDS = frozenset(
    {
        "manual",
        "donation",
        "refund",
        "settlement",
        "cash_count",
        "deposit",
        "disbursement_approval",
        "disbursement_payment",
        "suspense",
        "close",
        "reversal",
    }
)


@dataclass(frozen=True)
class PostingSpec:
    account_code: str
    side: Side
    amount_fen: int
    currency: str = "CNY"


def validate_draft(
    postings: Sequence[PostingSpec],
    *,
    memo: str,
    recorded_by: str,
    kind: str,
    reference: str | None = None,
) -> None:
    """Refuse a draft that is malformed on its face (before any account is looked at)."""
    if kind not in KINDS:
        raise InvalidEntry(f"unknown entry kind {kind!r}", field="kind")
    if not isinstance(memo, str) or not memo.strip():
        raise InvalidEntry("memo must not be empty", field="memo")
    if len(memo) > MAX_MEMO:
        raise InvalidEntry(f"memo is longer than {MAX_MEMO} characters", field="memo")
    if not isinstance(recorded_by, str) or not recorded_by.strip():
        raise InvalidEntry("recordedBy must not be empty", field="recordedBy")
    if len(recorded_by) > MAX_RECORDED_BY:
        raise InvalidEntry("recordedBy is too long", field="recordedBy")
    if reference is not None and len(reference) > MAX_REFERENCE:
        raise InvalidEntry(
            f"reference is longer than {MAX_REFERENCE} characters", field="reference"
        )
    if len(postings) < 2:
        raise InvalidEntry("an entry needs at least two postings", field="postings")
    net: dict[str, int] = defaultdict(int)
    for posting in postings:
        amount = posting.amount_fen
        # bool is an int subclass; a float or Decimal here means a caller skipped to_fen.
        if type(amount) is not int:
            raise InvalidAmount("amounts are whole fen (int)", field="amount")
        if amount <= 0:
            raise InvalidAmount("amount must be greater than zero", field="amount")
        if amount > MAX_FEN:
            raise InvalidAmount("amount is larger than any fund could hold", field="amount")
        if posting.side not in SIDES:
            raise InvalidEntry(f"side must be DEBIT or CREDIT, not {posting.side!r}", field="side")
        net[posting.currency] += amount if posting.side == "DEBIT" else -amount
    for currency, difference in sorted(net.items()):
        if difference != 0:
            raise UnbalancedEntry(
                f"debits and credits in {currency} differ by {abs(difference)} fen",
                field="postings",
            )


def iso_utc(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: an instant needs an offset")
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """An entry as written: the columns of its journal_entries row (an EntryRow read
    back has the same attributes). A plain value, not an ORM object: the write path
    returns it on every money write, and building an ORM row costs ~30 µs."""

    id: int
    fund_id: int
    sequence: int
    kind: str
    effective_at: datetime
    recorded_at: datetime
    memo: str
    recorded_by: str
    reference: str | None
    reverses_id: int | None
    hash: str
    previous_hash: str | None


def entry_hash(
    *,
    fund_id: int,
    sequence: int,
    effective_at: datetime,
    recorded_at: datetime,
    recorded_by: str,
    memo: str,
    kind: str,
    reference: str | None,
    reverses_id: int | None,
    postings: Sequence[tuple[str, str, int, str]],
    previous_hash: str | None,
) -> str:
    """SHA-256 over a canonical encoding of the entry and its predecessor's hash.

    postings are (account_code, side, amount_fen, currency) in posting order. Any change
    to a hashed field, or to an earlier entry's hash, changes this one.
    """
    frame = hash_frame(
        fund_id=fund_id,
        effective_at=effective_at,
        recorded_at=recorded_at,
        recorded_by=recorded_by,
        memo=memo,
        kind=kind,
        reference=reference,
        reverses_id=reverses_id,
        postings=postings,
    )
    return chain_hash(frame, previous_hash, sequence)


@dataclass(frozen=True, slots=True)
class HashFrame:
    """The canonical encoding of an entry around the two values only the book lock
    knows: everything before `previous_hash`'s value, and everything between it and
    `sequence`'s. The encoding is one JSON object with sorted keys, and those two keys
    sort after all the others but the four of `tail`, so splicing them in gives the
    same bytes as encoding the whole object (tests/ledger/test_pure.py checks it).
    PostgreSQL's ledger_post (migration 0005) splices them the same way."""

    head: bytes  # '{"effective_at":...,"postings":[...],"previous_hash":'
    tail: bytes  # ',"recorded_at":...,"reverses_id":...,"sequence":'


def hash_frame(
    *,
    fund_id: int,
    effective_at: datetime,
    recorded_at: datetime,
    recorded_by: str,
    memo: str,
    kind: str,
    reference: str | None,
    reverses_id: int | None,
    postings: Sequence[tuple[str, str, int, str]],
) -> HashFrame:
    before = orjson.dumps(
        {
            "effective_at": iso_utc(effective_at),
            "fund_id": fund_id,
            "kind": kind,
            "memo": memo,
            "postings": [
                [code, side, amount, currency] for code, side, amount, currency in postings
            ],
        },
        option=orjson.OPT_SORT_KEYS,
    )
    between = orjson.dumps(
        {
            "recorded_at": iso_utc(recorded_at),
            "recorded_by": recorded_by,
            "reference": reference,
            "reverses_id": reverses_id,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return HashFrame(
        head=before[:-1] + b',"previous_hash":',
        tail=b"," + between[1:-1] + b',"sequence":',
    )


def chain_hash(frame: HashFrame, previous_hash: str | None, sequence: int) -> str:
    """The entry's hash, given its frame, its predecessor's hash and its sequence."""
    previous = b"null" if previous_hash is None else b'"' + previous_hash.encode() + b'"'
    return hashlib.sha256(
        frame.head + previous + frame.tail + str(sequence).encode() + b"}"
    ).hexdigest()
