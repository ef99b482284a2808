-- The ledger's rule book. Every rule a journal entry obeys lives here, once, and every
-- entry (ordinary, reversal, period close) is written by ledger_write below.
--
-- Applied after the migrations by db/migrate.py (`jinlin migrate`), with CREATE OR
-- REPLACE, so this file is re-runnable and reviewed like code; tests check that the
-- database runs this file's text.
--
-- Refusals raise SQLSTATE JL000 with MESSAGE = what is wrong, DETAIL = the refusal
-- (InvalidEntry, InvalidAmount, UnbalancedEntry, CurrencyMismatch, InsufficientFunds,
-- PeriodClosed, InvalidState, NotFound, FundNotOpen) and HINT = the input at fault.
-- Every check runs before the first write, so a refusal writes nothing.
--
-- Locking: a write locks its fund's book row (ledger_books) first and nothing else of
-- the ledger before it, so writers of one fund queue and writers cannot deadlock.
-- Statements after the lock take fresh snapshots (READ COMMITTED, VOLATILE functions),
-- so balances read here are as the last lock holder left them.

CREATE OR REPLACE FUNCTION ledger_refuse(p_refusal text, p_field text, p_message text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'JL000', MESSAGE = p_message, DETAIL = p_refusal,
        HINT = coalesce(p_field, '');
END
$$;


-- ---------------------------------------------------------------- the hash
-- SHA-256 over one JSON object with sorted keys and no spaces. This encoding is fixed
-- for ever: every journal ever written verifies against it (tests/ledger/test_hash.py
-- holds a fixed digest and a reference encoder).

CREATE OR REPLACE FUNCTION ledger_json_instant(p_instant timestamptz)
RETURNS text LANGUAGE sql STABLE STRICT PARALLEL SAFE AS $$
    SELECT to_char(p_instant AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'
$$;

CREATE OR REPLACE FUNCTION ledger_entry_hash(
    p_fund bigint, p_sequence bigint, p_kind text, p_effective_at timestamptz,
    p_recorded_at timestamptz, p_memo text, p_recorded_by text, p_reference text,
    p_reverses bigint, p_codes text[], p_sides text[], p_amounts bigint[],
    p_currencies text[], p_previous_hash text
) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
-- PL/pgSQL rather than SQL: its expressions' plans are kept for the session, where a
-- SQL function with a subquery was planned again on every call (measured: about
-- three times the cost, docs/performance.md).
DECLARE
    v_postings text := '';
BEGIN
    FOR i IN 1..coalesce(cardinality(p_codes), 0) LOOP
        v_postings := v_postings || CASE WHEN i > 1 THEN ',' ELSE '' END
            || '[' || to_json(p_codes[i])::text || ',' || to_json(p_sides[i])::text || ','
            || p_amounts[i] || ',' || to_json(p_currencies[i])::text || ']';
    END LOOP;
    RETURN encode(sha256(convert_to(
        '{"effective_at":"' || ledger_json_instant(p_effective_at)
        || '","fund_id":' || p_fund
        || ',"kind":' || to_json(p_kind)::text
        || ',"memo":' || to_json(p_memo)::text
        || ',"postings":[' || v_postings
        || '],"previous_hash":' || coalesce(to_json(p_previous_hash)::text, 'null')
        || ',"recorded_at":"' || ledger_json_instant(p_recorded_at)
        || '","recorded_by":' || to_json(p_recorded_by)::text
        || ',"reference":' || coalesce(to_json(p_reference)::text, 'null')
        || ',"reverses_id":' || coalesce(p_reverses::text, 'null')
        || ',"sequence":' || p_sequence || '}', 'UTF8')), 'hex');
END
$$;


-- ---------------------------------------------------------------- rules on their face

CREATE OR REPLACE FUNCTION ledger_max_fen() RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 10000000000000::bigint $$;

-- What a fund of each status takes. OPEN: everything. FROZEN: only what finishes
-- business begun before the freeze (settling donations received, refunds, paying
-- approved disbursements) and period close. CLOSED: nothing.
CREATE OR REPLACE FUNCTION ledger_status_takes(p_status text, p_kind text)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_status
        WHEN 'OPEN' THEN true
        WHEN 'FROZEN' THEN p_kind IN ('settlement', 'refund', 'disbursement_payment', 'close')
        ELSE false
    END
$$;

-- Which record operation owns an entry of a kind, for the refusal that names it.
CREATE OR REPLACE FUNCTION ledger_owner_operation(p_kind text)
RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_kind
        WHEN 'donation' THEN 'voidDonation or refundDonation'
        WHEN 'refund' THEN 'the donation''s own operations'
        WHEN 'settlement' THEN 'undoStatementImport'
        WHEN 'cash_count' THEN 'reverseCashCount'
        WHEN 'deposit' THEN 'reverseCashDeposit'
        WHEN 'disbursement_approval' THEN 'cancelDisbursement'
        WHEN 'disbursement_payment' THEN 'reverseDisbursementPayment'
        WHEN 'suspense' THEN 'reopenStatementLine'
        ELSE 'its own operation'
    END
$$;


-- ---------------------------------------------------------------- checks under the lock

-- A reversal: of an entry of the same fund, not a close, not itself a reversal, not
-- reversed already, not in a closed period, not effective before it; an entry made by
-- a business operation only by that operation (p_owner = the entry's kind).
CREATE OR REPLACE FUNCTION ledger_check_reversal(
    p_fund bigint, p_reverses bigint, p_effective_at timestamptz, p_owner text,
    p_open_from timestamptz, p_closed_through date
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v record;
    v_by bigint;
BEGIN
    SELECT e.fund_id, e.kind, e.reverses_id, e.effective_at INTO v
    FROM journal_entries AS e WHERE e.id = p_reverses;
    IF NOT FOUND THEN
        PERFORM ledger_refuse('NotFound', 'reversesId',
                              format('entry %s does not exist', p_reverses));
    ELSIF v.fund_id <> p_fund THEN
        PERFORM ledger_refuse('InvalidEntry', 'reversesId',
                              format('entry %s belongs to another fund', p_reverses));
    ELSIF v.kind = 'close' THEN
        PERFORM ledger_refuse('InvalidState', 'entryId', 'a closing entry cannot be reversed');
    ELSIF v.reverses_id IS NOT NULL THEN
        PERFORM ledger_refuse('InvalidState', 'entryId',
                              'a reversal cannot be reversed; post the correct entry again');
    END IF;
    SELECT e.id INTO v_by FROM journal_entries AS e WHERE e.reverses_id = p_reverses;
    IF FOUND THEN
        PERFORM ledger_refuse('InvalidState', 'entryId',
            format('entry %s was already reversed by entry %s', p_reverses, v_by));
    ELSIF v.kind <> 'manual' AND p_owner IS DISTINCT FROM v.kind THEN
        PERFORM ledger_refuse('InvalidState', 'entryId',
            format('entry %s was made by a %s; undo it with %s', p_reverses,
                   replace(v.kind, '_', ' '), ledger_owner_operation(v.kind)));
    ELSIF p_open_from IS NOT NULL AND v.effective_at < p_open_from THEN
        PERFORM ledger_refuse('PeriodClosed', 'entryId',
            format('entry %s is in a period closed through %s', p_reverses, p_closed_through));
    ELSIF p_effective_at < v.effective_at THEN
        PERFORM ledger_refuse('InvalidEntry', 'effectiveAt',
                              'a reversal cannot be effective before the entry it reverses');
    END IF;
END
$$;

-- A guarded account (cash, bank, clearing, goods) is never below zero at any instant:
-- for one the entry lowers, its lowest balance from the entry's instant on, plus the
-- entry's delta, must not be negative. p_balance is its balance now.
CREATE OR REPLACE FUNCTION ledger_check_guard(
    p_account bigint, p_code text, p_balance bigint, p_delta bigint,
    p_effective_at timestamptz
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_lowest bigint;
BEGIN
    -- Walking back from now, the balance just before each later instant (all of that
    -- instant's postings taken out at once: a balance is as of an instant). The
    -- lowest of those and of the balance now is the lowest from p_effective_at on.
    SELECT least(p_balance, min(before)) INTO v_lowest FROM (
        SELECT p_balance - sum(p.normal_delta_fen) OVER (ORDER BY p.effective_at DESC)
                   AS before
        FROM postings AS p
        WHERE p.account_id = p_account AND p.effective_at > p_effective_at
    ) AS later;
    IF coalesce(v_lowest, p_balance) + p_delta < 0 THEN
        IF coalesce(v_lowest, p_balance) < p_balance THEN
            PERFORM ledger_refuse('InsufficientFunds', 'amount', format(
                'account %s would go below zero after %s: it holds %s fen at its lowest since',
                p_code, ledger_json_instant(p_effective_at), v_lowest));
        END IF;
        PERFORM ledger_refuse('InsufficientFunds', 'amount', format(
            'account %s holds %s fen; this entry would take it to %s',
            p_code, p_balance, p_balance + p_delta));
    END IF;
END
$$;

-- Money that can still be promised (bank + cash on hand, counted or not, - payable) is
-- never below zero after an entry that lowers it.
CREATE OR REPLACE FUNCTION ledger_available_weight(p_code text)
RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN p_code IN ('1001', '1002', '1009.09') THEN 1
                WHEN p_code = '2209.01' THEN -1 ELSE 0 END
$$;

CREATE OR REPLACE FUNCTION ledger_check_available(p_fund bigint, p_change bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_before bigint;
BEGIN
    SELECT coalesce(sum(ledger_available_weight(a.code) * a.balance_fen), 0) INTO v_before
    FROM ledger_accounts AS a WHERE a.fund_id = p_fund;
    IF v_before + p_change < 0 THEN
        PERFORM ledger_refuse('InsufficientFunds', 'amount', format(
            'available money is %s fen; this entry needs %s', v_before, -p_change));
    END IF;
END
$$;


-- ---------------------------------------------------------------- the one write path

-- Folded into ledger_write below (a nested PL/pgSQL call costs a frame and plans of its
-- own on every entry: docs/performance.md).
DROP FUNCTION IF EXISTS ledger_check_draft(text, text, text, text, text[], text[], bigint[],
                                           text[]);
DROP FUNCTION IF EXISTS ledger_lock(bigint, text, timestamptz, bigint, text);
DROP FUNCTION IF EXISTS ledger_check_postings(bigint, text, timestamptz, text[], text[],
                                              bigint[], text[]);

-- The one write path: every entry, of every kind, is written here, in one body and in
-- this order: the draft on its face (before any lock), the fund's book locked and what
-- its status, its closed period and a reversed entry allow, each posting's account,
-- the guards and available money, then the writes. The order is the order of refusals.
CREATE OR REPLACE FUNCTION ledger_write(
    p_fund bigint, p_kind text, p_effective_at timestamptz, p_memo text,
    p_recorded_by text, p_reference text, p_reverses bigint, p_owner text,
    p_codes text[], p_sides text[], p_amounts bigint[], p_currencies text[]
) RETURNS TABLE (
    entry_id bigint, entry_sequence bigint, entry_hash text, entry_previous_hash text,
    entry_recorded_at timestamptz, entry_effective_at timestamptz
) LANGUAGE plpgsql VOLATILE ROWS 1 AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := date_trunc('microseconds', clock_timestamp());
    v_at timestamptz := coalesce(p_effective_at, v_now);
    n integer := coalesce(cardinality(p_codes), 0);
    v_net numeric := 0;
    v_one_currency boolean := true;
    v_unbalanced record;
    v_head record;
    v_status text;
    v record;
    v_account_ids bigint[] := '{}';
    v_deltas bigint[] := '{}';
    v_available bigint := 0;
    v_lowers_guarded boolean := false;
    v_sequence bigint;
    v_hash text;
    v_entry bigint;
BEGIN
    -- ---- the draft on its face: a malformed one is refused before any lock
    IF p_kind IS NULL OR p_kind NOT IN ('manual', 'donation', 'refund', 'settlement',
            'cash_count', 'deposit', 'disbursement_approval', 'disbursement_payment',
            'suspense', 'close', 'reversal') THEN
        PERFORM ledger_refuse('InvalidEntry', 'kind', format('unknown entry kind %L', p_kind));
    ELSIF p_memo IS NULL OR btrim(p_memo) = '' THEN
        PERFORM ledger_refuse('InvalidEntry', 'memo', 'memo must not be empty');
    ELSIF char_length(p_memo) > 500 THEN
        PERFORM ledger_refuse('InvalidEntry', 'memo', 'memo is longer than 500 characters');
    ELSIF p_recorded_by IS NULL OR btrim(p_recorded_by) = '' THEN
        PERFORM ledger_refuse('InvalidEntry', 'recordedBy', 'recordedBy must not be empty');
    ELSIF char_length(p_recorded_by) > 64 THEN
        PERFORM ledger_refuse('InvalidEntry', 'recordedBy', 'recordedBy is too long');
    ELSIF char_length(p_reference) > 100 THEN
        PERFORM ledger_refuse('InvalidEntry', 'reference',
                              'reference is longer than 100 characters');
    ELSIF n < 2 THEN
        PERFORM ledger_refuse('InvalidEntry', 'postings', 'an entry needs at least two postings');
    ELSIF n <> cardinality(p_sides) OR n <> cardinality(p_amounts)
            OR n <> cardinality(p_currencies) THEN
        PERFORM ledger_refuse('InvalidEntry', 'postings', 'postings arrays differ in length');
    END IF;
    FOR i IN 1..n LOOP
        IF p_amounts[i] IS NULL OR p_amounts[i] <= 0 THEN
            PERFORM ledger_refuse('InvalidAmount', 'amount', 'amount must be greater than zero');
        ELSIF p_amounts[i] > ledger_max_fen() THEN
            PERFORM ledger_refuse('InvalidAmount', 'amount',
                                  'amount is larger than any fund could hold');
        ELSIF p_sides[i] IS NULL OR p_sides[i] NOT IN ('DEBIT', 'CREDIT') THEN
            PERFORM ledger_refuse('InvalidEntry', 'side',
                                  format('side must be DEBIT or CREDIT, not %L', p_sides[i]));
        END IF;
        v_net := v_net + CASE WHEN p_sides[i] = 'DEBIT' THEN p_amounts[i] ELSE -p_amounts[i] END;
        v_one_currency := v_one_currency AND p_currencies[i] IS NOT DISTINCT FROM p_currencies[1];
    END LOOP;
    -- One currency (the usual case): the sum of the loop above decides, no query.
    IF v_one_currency THEN
        IF v_net <> 0 THEN
            PERFORM ledger_refuse('UnbalancedEntry', 'postings',
                format('debits and credits in %s differ by %s fen', p_currencies[1], abs(v_net)));
        END IF;
    ELSE
        SELECT cur, abs(sum(CASE WHEN s = 'DEBIT' THEN a ELSE -a END)) AS difference
        INTO v_unbalanced
        FROM unnest(p_sides, p_amounts, p_currencies) AS x(s, a, cur)
        GROUP BY cur HAVING sum(CASE WHEN s = 'DEBIT' THEN a ELSE -a END) <> 0
        ORDER BY cur LIMIT 1;
        IF FOUND THEN
            PERFORM ledger_refuse('UnbalancedEntry', 'postings',
                format('debits and credits in %s differ by %s fen', v_unbalanced.cur,
                       v_unbalanced.difference));
        END IF;
    END IF;
    IF v_at > v_now + interval '5 minutes' THEN
        PERFORM ledger_refuse('InvalidEntry', 'effectiveAt', 'effectiveAt is in the future');
    END IF;

    -- ---- the fund's book locked; its status, closed period and a reversed entry
    SELECT b.last_sequence, b.last_hash, b.closed_through, b.open_from INTO v_head
    FROM ledger_books AS b WHERE b.fund_id = p_fund FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ledger_refuse('NotFound', 'fundId', format('fund %s has no book', p_fund));
    END IF;
    SELECT f.status INTO v_status FROM funds AS f WHERE f.id = p_fund;
    IF NOT ledger_status_takes(v_status, p_kind) THEN
        PERFORM ledger_refuse('FundNotOpen', 'fundId', format(
            'the fund is %s: it takes %s', v_status,
            CASE v_status WHEN 'FROZEN' THEN 'only settlements, refunds and payments of '
                                              'approved disbursements'
                          ELSE 'nothing' END));
    END IF;
    IF v_head.open_from IS NOT NULL AND v_at < v_head.open_from THEN
        PERFORM ledger_refuse('PeriodClosed', 'effectiveAt',
                              format('the books are closed through %s', v_head.closed_through));
    END IF;
    IF p_reverses IS NOT NULL THEN
        PERFORM ledger_check_reversal(p_fund, p_reverses, v_at, p_owner,
                                      v_head.open_from, v_head.closed_through);
    END IF;

    -- ---- each posting's account (present, in the posting's currency, not net assets
    -- unless closing) and its delta on the account's balance. Under the lock: balances
    -- are as its last holder left them.
    FOR v IN
        SELECT p.n, p.code, a.id, a.currency::text AS currency, a.type::text AS type,
               a.normal_side::text AS normal_side, a.guarded
        FROM unnest(p_codes) WITH ORDINALITY AS p(code, n)
        LEFT JOIN ledger_accounts AS a ON a.fund_id = p_fund AND a.code = p.code
        ORDER BY p.n
    LOOP
        IF v.id IS NULL THEN
            PERFORM ledger_refuse('InvalidEntry', 'accountCode',
                                  format('fund %s has no account %L', p_fund, v.code));
        ELSIF v.currency <> p_currencies[v.n] THEN
            PERFORM ledger_refuse('CurrencyMismatch', 'currency', format(
                'account %s is kept in %s, not %s', v.code, v.currency, p_currencies[v.n]));
        ELSIF v.type = 'NET_ASSETS' AND p_kind <> 'close' THEN
            PERFORM ledger_refuse('InvalidEntry', 'accountCode',
                                  format('net assets (%s) move only by period close', v.code));
        END IF;
        v_account_ids := v_account_ids || v.id;
        v_deltas := v_deltas || CASE WHEN v.normal_side = p_sides[v.n]
                                     THEN p_amounts[v.n] ELSE -p_amounts[v.n] END;
        v_available := v_available + ledger_available_weight(v.code) * v_deltas[v.n];
        v_lowers_guarded := v_lowers_guarded OR (v.guarded AND v_deltas[v.n] < 0);
    END LOOP;
    -- Guards, per guarded account the entry lowers (one may appear in several postings);
    -- most gifts lower none, and skip the query.
    IF v_lowers_guarded THEN
        FOR v IN
            SELECT a.id, a.code::text AS code, a.balance_fen, m.delta
            FROM (SELECT p.id, sum(p.delta)::bigint AS delta
                  FROM unnest(v_account_ids, v_deltas) AS p(id, delta) GROUP BY p.id) AS m
            JOIN ledger_accounts AS a ON a.id = m.id
            WHERE a.guarded AND m.delta < 0
        LOOP
            PERFORM ledger_check_guard(v.id, v.code, v.balance_fen, v.delta, v_at);
        END LOOP;
    END IF;
    IF v_available < 0 AND p_kind <> 'close' THEN
        PERFORM ledger_check_available(p_fund, v_available);
    END IF;

    -- ---- the writes
    v_sequence := v_head.last_sequence + 1;
    v_hash := ledger_entry_hash(p_fund, v_sequence, p_kind, v_at, v_now, p_memo,
                                p_recorded_by, p_reference, p_reverses, p_codes, p_sides,
                                p_amounts, p_currencies, v_head.last_hash);
    INSERT INTO journal_entries (fund_id, sequence, kind, effective_at, recorded_at, memo,
                                 recorded_by, reference, reverses_id, hash, previous_hash)
    VALUES (p_fund, v_sequence, p_kind, v_at, v_now, p_memo, p_recorded_by, p_reference,
            p_reverses, v_hash, v_head.last_hash)
    RETURNING id INTO v_entry;
    -- Postings keep their order (ids follow the ordinality): the hash covers it.
    INSERT INTO postings (entry_id, account_id, side, amount_fen, currency, effective_at,
                          normal_delta_fen)
    SELECT v_entry, p.account_id, p.side, p.amount, p.currency, v_at, p.delta
    FROM unnest(v_account_ids, p_sides, p_amounts, p_currencies, v_deltas)
             WITH ORDINALITY AS p(account_id, side, amount, currency, delta, n)
    ORDER BY p.n;
    UPDATE ledger_accounts AS a SET balance_fen = a.balance_fen + m.delta
    FROM (SELECT p.account_id, sum(p.delta) AS delta
          FROM unnest(v_account_ids, v_deltas) AS p(account_id, delta)
          GROUP BY p.account_id) AS m
    WHERE a.id = m.account_id AND m.delta <> 0;
    -- The new head is announced to every worker after the commit by the caller's unit
    -- of work (db/announce.py), not by a NOTIFY here: PostgreSQL serialises the commits
    -- of all transactions that notify, which cost the writes much of their rate.
    UPDATE ledger_books SET last_sequence = v_sequence, last_hash = v_hash
    WHERE fund_id = p_fund;
    RETURN QUERY SELECT v_entry, v_sequence, v_hash, v_head.last_hash::text, v_now, v_at;
END
$$;


-- ---------------------------------------------------------------- the three ways in

-- Each returns one row (ledger_close none when there was nothing to move): ROWS 1 says
-- so to the planner, which then keeps one generic plan for a caller's prepared
-- statement around the call (db/donations.py) instead of planning it on every call.

-- An ordinary entry (every kind but reversal and close).
CREATE OR REPLACE FUNCTION ledger_post(
    p_fund bigint, p_kind text, p_effective_at timestamptz, p_memo text,
    p_recorded_by text, p_reference text,
    p_codes text[], p_sides text[], p_amounts bigint[], p_currencies text[]
) RETURNS TABLE (
    entry_id bigint, entry_sequence bigint, entry_hash text, entry_previous_hash text,
    entry_recorded_at timestamptz, entry_effective_at timestamptz
) LANGUAGE plpgsql VOLATILE ROWS 1 AS $$
BEGIN
    IF p_kind IN ('close', 'reversal') THEN
        PERFORM ledger_refuse('InvalidEntry', 'kind', format(
            'a %s entry is written by ledger_%s', p_kind,
            CASE p_kind WHEN 'close' THEN 'close' ELSE 'reverse' END));
    END IF;
    RETURN QUERY SELECT * FROM ledger_write(p_fund, p_kind, p_effective_at, p_memo,
        p_recorded_by, p_reference, NULL, NULL, p_codes, p_sides, p_amounts, p_currencies);
END
$$;

-- The mirror image of an entry (sides swapped), linked to it. p_owner: the kind of
-- entry the calling record operation owns (NULL for a manual reversal).
CREATE OR REPLACE FUNCTION ledger_reverse(
    p_entry bigint, p_memo text, p_recorded_by text, p_effective_at timestamptz,
    p_owner text
) RETURNS TABLE (
    entry_id bigint, entry_sequence bigint, entry_hash text, entry_previous_hash text,
    entry_recorded_at timestamptz, entry_effective_at timestamptz
) LANGUAGE plpgsql VOLATILE ROWS 1 AS $$
DECLARE
    v_fund bigint;
    v_codes text[];
    v_sides text[];
    v_amounts bigint[];
    v_currencies text[];
BEGIN
    -- Entries never change: reading the original before the lock is safe.
    SELECT e.fund_id INTO v_fund FROM journal_entries AS e WHERE e.id = p_entry;
    IF NOT FOUND THEN
        PERFORM ledger_refuse('NotFound', 'entryId', format('entry %s does not exist', p_entry));
    END IF;
    SELECT array_agg(a.code::text ORDER BY p.id),
           array_agg(CASE p.side WHEN 'DEBIT' THEN 'CREDIT' ELSE 'DEBIT' END ORDER BY p.id),
           array_agg(p.amount_fen ORDER BY p.id), array_agg(p.currency::text ORDER BY p.id)
    INTO v_codes, v_sides, v_amounts, v_currencies
    FROM postings AS p JOIN ledger_accounts AS a ON a.id = p.account_id
    WHERE p.entry_id = p_entry;
    RETURN QUERY SELECT * FROM ledger_write(v_fund, 'reversal', p_effective_at, p_memo,
        p_recorded_by, NULL, p_entry, p_owner, v_codes, v_sides, v_amounts, v_currencies);
END
$$;

-- Close the books through p_through (a day that ended at p_open_from in the fund's
-- time zone): every income and expense balance as of the last instant of that day
-- moves into net assets (3102 for a restricted book, else 3101), and from then on
-- nothing may be dated on or before that day. No row when there was nothing to move.
CREATE OR REPLACE FUNCTION ledger_close(
    p_fund bigint, p_through date, p_open_from timestamptz, p_recorded_by text
) RETURNS TABLE (
    entry_id bigint, entry_sequence bigint, entry_hash text, entry_previous_hash text,
    entry_recorded_at timestamptz, entry_effective_at timestamptz
) LANGUAGE plpgsql VOLATILE ROWS 1 AS $$
DECLARE
    v_book record;
    v_at timestamptz := p_open_from - interval '1 microsecond';
    v_codes text[];
    v_sides text[];
    v_amounts bigint[];
    v_net bigint;
BEGIN
    SELECT b.currency, b.restricted, b.closed_through INTO v_book
    FROM ledger_books AS b WHERE b.fund_id = p_fund FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM ledger_refuse('NotFound', 'fundId', format('fund %s has no book', p_fund));
    ELSIF v_book.closed_through IS NOT NULL AND p_through <= v_book.closed_through THEN
        PERFORM ledger_refuse('InvalidState', 'through',
            format('the books are already closed through %s', v_book.closed_through));
    ELSIF p_open_from > clock_timestamp() THEN
        PERFORM ledger_refuse('InvalidState', 'through',
                              format('%s has not ended yet', p_through));
    END IF;
    -- Income (credit-normal) closes by a debit, expense by a credit; a balance of the
    -- unusual sign by the other side. Net is what net assets are credited.
    SELECT array_agg(code ORDER BY code),
           array_agg(CASE WHEN (type = 'INCOME') = (balance > 0) THEN 'DEBIT' ELSE 'CREDIT' END
                     ORDER BY code),
           array_agg(abs(balance) ORDER BY code),
           sum(CASE type WHEN 'INCOME' THEN balance ELSE -balance END)
    INTO v_codes, v_sides, v_amounts, v_net
    FROM (
        SELECT a.code::text AS code, a.type::text AS type,
               a.balance_fen - coalesce((SELECT sum(p.normal_delta_fen) FROM postings AS p
                                         WHERE p.account_id = a.id AND p.effective_at > v_at),
                                        0) AS balance
        FROM ledger_accounts AS a
        WHERE a.fund_id = p_fund AND a.type IN ('INCOME', 'EXPENSE')
    ) AS balances
    WHERE balance <> 0;
    IF v_net IS NOT NULL AND v_net <> 0 THEN
        v_codes := v_codes || CASE WHEN v_book.restricted THEN '3102' ELSE '3101' END;
        v_sides := v_sides || CASE WHEN v_net > 0 THEN 'CREDIT' ELSE 'DEBIT' END;
        v_amounts := v_amounts || abs(v_net);
    END IF;
    IF v_codes IS NOT NULL THEN
        RETURN QUERY SELECT * FROM ledger_write(p_fund, 'close', v_at,
            'Period close through ' || to_char(p_through, 'YYYY-MM-DD'), p_recorded_by, NULL,
            NULL, NULL, v_codes, v_sides, v_amounts,
            array_fill(v_book.currency::text, ARRAY[cardinality(v_codes)]));
    ELSE
        -- Nothing to move: the status rule still applies to the close itself.
        PERFORM 1 FROM funds AS f
        WHERE f.id = p_fund AND NOT ledger_status_takes(f.status, 'close');
        IF FOUND THEN
            PERFORM ledger_refuse('FundNotOpen', 'fundId', 'the fund is CLOSED: it takes nothing');
        END IF;
    END IF;
    UPDATE ledger_books SET closed_through = p_through, open_from = p_open_from
    WHERE fund_id = p_fund;
END
$$;
