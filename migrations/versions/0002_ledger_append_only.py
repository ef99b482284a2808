"""ledger: append-only journal (PostgreSQL triggers), book open_from

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = ("journal_entries", "postings")


def upgrade() -> None:
    # The instant the open period starts, fixed when the period is closed (see BookRow).
    with op.batch_alter_table("ledger_books", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("open_from", db.types.UTCDateTime(timezone=True), nullable=True)
        )

    # Covering index: balance_at sums deltas without visiting the table.
    op.drop_index("ix_postings_account_effective", table_name="postings")
    op.create_index(
        "ix_postings_account_effective",
        "postings",
        ["account_id", "effective_at", "id"],
        postgresql_include=["normal_delta_fen"],
    )
    # The database itself refuses to rewrite history, whatever code path asks.
    op.execute(
        """
        CREATE FUNCTION jinlin_journal_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'journal is append-only'
                USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
        END
        $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION jinlin_journal_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jinlin_journal_append_only()"
        )


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute("DROP FUNCTION IF EXISTS jinlin_journal_append_only()")
    op.drop_index("ix_postings_account_effective", table_name="postings")
    op.create_index(
        "ix_postings_account_effective", "postings", ["account_id", "effective_at", "id"]
    )
    with op.batch_alter_table("ledger_books", schema=None) as batch_op:
        batch_op.drop_column("open_from")
