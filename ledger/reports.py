"""What the ledger reports: balances now and at an instant, trial balance, statement,
and the journal's own verification. Reads only; never takes the write lock except
verify_journal, which holds the book in share mode so it sees one consistent state."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.accounts import EXPENSE_CODES, INCOME_CODES
from ledger.errors import InvalidEntry, NotFound
from ledger.tables import AccountRow, BookRow, EntryRow, PostingRow

BOOKS = BookRow.__table__
ACCOUNTS = AccountRow.__table__
ENTRIES = EntryRow.__table__
POSTINGS = PostingRow.__table__


# ---------------------------------------------------------------- balances


def _sums_through(at: datetime):
    """Per account: the sum of its postings effective at or before `at`."""
    return (
        select(POSTINGS.c.account_id, func.sum(POSTINGS.c.normal_delta_fen).label("total"))
        .where(POSTINGS.c.effective_at <= _instant(at))
        .group_by(POSTINGS.c.account_id)
    )


async def balances_at(
    session: AsyncSession, fund_ids: Sequence[int], at: datetime
) -> dict[int, dict[str, int]]:
    """Balances by fund and code as of `at` (postings effective at or before it), one query."""
    result: dict[int, dict[str, int]] = {fund_id: {} for fund_id in fund_ids}
    if not fund_ids:
        return result
    conn = await session.connection()
    sums = (
        _sums_through(at)
        .where(
            POSTINGS.c.account_id.in_(
                select(ACCOUNTS.c.id).where(ACCOUNTS.c.fund_id.in_(list(fund_ids)))
            )
        )
        .subquery()
    )
    rows = await conn.execute(
        select(ACCOUNTS.c.fund_id, ACCOUNTS.c.code, func.coalesce(sums.c.total, 0))
        .select_from(ACCOUNTS.outerjoin(sums, sums.c.account_id == ACCOUNTS.c.id))
        .where(ACCOUNTS.c.fund_id.in_(list(fund_ids)))
    )
    for fund_id, code, balance in rows:
        result[fund_id][code] = int(balance)
    return result


async def balance_at(session: AsyncSession, account_id: int, at: datetime) -> int:
    """One account's balance as of `at`, from its postings.

    Sums whichever side of `at` is likely shorter (judged by time, between the
    account's first and last posting): the postings up to `at`, or the stored
    balance less the postings after it. Both are ranges of one covering index.
    """
    at = _instant(at)
    conn = await session.connection()
    p = POSTINGS
    row = (
        await conn.execute(
            select(
                ACCOUNTS.c.balance_fen,
                select(func.min(p.c.effective_at))
                .where(p.c.account_id == account_id)
                .scalar_subquery(),
                select(func.max(p.c.effective_at))
                .where(p.c.account_id == account_id)
                .scalar_subquery(),
            ).where(ACCOUNTS.c.id == account_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"account {account_id} does not exist", field="accountId")
    stored, first, last = row
    if first is None or at < first:
        return 0
    if at >= last:
        return stored
    total = func.coalesce(func.sum(p.c.normal_delta_fen), 0)
    if at - first <= last - at:
        return int(
            await conn.scalar(
                select(total).where(p.c.account_id == account_id, p.c.effective_at <= at)
            )
        )
    later = await conn.scalar(
        select(total).where(p.c.account_id == account_id, p.c.effective_at > at)
    )
    return stored - int(later)


# ---------------------------------------------------------------- trial balance


@dataclass(frozen=True)
class TrialBalanceLine:
    account_id: int
    code: str
    name: str
    type: str
    debit_fen: int
    credit_fen: int


@dataclass(frozen=True)
class TrialBalance:
    at: datetime | None
    lines: list[TrialBalanceLine]
    total_debit: int
    total_credit: int
    balanced: bool


async def trial_balance(
    session: AsyncSession, fund_id: int, at: datetime | None = None
) -> TrialBalance:
    """Every account of the fund with its net balance in the debit or credit column,
    from stored balances (at=None) or from the postings as of `at`."""
    conn = await session.connection()
    if at is None:
        balance = ACCOUNTS.c.balance_fen
        source = ACCOUNTS
    else:
        sums = (
            _sums_through(at)
            .where(
                POSTINGS.c.account_id.in_(
                    select(ACCOUNTS.c.id).where(ACCOUNTS.c.fund_id == fund_id)
                )
            )
            .subquery()
        )
        balance = func.coalesce(sums.c.total, 0)
        source = ACCOUNTS.outerjoin(sums, sums.c.account_id == ACCOUNTS.c.id)
    rows = (
        await conn.execute(
            select(
                ACCOUNTS.c.id,
                ACCOUNTS.c.code,
                ACCOUNTS.c.name,
                ACCOUNTS.c.type,
                ACCOUNTS.c.normal_side,
                balance,
            )
            .select_from(source)
            .where(ACCOUNTS.c.fund_id == fund_id)
            .order_by(ACCOUNTS.c.code)
        )
    ).all()
    if not rows:
        raise NotFound(f"fund {fund_id} has no book", field="fundId")
    return build_trial_balance(at, rows)


def build_trial_balance(at: datetime | None, rows) -> TrialBalance:
    """The trial balance of accounts given as (id, code, name, type, normal side,
    balance signed by the normal side) rows, ordered by code. Pure, so callers that
    already hold balances (a DataLoader for many funds) need no query of their own."""
    lines = []
    for account_id, code, name, type_, normal_side, signed in rows:
        # Positive is the normal side's kind of balance; a contra balance goes on the other.
        debit_balance = int(signed) if normal_side == "DEBIT" else -int(signed)
        lines.append(
            TrialBalanceLine(
                account_id=account_id,
                code=code,
                name=name,
                type=type_,
                debit_fen=max(debit_balance, 0),
                credit_fen=max(-debit_balance, 0),
            )
        )
    total_debit = sum(line.debit_fen for line in lines)
    total_credit = sum(line.credit_fen for line in lines)
    return TrialBalance(
        at=at,
        lines=lines,
        total_debit=total_debit,
        total_credit=total_credit,
        balanced=total_debit == total_credit,
    )


# ---------------------------------------------------------------- statement


@dataclass(frozen=True)
class Statement:
    from_date: date
    to_date: date
    opening: int
    donations_online: int
    donations_offline: int
    donations_in_kind: int
    refunds: int
    disbursements: int
    fees: int
    other_costs: int
    closing: int

    @property
    def donations(self) -> int:
        return self.donations_online + self.donations_offline + self.donations_in_kind


async def statement(
    session: AsyncSession, fund_id: int, from_date: date, to_date: date, tz: ZoneInfo
) -> Statement:
    """Net assets (assets − liabilities) at the start of from_date and the end of
    to_date (whole days in tz), and the flows between them.

    closing = opening + donations − refunds − disbursements − fees − other_costs holds
    exactly: every entry balances, only period close touches net assets (and it moves
    no asset or liability), and every income and expense account is counted below.
    A reversal counts under the kind of the entry it reverses (a reversed refund
    lowers refunds).
    """
    if to_date < from_date:
        raise InvalidEntry("the statement ends before it starts", field="toDate")
    start = datetime.combine(from_date, time(0), tzinfo=tz)
    end = datetime.combine(to_date + timedelta(days=1), time(0), tzinfo=tz)
    original = ENTRIES.alias("original")
    is_refund = or_(
        ENTRIES.c.kind == "refund",
        and_(ENTRIES.c.kind == "reversal", original.c.kind == "refund"),
    )
    klass = case(
        (ENTRIES.c.kind == "close", literal("close")),
        (is_refund, literal("refund")),
        else_=literal("other"),
    ).label("klass")
    p = POSTINGS
    rows = await (await session.connection()).execute(
        select(
            ACCOUNTS.c.code,
            ACCOUNTS.c.type,
            klass,
            func.sum(case((p.c.effective_at < _instant(start), p.c.normal_delta_fen), else_=0)),
            func.sum(case((p.c.effective_at >= _instant(start), p.c.normal_delta_fen), else_=0)),
        )
        .select_from(
            p.join(ACCOUNTS, ACCOUNTS.c.id == p.c.account_id)
            .join(ENTRIES, ENTRIES.c.id == p.c.entry_id)
            .outerjoin(original, original.c.id == ENTRIES.c.reverses_id)
        )
        .where(ACCOUNTS.c.fund_id == fund_id, p.c.effective_at < _instant(end))
        .group_by(ACCOUNTS.c.code, ACCOUNTS.c.type, klass)
    )
    opening = 0
    moved = 0  # change of assets − liabilities over the range
    flows: dict[tuple[str, str], int] = defaultdict(int)  # (code, klass) -> normal-signed flow
    for code, type_, klass_, before, during in rows:
        sign = {"ASSET": 1, "LIABILITY": -1}.get(type_, 0)
        opening += sign * int(before)
        moved += sign * int(during)
        flows[(code, klass_)] += int(during)

    def credit(code: str) -> int:  # net credit on an income account, closes excluded
        return flows[(code, "other")]

    income_online, income_offline, income_in_kind = INCOME_CODES
    return Statement(
        from_date=from_date,
        to_date=to_date,
        opening=opening,
        donations_online=credit(income_online),
        donations_offline=credit(income_offline),
        donations_in_kind=credit(income_in_kind),
        refunds=-sum(flows[(code, "refund")] for code in INCOME_CODES),
        disbursements=_net_debit(flows, "5101"),
        fees=_net_debit(flows, "5301"),
        other_costs=_net_debit(flows, "5201") + _net_debit(flows, "5401"),
        closing=opening + moved,
    )


def _net_debit(flows: dict[tuple[str, str], int], code: str) -> int:
    assert code in EXPENSE_CODES
    # Expenses are debit-normal; a refund entry never touches them, but sum all but closes.
    return flows[(code, "other")] + flows[(code, "refund")]


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries_checked: int
    first_broken_entry_id: int | None
    # Missing sequence numbers as inclusive (first, last) ranges.
    sequence_gaps: list[tuple[int, int]]
    # (code, stored, computed from the postings' sides and amounts)
    balance_mismatches: list[tuple[str, int, int]]
    # Postings whose normal_delta_fen (read by balance_at) disagrees with side and amount.
    delta_mismatches: list[int] = field(default_factory=list)
    unbalanced_entry_ids: list[int] = field(default_factory=list)
    # The book's head (last sequence and hash) names the last entry.
    head_matches: bool = True


async def verify_journal(session: AsyncSession, fund_id: int) -> Verification:
    """Recompute every hash in sequence order (with the rule book's own encoding) and
    every stored balance and posting delta from the postings' sides and amounts."""
    conn = await session.connection()
    # Share lock: writers of this fund wait, so the journal and balances read agree.
    head = (
        await conn.execute(
            select(BOOKS.c.last_sequence, BOOKS.c.last_hash)
            .where(BOOKS.c.fund_id == fund_id)
            .with_for_update(read=True)
        )
    ).first()
    if head is None:
        raise NotFound(f"fund {fund_id} has no book", field="fundId")
    chain = await _check_chain(conn, fund_id)
    mismatches = [
        (code, stored, computed)
        for code, stored, computed in await conn.execute(_ACCOUNT_CHECKS, {"fund": fund_id})
        if stored != computed
    ]
    deltas = list((await conn.execute(_DELTA_CHECKS, {"fund": fund_id})).scalars())
    head_matches = (head.last_sequence, head.last_hash) == chain.last
    ok = (
        chain.first_broken is None
        and not chain.gaps
        and not mismatches
        and not deltas
        and not chain.unbalanced
        and head_matches
    )
    return Verification(
        ok=ok,
        entries_checked=chain.checked,
        first_broken_entry_id=chain.first_broken,
        sequence_gaps=chain.gaps,
        balance_mismatches=mismatches,
        delta_mismatches=deltas,
        unbalanced_entry_ids=chain.unbalanced,
        head_matches=head_matches,
    )


@dataclass
class _Chain:
    checked: int = 0
    first_broken: int | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)
    unbalanced: list[int] = field(default_factory=list)
    last: tuple[int, str | None] = (0, None)


async def _check_chain(conn, fund_id: int) -> _Chain:
    """Walk the entries in sequence order: gaps, balance per entry, and each hash
    against its recomputation and its predecessor's."""
    chain = _Chain()
    expected_sequence, previous_hash = 1, None
    stream = await conn.stream(_ENTRY_CHECKS, {"fund": fund_id})
    async for entry in stream:
        chain.checked += 1
        if entry.sequence != expected_sequence:
            chain.gaps.append((expected_sequence, entry.sequence - 1))
        expected_sequence = entry.sequence + 1
        if entry.postings < 2 or not entry.balanced:
            chain.unbalanced.append(entry.id)
        intact = entry.recomputed == entry.hash and entry.previous_hash == previous_hash
        if chain.first_broken is None and not intact:
            chain.first_broken = entry.id
        previous_hash = entry.hash
        chain.last = (entry.sequence, entry.hash)
    return chain


# Each entry with its hash recomputed by the rule book (ledger_entry_hash) from the
# columns and postings as stored now, and whether its postings balance per currency.
_RECOMPUTED_ENTRIES = """
    SELECT e.id, e.sequence, e.hash, e.previous_hash,
           ledger_entry_hash(e.fund_id, e.sequence, e.kind, e.effective_at, e.recorded_at,
                             e.memo, e.recorded_by, e.reference, e.reverses_id, p.codes,
                             p.sides, p.amounts, p.currencies, e.previous_hash) AS recomputed,
           p.n AS postings, p.balanced
    FROM journal_entries AS e
    CROSS JOIN LATERAL (
        SELECT array_agg(coalesce(a.code::text, '?' || q.account_id) ORDER BY q.id) AS codes,
               array_agg(q.side::text ORDER BY q.id) AS sides,
               array_agg(q.amount_fen ORDER BY q.id) AS amounts,
               array_agg(q.currency::text ORDER BY q.id) AS currencies,
               count(*) AS n,
               NOT EXISTS (
                   SELECT 1 FROM postings AS r WHERE r.entry_id = e.id GROUP BY r.currency
                   HAVING sum(CASE r.side WHEN 'DEBIT' THEN r.amount_fen
                                          ELSE -r.amount_fen END) <> 0
               ) AS balanced
        FROM postings AS q LEFT JOIN ledger_accounts AS a ON a.id = q.account_id
        WHERE q.entry_id = e.id
    ) AS p
"""
_ENTRY_CHECKS = text(_RECOMPUTED_ENTRIES + " WHERE e.fund_id = :fund ORDER BY e.sequence")
_ONE_ENTRY = text(_RECOMPUTED_ENTRIES + " WHERE e.id = :entry")


async def recomputed_entry_hash(session: AsyncSession, entry_id: int) -> str | None:
    """The entry's hash as its row and postings hold now (the rule book's encoding): a
    row edited behind the ledger's back no longer gives the hash that was written."""
    row = (await session.execute(_ONE_ENTRY, {"entry": entry_id})).first()
    return row.recomputed if row is not None else None


# Each account's stored balance and the one its postings' sides and amounts make.
_ACCOUNT_CHECKS = text(
    """
    SELECT a.code, a.balance_fen,
           coalesce(sum(CASE WHEN q.side = a.normal_side THEN q.amount_fen
                             ELSE -q.amount_fen END), 0)::bigint AS computed
    FROM ledger_accounts AS a LEFT JOIN postings AS q ON q.account_id = a.id
    WHERE a.fund_id = :fund
    GROUP BY a.id, a.code, a.balance_fen
    ORDER BY a.code
    """
)
# Postings whose stored delta (what balance_at sums) disagrees with side and amount.
_DELTA_CHECKS = text(
    """
    SELECT q.id FROM postings AS q JOIN ledger_accounts AS a ON a.id = q.account_id
    WHERE a.fund_id = :fund
      AND q.normal_delta_fen <> CASE WHEN q.side = a.normal_side THEN q.amount_fen
                                     ELSE -q.amount_fen END
    ORDER BY q.id
    """
)


def _instant(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise InvalidEntry("an instant needs a time zone offset", field="at")
    return at
