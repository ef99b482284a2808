"""Table models for everything but the ledger (which owns ledger/tables.py).

These are storage rows, not API types: schema/ maps them explicitly. There are no
ORM relationships on purpose: every relationship is loaded through a DataLoader,
so nothing can lazy-load behind a resolver's back.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.types import UTCDateTime, utcnow


def _created() -> datetime:
    return utcnow()


# ---------------------------------------------------------------- places


class SubdistrictRow(SQLModel, table=True):
    __tablename__ = "subdistricts"
    __table_args__ = (UniqueConstraint("district", "name", name="uq_subdistrict_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    district: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, nullable=False)


class CommunityRow(SQLModel, table=True):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("subdistrict_id", "name", name="uq_community_name"),)

    id: int | None = Field(default=None, primary_key=True)
    subdistrict_id: int = Field(foreign_key="subdistricts.id", index=True)
    name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, nullable=False)


class GridRow(SQLModel, table=True):
    __tablename__ = "grids"
    __table_args__ = (UniqueConstraint("community_id", "name", name="uq_grid_name"),)

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    name: str = Field(max_length=100)


# ---------------------------------------------------------------- partners


class PartnerRow(SQLModel, table=True):
    __tablename__ = "partners"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, index=True)
    kind: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, nullable=False)


class PartnershipRow(SQLModel, table=True):
    __tablename__ = "partnerships"
    __table_args__ = (UniqueConstraint("partner_id", "community_id", name="uq_partnership"),)

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partners.id", index=True)
    community_id: int = Field(foreign_key="communities.id", index=True)
    signed_on: date
    certificate_no: str | None = Field(default=None, max_length=64)
    status: str = Field(default="ACTIVE", max_length=16)


class ContributionRow(SQLModel, table=True):
    """A partner's gift: money or goods (with the donation behind it) or service hours."""

    __tablename__ = "contributions"
    __table_args__ = (Index("ix_contributions_partner_order", "partner_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    partner_id: int = Field(foreign_key="partners.id")
    kind: str = Field(max_length=32)
    value_fen: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    # Hours in hundredths: 1.5 hours is 150. Integers, like money.
    centihours: int | None = Field(default=None)
    description: str = Field(max_length=500)
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    donation_id: int | None = Field(default=None, foreign_key="donations.id", unique=True)
    # Service hours given at a campaign; a gift's campaign is its donation's.
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, nullable=False)


# ---------------------------------------------------------------- people


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)
    # Comma-separated Role names; a closed set checked on the way in.
    roles: str = Field(max_length=128)
    community_id: int | None = Field(default=None, foreign_key="communities.id")
    partner_id: int | None = Field(default=None, foreign_key="partners.id")
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, nullable=False)
    # Bumped by a trigger (migration 0008) when the password, a role, the community or
    # the partner changes: tokens carry it, and older tokens stop working.
    token_version: int = Field(default=0, nullable=False, sa_column_kwargs={"server_default": "0"})


class IdempotencyRow(SQLModel, table=True):
    """What a keyed write produced, stored in the same transaction as the write."""

    __tablename__ = "idempotency_keys"

    key: str = Field(primary_key=True, max_length=200)
    operation: str = Field(max_length=64)
    fingerprint: str = Field(max_length=64)
    result_id: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, nullable=False)


# ---------------------------------------------------------------- funds


class FundRow(SQLModel, table=True):
    __tablename__ = "funds"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=100)
    level: str = Field(max_length=16)
    status: str = Field(default="OPEN", max_length=16)
    host: str = Field(max_length=100)
    community_id: int | None = Field(default=None, foreign_key="communities.id", index=True)
    subdistrict_id: int | None = Field(default=None, foreign_key="subdistricts.id", index=True)
    restricted_purpose: str | None = Field(default=None, max_length=200)
    currency: str = Field(default="CNY", max_length=3)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, nullable=False)


class CampaignRow(SQLModel, table=True):
    __tablename__ = "campaigns"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="funds.id", index=True)
    name: str = Field(max_length=100)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    goal_fen: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, nullable=False)


