"""contributions.campaign_id: volunteer hours given at a campaign, for a partner's totals by campaign

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Only service hours set it: a gift's campaign is its donation's.
    op.add_column(
        "contributions",
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("contributions", "campaign_id")
