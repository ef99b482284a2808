"""Statement imports and their lines (reconciliation, issue 5).

An import is written once, in the same transaction as the ledger entry it may post;
afterwards only a line's resolution (status, note, resolution columns) and the
import's counters change, in the transaction that resolves the line.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class StatementImportRow(SQLModel, table=True):
    __tablename__ = "statement_imports"
    __table_args__ = (
        Index("ix_statement_imports_fund_source", "fund_id", "source", "id"),
        Index("ix_statement_imports_payout", "fund_id", "payout_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="funds.id")
    # PAYMENT_CHANNEL or BANK
    source: str = Field(max_length=16)
    payout_ref: str | None = Field(default=None, max_length=100)
    imported_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    imported_by: str = Field(max_length=64)
    line_count: int = Field(default=0)
    matched_count: int = Field(default=0)
    unmatched_count: int = Field(default=0)
    discrepancy_count: int = Field(default=0)
    duplicate_count: int = Field(default=0)
    resolved_count: int = Field(default=0)
    # BANK: the last line's running balance.
    closing_balance_fen: int | None = Field(default=None, sa_type=BigInteger)
    # PAYMENT_CHANNEL: the one entry that booked the payout (None when nothing was posted).
    entry_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("journal_entries.id"), nullable=True),
    )
    # Undone (resolvers/undo.py): the payout's reversal, if it had an entry; when, by whom.
    undo_entry_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("journal_entries.id"), nullable=True),
    )
    undone_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    undone_by: str | None = Field(default=None, max_length=64)


class StatementLineRow(SQLModel, table=True):
    __tablename__ = "statement_lines"
    __table_args__ = (
        UniqueConstraint("import_id", "line_no", name="uq_statement_line_no"),
        Index("ix_statement_lines_fund_status", "fund_id", "status"),
        Index("ix_statement_lines_posting", "matched_posting_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="statement_imports.id")
    fund_id: int = Field(foreign_key="funds.id")
    line_no: int
    date: date
    reference: str = Field(max_length=100)
    # Settlement: gross, always positive. Bank: signed, positive is money in.
    amount_fen: int = Field(sa_type=BigInteger)
    fee_fen: int | None = Field(default=None, sa_type=BigInteger)
    balance_fen: int | None = Field(default=None, sa_type=BigInteger)
    # MATCHED, UNMATCHED, DISCREPANCY, DUPLICATE, RESOLVED
    status: str = Field(max_length=16)
    matched_donation_id: int | None = Field(default=None, foreign_key="donations.id")
    matched_entry_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("journal_entries.id"), nullable=True),
    )
    # BANK: the bank posting this line accounts for; a later line on it is DUPLICATE.
    matched_posting_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, ForeignKey("postings.id"), nullable=True)
    )
    note: str | None = Field(default=None, max_length=500)
    # IGNORE or SUSPENSE once resolved
    resolution: str | None = Field(default=None, max_length=16)
    resolved_by: str | None = Field(default=None, max_length=64)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What the resolution replaced, put back by reopenStatementLine: the status
    # (UNMATCHED or DISCREPANCY) and the entry the line was matched to before a SUSPENSE
    # booking took its place. NULL on lines resolved before they were kept.
    resolved_from: str | None = Field(default=None, max_length=16)
    former_entry_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey("journal_entries.id"), nullable=True),
    )
