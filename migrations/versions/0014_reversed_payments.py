"""reversed_payments: a disbursement's payment recorded by mistake and taken back by
reverseDisbursementPayment (the payment entry and its reversal, which the disbursement
no longer names once it is APPROVED again)

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reversed_payments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "disbursement_id", sa.Integer(), sa.ForeignKey("disbursements.id"), nullable=False
        ),
        sa.Column("entry_id", sa.BigInteger(), sa.ForeignKey("journal_entries.id"), nullable=False),
        sa.Column(
            "reversal_entry_id",
            sa.BigInteger(),
            sa.ForeignKey("journal_entries.id"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("reversed_by", sa.String(64), nullable=False),
        sa.Column("reversed_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("entry_id", name="uq_reversed_payment_entry"),
    )
    op.create_index(
        "ix_reversed_payments_disbursement_id", "reversed_payments", ["disbursement_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_reversed_payments_disbursement_id", table_name="reversed_payments")
    op.drop_table("reversed_payments")
