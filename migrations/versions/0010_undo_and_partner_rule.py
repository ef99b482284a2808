"""records undone by their own operations; a donation's partner belongs to its fund's area

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each record remembers the entry that undid it (resolvers/undo.py): its status and that
# entry agree, and the audit (resolvers/audit.py) checks they do.
UNDO_COLUMNS = (
    ("donations", "void_entry_id"),
    ("cash_counts", "reversal_entry_id"),
    ("disbursements", "cancel_entry_id"),
    ("statement_imports", "undo_entry_id"),
)


def upgrade() -> None:
    for table, column in UNDO_COLUMNS:
        op.add_column(
            table,
            sa.Column(column, sa.BigInteger(), sa.ForeignKey("journal_entries.id"), nullable=True),
        )
    op.add_column(
        "statement_imports",
        sa.Column("undone_at", db.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column("statement_imports", sa.Column("undone_by", sa.String(64), nullable=True))
    # A partner named on a donation has a partnership with the fund's community, or
    # with a community inside a subdistrict fund's area. Checked by the database, so the
    # one-statement hot path and every other path meet it alike; refused as the rule
    # book refuses (SQLSTATE JL000), naming partnerId.
    op.execute(
        """
        CREATE FUNCTION donations_partner_in_area() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.partner_id IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM funds AS f
                JOIN partnerships AS s ON s.partner_id = NEW.partner_id
                JOIN communities AS c ON c.id = s.community_id
                WHERE f.id = NEW.fund_id
                  AND (c.id = f.community_id OR c.subdistrict_id = f.subdistrict_id)
            ) THEN
                RAISE EXCEPTION USING ERRCODE = 'JL000', DETAIL = 'InvalidEntry',
                    HINT = 'partnerId',
                    MESSAGE = 'the partner has no partnership in this fund''s area';
            END IF;
            RETURN NEW;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER donations_partner_in_area BEFORE INSERT ON donations
        FOR EACH ROW WHEN (NEW.partner_id IS NOT NULL)
        EXECUTE FUNCTION donations_partner_in_area()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER donations_partner_in_area ON donations")
    op.execute("DROP FUNCTION donations_partner_in_area()")
    op.drop_column("statement_imports", "undone_by")
    op.drop_column("statement_imports", "undone_at")
    for table, column in reversed(UNDO_COLUMNS):
        op.drop_column(table, column)
