"""The table of official receipt requests (公益事业捐赠票据)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime


class OfficialReceiptRow(SQLModel, table=True):
    __tablename__ = "official_receipt_requests"
    __table_args__ = (
        CheckConstraint("email IS NOT NULL OR address IS NOT NULL", name="ck_official_contact"),
        CheckConstraint(
            "(status = 'ISSUED') = (official_number IS NOT NULL AND issued_on IS NOT NULL)",
            name="ck_official_issued",
        ),
        Index("ix_official_receipts_fund_status", "fund_id", "status", "id"),
        Index(
            "uq_official_receipt_standing",
            "donation_id",
            unique=True,
            postgresql_where=text("status <> 'REJECTED'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    donation_id: int = Field(foreign_key="donations.id")
    fund_id: int = Field(foreign_key="funds.id")
    status: str = Field(max_length=16)
    requester_name: str = Field(max_length=100)
    requester_id_number: str = Field(max_length=18)
    email: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    requested_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    requested_by: str = Field(max_length=64)
    official_number: str | None = Field(default=None, max_length=64)
    issued_on: date | None = Field(default=None)
    decided_by: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500)