class DonationRow(SQLModel, table=True):
    __tablename__ = "donations"
    __table_args__ = (
        # ONLINE refs are unique per fund; other channels leave online_ref NULL.
        UniqueConstraint("fund_id", "online_ref", name="uq_donation_online_ref"),
        Index("ix_donations_fund_order", "fund_id", "received_at", "id"),
        Index("ix_donations_campaign", "campaign_id", "status"),
        Index("ix_donations_partner", "partner_id"),
        Index("ix_donations_external_ref", "fund_id", "external_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="funds.id")
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")
    channel: str = Field(max_length=16)
    status: str = Field(max_length=16)
    amount_fen: int = Field(sa_type=BigInteger)
    donor_name: str | None = Field(default=None, max_length=100)
    anonymous: bool = Field(default=False)
    partner_id: int | None = Field(default=None, foreign_key="partners.id")
    external_ref: str | None = Field(default=None, max_length=100)
    online_ref: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    entry_id: int = Field(sa_type=BigInteger, foreign_key="journal_entries.id")
    refund_entry_id: int | None = Field(
        default=None, sa_type=BigInteger, foreign_key="journal_entries.id"
    )
    settled_entry_id: int | None = Field(
        default=None, sa_type=BigInteger, foreign_key="journal_entries.id"
    )
    # The reversal of entry_id that voided the donation (status VOIDED).
    void_entry_id: int | None = Field(
        default=None, sa_type=BigInteger, foreign_key="journal_entries.id"
    )
    recorded_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=_created, sa_type=UTCDateTime, nullable=False)


class CashCountRow(SQLModel, table=True):
    __tablename__ = "cash_counts"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="funds.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id")
    expected_fen: int = Field(sa_type=BigInteger)
    counted_fen: int = Field(sa_type=BigInteger)
    # Names joined with a newline: names may hold commas, never newlines.
    counted_by: str = Field(max_length=1000)
    counted_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    entry_id: int | None = Field(default=None, sa_type=BigInteger, foreign_key="journal_entries.id")
    # The reversal of entry_id when the count was taken back.
    reversal_entry_id: int | None = Field(
        default=None, sa_type=BigInteger, foreign_key="journal_entries.id"
    )


class DisbursementRow(SQLModel, table=True):
    __tablename__ = "disbursements"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="funds.id", index=True)
    amount_fen: int = Field(sa_type=BigInteger)
    payee: str = Field(max_length=100)
    purpose: str = Field(max_length=500)
    status: str = Field(default="REQUESTED", max_length=16)
    requested_by: str = Field(max_length=64)
    approved_by: str | None = Field(default=None, max_length=64)
    requested_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str | None = Field(default=None, max_length=500)
    approve_entry_id: int | None = Field(
        default=None, sa_type=BigInteger, foreign_key="journal_entries.id"
    )
    pay_entry_id: int | None = Field(
        default=None, sa_type=BigInteger, foreign_key="journal_entries.id"
    )
    # The reversal of approve_entry_id when an approved disbursement was cancelled.
    cancel_entry_id: int | None = Field(
        default=None, sa_type=BigInteger, foreign_key="journal_entries.id"
    )


class ReversedPaymentRow(SQLModel, table=True):
    """A disbursement's payment taken back (reverseDisbursementPayment): the payment's
    entry and its reversal. The disbursement is APPROVED again and names neither."""

    __tablename__ = "reversed_payments"
    __table_args__ = (UniqueConstraint("entry_id", name="uq_reversed_payment_entry"),)

    id: int | None = Field(default=None, primary_key=True)
    disbursement_id: int = Field(foreign_key="disbursements.id", index=True)
    entry_id: int = Field(sa_type=BigInteger, foreign_key="journal_entries.id")
    reversal_entry_id: int = Field(sa_type=BigInteger, foreign_key="journal_entries.id")
    reason: str = Field(max_length=400)
    reversed_by: str = Field(max_length=64)
    reversed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
