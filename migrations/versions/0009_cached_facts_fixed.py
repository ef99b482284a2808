"""what recordDonation remembers of funds, campaigns and partners never changes

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# resolvers/donation_rows.py remembers these per process, so that a donation into a
# fund, campaign and partner seen before needs no read: the database refuses to change
# them behind its back. No use case updates them; a fund's status and a campaign's
# name and goal stay free to change.
FIXED_COLUMNS = {
    "funds": ("code", "currency", "community_id"),
    "campaigns": ("fund_id", "starts_at", "ends_at"),
}
UNDELETABLE = ("funds", "campaigns", "partners")


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION jinlin_fixed_fact() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% of % % cannot change: processes remember it',
                lower(TG_OP), TG_TABLE_NAME, OLD.id
                USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
        END
        $$
        """
    )
    for table, columns in FIXED_COLUMNS.items():
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
        op.execute(
            f"CREATE TRIGGER {table}_fixed_facts BEFORE UPDATE OF {', '.join(columns)} "
            f"ON {table} FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION jinlin_fixed_fact()"
        )
    for table in UNDELETABLE:
        op.execute(
            f"CREATE TRIGGER {table}_kept BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION jinlin_fixed_fact()"
        )


def downgrade() -> None:
    for table in UNDELETABLE:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_kept ON {table}")
    for table in FIXED_COLUMNS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_fixed_facts ON {table}")
    op.execute("DROP FUNCTION IF EXISTS jinlin_fixed_fact()")
