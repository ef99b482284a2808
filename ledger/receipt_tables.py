"""Storage for verifiable giving: each fund's published daily roots, and each
donation's receipt (number and the donor's secret) with the per-fund counters that
number them. Migration 0007 makes them; triggers keep published
roots and receipts from ever changing, and number each new donation's receipt."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class DailyRootRow(SQLModel, table=True):
    """The Merkle root of the entries a fund's journal took in one day (fund time
    zone): a contiguous run of sequences, chained to the previous day's root."""

    __tablename__ = "daily_roots"

    fund_id: int = Field(foreign_key="funds.id", primary_key=True)
    day: date = Field(primary_key=True)
    # The run is first_sequence..last_sequence; empty when last < first.
    first_sequence: int = Field(sa_type=BigInteger)
    last_sequence: int = Field(sa_type=BigInteger)
    tree_size: int
    merkle_root: str = Field(max_length=64)
    previous_root: str | None = Field(default=None, max_length=64)
    root: str = Field(max_length=64)
    published_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ReceiptCounterRow(SQLModel, table=True):
    """The last receipt number a fund gave in a year (Asia/Shanghai)."""

    __tablename__ = "receipt_counters"

    fund_id: int = Field(foreign_key="funds.id", primary_key=True)
    year: int = Field(primary_key=True)
    last_number: int


class ReceiptRow(SQLModel, table=True):
    __tablename__ = "receipts"

    donation_id: int = Field(foreign_key="donations.id", primary_key=True)
    fund_id: int = Field(foreign_key="funds.id")
    number: str = Field(max_length=64, unique=True)
    # The donor's link carries it; it is compared, never shown to the public.
    secret: str = Field(max_length=64)
