"""Ledger storage: per-fund books, accounts, the append-only journal and its postings.

Only ledger/ writes these tables. Journal entries and postings are never updated
or deleted (PostgreSQL refuses it with a trigger); balances and the book head are
the only rows that change, always in the same transaction as the postings.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime

BigId = BigInteger()


class BookRow(SQLModel, table=True):
    """The head of one fund's journal. Every write to the fund locks this row first,
    which serializes the fund's gapless sequence and its hash chain."""

    __tablename__ = "ledger_books"

    fund_id: int = Field(foreign_key="funds.id", primary_key=True)
    currency: str = Field(max_length=3)
    restricted: bool = Field(default=False)
    last_sequence: int = Field(default=0, sa_type=BigInteger)
    last_hash: str | None = Field(default=None, max_length=64)
    # Entries effective on or before the end of this day (fund time zone) are closed.
    closed_through: date | None = Field(default=None)
    # The first instant after closed_through ends in the fund time zone used to close
    # it: kept so that later checks need no time zone and cannot disagree.
    open_from: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AccountRow(SQLModel, table=True):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("fund_id", "code", name="uq_ledger_account_code"),
        CheckConstraint("NOT guarded OR balance_fen >= 0", name="ck_guarded_not_negative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="ledger_books.fund_id", index=True)
    code: str = Field(max_length=16)
    name: str = Field(max_length=100)
    type: str = Field(max_length=16)
    normal_side: str = Field(max_length=6)
    currency: str = Field(max_length=3)
    # Guarded accounts may never go below zero (cash, bank, clearing).
    guarded: bool = Field(default=False)
    # Signed by the normal side: positive is the usual kind of balance.
    balance_fen: int = Field(default=0, sa_type=BigInteger)


class EntryRow(SQLModel, table=True):
    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("fund_id", "sequence", name="uq_journal_sequence"),
        Index("ix_journal_entries_reference", "fund_id", "reference"),
        Index("ix_journal_entries_effective", "fund_id", "effective_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    fund_id: int = Field(foreign_key="ledger_books.fund_id")
    sequence: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=32)
    effective_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    recorded_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    memo: str = Field(max_length=500)
    recorded_by: str = Field(max_length=64)
    # The outside world's reference (bank ref, payout ref) for reconciliation.
    reference: str | None = Field(default=None, max_length=100)
    # Unique: an entry can be reversed once, enforced by the database too.
    reverses_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("journal_entries.id"), unique=True),
    )
    hash: str = Field(max_length=64)
    previous_hash: str | None = Field(default=None, max_length=64)


class PostingRow(SQLModel, table=True):
    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="ck_posting_positive"),
        # balance_at(account, t) sums a range of this index; on PostgreSQL it carries the
        # delta too, so the sum is an index-only scan that never visits the table.
        Index(
            "ix_postings_account_effective",
            "account_id",
            "effective_at",
            "id",
            postgresql_include=["normal_delta_fen"],
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    entry_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("journal_entries.id"), index=True, nullable=False)
    )
    account_id: int = Field(foreign_key="ledger_accounts.id")
    side: str = Field(max_length=6)
    amount_fen: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    # Copied from the entry so balance_at reads one index, not a join.
    effective_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # +amount when the posting moves the account toward its normal side, else -amount.
    normal_delta_fen: int = Field(sa_type=BigInteger)
