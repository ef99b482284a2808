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
            n integer := cardinality(p_codes);
            -- The posted accounts, in posting order (NULL where the fund has none).
            v_ids integer[];
            v_currencies text[];
            v_types text[];
            v_normal text[];
            v_balances bigint[];
            v_guarded boolean[];
            v_deltas bigint[] := '{}';
            v_after bigint;
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

            -- The accounts, read once (after the lock: as its last holder left them).
            SELECT array_agg(a.id ORDER BY p.n), array_agg(a.currency::text ORDER BY p.n),
                   array_agg(a.type::text ORDER BY p.n),
                   array_agg(a.normal_side::text ORDER BY p.n),
                   array_agg(a.balance_fen ORDER BY p.n), array_agg(a.guarded ORDER BY p.n)
            INTO v_ids, v_currencies, v_types, v_normal, v_balances, v_guarded
            FROM unnest(p_codes) WITH ORDINALITY AS p(code, n)
            LEFT JOIN ledger_accounts AS a ON a.fund_id = p_fund AND a.code = p.code;

            -- Per posting, in order, the first thing wrong with it (as store._post checks).
            FOR i IN 1..n LOOP
                IF v_ids[i] IS NULL THEN
                    RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                        'InvalidEntry', 'accountCode',
                        format('fund %s has no account %L', p_fund, p_codes[i]);
                    RETURN;
                ELSIF v_currencies[i] <> p_currencies[i] THEN
                    RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                        'CurrencyMismatch', 'currency',
                        format('account %s is kept in %s, not %s',
                               p_codes[i], v_currencies[i], p_currencies[i]);
                    RETURN;
                ELSIF v_types[i] = 'NET_ASSETS' THEN
                    RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                        'InvalidEntry', 'accountCode',
                        format('net assets (%s) move only by period close', p_codes[i]);
                    RETURN;
                END IF;
                v_deltas := v_deltas || CASE WHEN v_normal[i] = p_sides[i]
                                             THEN p_amounts[i] ELSE -p_amounts[i] END;
            END LOOP;

            -- Guards: no guarded account below zero after the entry (an account may
            -- appear in several postings: its balance after all of them).
            FOR i IN 1..n LOOP
                IF v_guarded[i] THEN
                    v_after := v_balances[i];
                    FOR j IN 1..n LOOP
                        IF v_ids[j] = v_ids[i] THEN
                            v_after := v_after + v_deltas[j];
                        END IF;
                    END LOOP;
                    IF v_after < 0 THEN
                        RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::text, NULL::text,
                            'InsufficientFunds', 'amount',
                            format('account %s holds %s fen; this entry would take it to %s',
                                   p_codes[i], v_balances[i], v_after);
                        RETURN;
                    END IF;
                END IF;
            END LOOP;

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
            SELECT v_entry, p.account_id, p.side, p.amount, p.currency, p_effective_at, p.delta
            FROM unnest(v_ids, p_sides, p_amounts, p_currencies, v_deltas)
                     WITH ORDINALITY AS p(account_id, side, amount, currency, delta, n)
            ORDER BY p.n;
            UPDATE ledger_accounts AS a SET balance_fen = a.balance_fen + m.delta
            FROM (
                SELECT p.account_id, sum(p.delta) AS delta
                FROM unnest(v_ids, v_deltas) AS p(account_id, delta)
                GROUP BY p.account_id
            ) AS m
            WHERE a.id = m.account_id AND m.delta <> 0;
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
