"""verifiable giving: daily Merkle roots, receipts numbered by the database

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import db.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Receipt years follow the funds' calendar (JINLIN_TIMEZONE's default).
RECEIPT_TZ = "Asia/Shanghai"
# 244 random bits from the server's strong generator (gen_random_uuid, PostgreSQL 13+).
SECRET_SQL = "replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')"
NUMBER_SQL = (
    "format('%s-%s-%s', {code}, {year}, lpad({n}::text, greatest(6, length({n}::text)), '0'))"
)


def _tables() -> None:
    op.create_table(
        "daily_roots",
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("first_sequence", sa.BigInteger(), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("tree_size", sa.Integer(), nullable=False),
        sa.Column("merkle_root", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("previous_root", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("root", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("published_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("fund_id", "day"),
    )
    op.create_table(
        "receipt_counters",
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("fund_id", "year"),
    )
    op.create_table(
        "receipts",
        sa.Column("donation_id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["donation_id"], ["donations.id"]),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"]),
        sa.PrimaryKeyConstraint("donation_id"),
        sa.UniqueConstraint("number"),
    )


def _backfill() -> None:
    """Receipts for the donations made before this migration, in the order they were
    recorded, and the counters that continue from them."""
    year = f"extract(year FROM d.created_at AT TIME ZONE '{RECEIPT_TZ}')::int"
    op.execute(
        f"""
        CREATE TEMPORARY TABLE receipts_backfill ON COMMIT DROP AS
        SELECT d.id, d.fund_id, {year} AS year,
               row_number() OVER (PARTITION BY d.fund_id, {year}
                                  ORDER BY d.created_at, d.id) AS n
        FROM donations AS d
        """
    )
    number = NUMBER_SQL.format(code="f.code", year="b.year", n="b.n")
    op.execute(
        f"""
        INSERT INTO receipts (donation_id, fund_id, number, secret)
        SELECT b.id, b.fund_id, {number}, {SECRET_SQL}
        FROM receipts_backfill AS b JOIN funds AS f ON f.id = b.fund_id
        """
    )
    op.execute(
        """
        INSERT INTO receipt_counters (fund_id, year, last_number)
        SELECT fund_id, year, max(n) FROM receipts_backfill GROUP BY fund_id, year
        """
    )
    op.execute("DROP TABLE receipts_backfill")


def _triggers() -> None:
    # The counter row is taken inside the donation's own statement (and so under the
    # fund's book lock): a donation that rolls back takes its number back with it, so
    # numbers have no gaps. AFTER INSERT because the receipt refers to the new row.
    number = NUMBER_SQL.format(code="v_code", year="v_year", n="v_number")
    op.execute(
        f"""
        CREATE FUNCTION jinlin_number_receipt() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE
            v_year integer := extract(year FROM NEW.created_at AT TIME ZONE '{RECEIPT_TZ}');
            v_number integer;
            v_code text;
        BEGIN
            INSERT INTO receipt_counters AS c (fund_id, year, last_number)
            VALUES (NEW.fund_id, v_year, 1)
            ON CONFLICT (fund_id, year) DO UPDATE SET last_number = c.last_number + 1
            RETURNING c.last_number INTO v_number;
            SELECT f.code INTO v_code FROM funds AS f WHERE f.id = NEW.fund_id;
            INSERT INTO receipts (donation_id, fund_id, number, secret)
            VALUES (NEW.id, NEW.fund_id, {number}, {SECRET_SQL});
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER donations_receipt AFTER INSERT ON donations "
        "FOR EACH ROW EXECUTE FUNCTION jinlin_number_receipt()"
    )
    # Published roots and issued receipts never change (the function is 0002's).
    for table in ("daily_roots", "receipts"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION jinlin_journal_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jinlin_journal_append_only()"
        )


def upgrade() -> None:
    _tables()
    _backfill()
    _triggers()


def downgrade() -> None:
    for table in ("daily_roots", "receipts"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    op.execute("DROP TRIGGER IF EXISTS donations_receipt ON donations")
    op.execute("DROP FUNCTION IF EXISTS jinlin_number_receipt()")
    op.drop_table("receipts")
    op.drop_table("receipt_counters")
    op.drop_table("daily_roots")
