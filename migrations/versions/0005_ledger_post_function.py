"""ledger: post an entry in one statement (PostgreSQL)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Superseded by 0006 (the rule book in ledger/sql/), which drops what this made.
    # Kept empty so that the revision chain, and databases already past it, hold.
    pass


def downgrade() -> None:
    pass
