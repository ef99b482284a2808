"""statement_lines.resolved_from and former_entry_id: what a resolution replaced, so that
reopenStatementLine can put it back

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Lines resolved before this keep NULL: their former status was not kept, and
    # reopenStatementLine refuses them rather than guess it.
    op.add_column("statement_lines", sa.Column("resolved_from", sa.String(16), nullable=True))
    op.add_column(
        "statement_lines",
        sa.Column(
            "former_entry_id", sa.BigInteger(), sa.ForeignKey("journal_entries.id"), nullable=True
        ),
    )


def downgrade() -> None:
    op.drop_column("statement_lines", "former_entry_id")
    op.drop_column("statement_lines", "resolved_from")
