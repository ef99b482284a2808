"""The values an entry is made of and written as. Pure: no I/O. (The rules an entry
obeys, and its hash, live in the rule book: ledger/sql/ledger.sql.)"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.accounts import Side


@dataclass(frozen=True)
class PostingSpec:
    account_code: str
    side: Side
    amount_fen: int
    currency: str = "CNY"


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """An entry as written: the columns of its journal_entries row (an EntryRow read
    back has the same attributes). A plain value, not an ORM object: the write path
    returns it on every money write, where building an ORM row would cost more than
    the rest of the conversion."""

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
