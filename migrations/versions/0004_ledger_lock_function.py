"""ledger: lock a book and read its accounts in one round trip (PostgreSQL)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Two statements in one call. The read must come after the lock in its own
    # statement: under READ COMMITTED each statement of a volatile function takes a
    # fresh snapshot, so it sees the balances the previous lock holder committed. (One
    # SELECT ... JOIN ... FOR UPDATE OF the book would re-check only the locked row
    # and return the accounts as they were before the wait.) No row: no such book.
    op.execute(
        """
        CREATE FUNCTION ledger_lock_book(p_fund integer)
        RETURNS TABLE (
            currency text, restricted boolean, last_sequence bigint, last_hash text,
            closed_through date, open_from timestamptz,
            account_id integer, code text, type text, normal_side text,
            account_currency text, guarded boolean, balance_fen bigint
        )
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM 1 FROM ledger_books AS b WHERE b.fund_id = p_fund FOR UPDATE;
            RETURN QUERY
                SELECT b.currency::text, b.restricted, b.last_sequence, b.last_hash::text,
                       b.closed_through, b.open_from,
                       a.id, a.code::text, a.type::text, a.normal_side::text,
                       a.currency::text, a.guarded, a.balance_fen
                FROM ledger_books AS b
                JOIN ledger_accounts AS a ON a.fund_id = b.fund_id
                WHERE b.fund_id = p_fund;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_lock_book(integer)")
