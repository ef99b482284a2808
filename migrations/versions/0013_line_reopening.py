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
    op.add_column("statement_lines", sa.Column("resolved_from", sa.String(16), nullable=True))
    op.add_column(
        "statement_lines",
        sa.Column(
            "former_entry_id", sa.BigInteger(), sa.ForeignKey("journal_entries.id"), nullable=True
        ),
    )
    # Lines resolved before this, where what they were can be told from what they kept:
    # only a DISCREPANCY names a donation or an entry (an UNMATCHED line names neither),
    # and an IGNORE changed neither.
    op.execute(
        """
        UPDATE statement_lines
        SET resolved_from = CASE WHEN matched_entry_id IS NOT NULL
                                   OR matched_donation_id IS NOT NULL
                                 THEN 'DISCREPANCY' ELSE 'UNMATCHED' END
        WHERE status = 'RESOLVED' AND resolution = 'IGNORE'
        """
    )
    # A SUSPENSE booking replaced the entry; a bank DISCREPANCY that named a donation had
    # that donation's entry. Without a donation it may have been UNMATCHED, or a
    # DISCREPANCY on another entry: left NULL, and reopenStatementLine refuses it rather
    # than guess.
    op.execute(
        """
        UPDATE statement_lines AS l
        SET resolved_from = 'DISCREPANCY', former_entry_id = d.entry_id
        FROM donations AS d
        WHERE l.status = 'RESOLVED' AND l.resolution = 'SUSPENSE'
          AND d.id = l.matched_donation_id
        """
    )


def downgrade() -> None:
    op.drop_column("statement_lines", "former_entry_id")
    op.drop_column("statement_lines", "resolved_from")
