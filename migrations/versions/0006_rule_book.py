"""ledger: the rule book (ledger/sql/ledger.sql) replaces ledger_post and ledger_lock_book

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

from alembic import op

from db.rule_book import apply_rule_book

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The functions of 0004 and 0005 had Python decide reversals, closes and
    # available money; the rule book decides everything, under other signatures.
    op.execute("DROP FUNCTION IF EXISTS ledger_lock_book(integer)")
    op.execute(
        "DROP FUNCTION IF EXISTS ledger_post(integer, text, timestamptz, timestamptz, text,"
        " text, text, text[], text[], bigint[], text[], text, text, text)"
    )
    apply_rule_book(op.get_bind())


def downgrade() -> None:
    raise NotImplementedError("the rule book has no way back: restore a backup instead")
