"""ledger: post an entry in one statement (PostgreSQL)

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # ledger/store.py prepares the entry (checks the draft, encodes everything the hash
    # covers except the two values only the lock knows); this function does what must
    # happen under the fund's book lock, inside the database, so that the lock is held
    # for the length of one statement rather than across round trips to the server:
    # lock the book, check the accounts (present, currency, net assets, guards), take
    # the next sequence and chain the hash, then write the entry, its postings, the
    # balances and the head. A refusal writes nothing and comes back as a row (kind,
    # field, message) rather than an error, so a caller's transaction stays usable.
    #
    # Statements after the lock take fresh snapshots (READ COMMITTED, VOLATILE), so the
    # accounts and the fund's status read here are as the last lock holder left them;
    # the locked book row itself is re-read by FOR UPDATE.
    op.execute(
        """
        CREATE FUNCTION ledger_post(
            p_fund integer, p_kind text, p_effective_at timestamptz,
            p_recorded_at timestamptz, p_memo text, p_recorded_by text, p_reference text,
            p_codes text[], p_sides text[], p_amounts bigint[], p_currencies text[],
            p_hash_head text, p_hash_tail text, p_fund_status text
        )
        RETURNS TABLE (
            entry_id bigint, entry_sequence bigint, entry_hash text, entry_previous_hash text,
            refusal text, refusal_field text, refusal_message text
        )
        LANGUAGE plpgsql VOLATILE AS $$
        #variable_conflict use_column
        DECLARE
            v_sequence bigint;
            v_last_hash text;
            v_closed_through date;
            v_open_from timestamptz;
            v_status text;
            v_hash text;
            v_entry bigint;
            v_bad record;
        BEGIN
            SELECT b.last_sequence, b.last_hash, b.closed_through, b.open_from
            INTO v_sequence, v_last_hash, v_closed_through, v_open_from
            FROM ledger_books AS b WHERE b.fund_id = p_fund FOR UPDATE;
            IF NOT FOUND THEN
                RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                    'NotFound', 'fundId', format('fund %s has no book', p_fund);
                RETURN;
            END IF;
            IF p_fund_status IS NOT NULL THEN
                SELECT f.status INTO v_status FROM funds AS f WHERE f.id = p_fund;
                IF v_status IS DISTINCT FROM p_fund_status THEN
                    RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                        'FundStatus', 'fundId', v_status;
                    RETURN;
                END IF;
            END IF;
            IF v_open_from IS NOT NULL AND p_effective_at < v_open_from THEN
                RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                    'PeriodClosed', 'effectiveAt',
                    format('the books are closed through %s', v_closed_through);
                RETURN;
            END IF;

            -- Per posting, in order, the first thing wrong with it (as store._post checks).
            SELECT p.code, a.id AS account_id, a.currency, p.currency AS wanted, a.type
            INTO v_bad
            FROM unnest(p_codes, p_currencies) WITH ORDINALITY AS p(code, currency, n)
            LEFT JOIN ledger_accounts AS a ON a.fund_id = p_fund AND a.code = p.code
            WHERE a.id IS NULL OR a.currency <> p.currency OR a.type = 'NET_ASSETS'
            ORDER BY p.n LIMIT 1;
            IF FOUND THEN
                IF v_bad.account_id IS NULL THEN
                    RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                        'InvalidEntry', 'accountCode',
                        format('fund %s has no account %L', p_fund, v_bad.code);
                ELSIF v_bad.currency <> v_bad.wanted THEN
                    RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                        'CurrencyMismatch', 'currency',
                        format('account %s is kept in %s, not %s',
                               v_bad.code, v_bad.currency, v_bad.wanted);
                ELSE
                    RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                        'InvalidEntry', 'accountCode',
                        format('net assets (%s) move only by period close', v_bad.code);
                END IF;
                RETURN;
            END IF;

            -- Guards: no guarded account below zero after the entry.
            SELECT a.code, a.balance_fen AS balance, a.balance_fen + m.delta AS after
            INTO v_bad
            FROM (
                SELECT a.id, sum(CASE WHEN a.normal_side = p.side THEN p.amount
                                      ELSE -p.amount END) AS delta
                FROM unnest(p_codes, p_sides, p_amounts) AS p(code, side, amount)
                JOIN ledger_accounts AS a ON a.fund_id = p_fund AND a.code = p.code
                GROUP BY a.id
            ) AS m
            JOIN ledger_accounts AS a ON a.id = m.id
            WHERE a.guarded AND a.balance_fen + m.delta < 0
            ORDER BY a.code LIMIT 1;
            IF FOUND THEN
                RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                    'InsufficientFunds', 'amount',
                    format('account %s holds %s fen; this entry would take it to %s',
                           v_bad.code, v_bad.balance, v_bad.after);
                RETURN;
            END IF;

            v_sequence := v_sequence + 1;
            v_hash := encode(sha256(convert_to(
                p_hash_head
                || coalesce('"' || v_last_hash || '"', 'null')
                || p_hash_tail || v_sequence::text || '}', 'UTF8')), 'hex');
            INSERT INTO journal_entries (fund_id, sequence, kind, effective_at, recorded_at,
                                         memo, recorded_by, reference, reverses_id, hash,
                                         previous_hash)
            VALUES (p_fund, v_sequence, p_kind, p_effective_at, p_recorded_at, p_memo,
                    p_recorded_by, p_reference, NULL, v_hash, v_last_hash)
            RETURNING id INTO v_entry;
            -- Postings keep their order (ids follow the ordinality): the hash covers it.
            INSERT INTO postings (entry_id, account_id, side, amount_fen, currency,
                                  effective_at, normal_delta_fen)
            SELECT v_entry, a.id, p.side, p.amount, p.currency, p_effective_at,
                   CASE WHEN a.normal_side = p.side THEN p.amount ELSE -p.amount END
            FROM unnest(p_codes, p_sides, p_amounts, p_currencies)
                     WITH ORDINALITY AS p(code, side, amount, currency, n)
            JOIN ledger_accounts AS a ON a.fund_id = p_fund AND a.code = p.code
            ORDER BY p.n;
            UPDATE ledger_accounts AS a SET balance_fen = a.balance_fen + m.delta
            FROM (
                SELECT p.code, sum(CASE WHEN x.normal_side = p.side THEN p.amount
                                        ELSE -p.amount END) AS delta
                FROM unnest(p_codes, p_sides, p_amounts) AS p(code, side, amount)
                JOIN ledger_accounts AS x ON x.fund_id = p_fund AND x.code = p.code
                GROUP BY p.code
            ) AS m
            WHERE a.fund_id = p_fund AND a.code = m.code AND m.delta <> 0;
            UPDATE ledger_books SET last_sequence = v_sequence, last_hash = v_hash
            WHERE fund_id = p_fund;
            RETURN QUERY SELECT v_entry, v_sequence, v_hash, v_last_hash,
                NULL::text, NULL::text, NULL::text;
        END
        $$
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS ledger_post(integer, text, timestamptz, timestamptz, text,"
            " text, text, text[], text[], bigint[], text[], text, text, text)"
        )
