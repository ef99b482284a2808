"""ledger: lock a book and read its accounts in one round trip (PostgreSQL)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Superseded by 0006 (the rule book in ledger/sql/), which drops what this made.
    # Kept empty so that the revision chain, and databases already past it, hold.
    pass


def downgrade() -> None:
    pass
