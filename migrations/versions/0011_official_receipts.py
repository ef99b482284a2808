"""official receipts (公益事业捐赠票据): requests by donors and partners, issued by FINANCE

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "official_receipt_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("donation_id", sa.Integer(), sa.ForeignKey("donations.id"), nullable=False),
        sa.Column("fund_id", sa.Integer(), sa.ForeignKey("funds.id"), nullable=False),
        # REQUESTED, ISSUED or REJECTED
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requester_name", sa.String(100), nullable=False),
        # A resident identity card number or a unified social credit code (USCI).
        sa.Column("requester_id_number", sa.String(18), nullable=False),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("requested_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("official_number", sa.String(64), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.CheckConstraint("email IS NOT NULL OR address IS NOT NULL", name="ck_official_contact"),
        sa.CheckConstraint(
            "(status = 'ISSUED') = (official_number IS NOT NULL AND issued_on IS NOT NULL)",
            name="ck_official_issued",
        ),
    )
    op.create_index(
        "ix_official_receipts_fund_status", "official_receipt_requests", ["fund_id", "status", "id"]
    )
    # One standing request per donation: a rejected one may be asked for again.
    op.create_index(
        "uq_official_receipt_standing",
        "official_receipt_requests",
        ["donation_id"],
        unique=True,
        postgresql_where=sa.text("status <> 'REJECTED'"),
    )


def downgrade() -> None:
    op.drop_table("official_receipt_requests")
