"""What the ledger reports: balances now and at an instant, trial balance, statement,
and the journal's own verification. Reads only; never takes the write lock except
verify_journal, which holds the book in share mode so it sees one consistent state."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.accounts import EXPENSE_CODES, INCOME_CODES, normal_delta
from ledger.entries import entry_hash
from ledger.errors import InvalidEntry, NotFound
from ledger.tables import AccountRow, BookRow, EntryRow, PostingRow

BOOKS = BookRow.__table__
ACCOUNTS = AccountRow.__table__
ENTRIES = EntryRow.__table__
POSTINGS = PostingRow.__table__


# ---------------------------------------------------------------- balances


async def balances_for_funds(
    session: AsyncSession, fund_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Stored balances by fund and code, in one query; a fund without a book maps to {}."""
    result: dict[int, dict[str, int]] = {fund_id: {} for fund_id in fund_ids}
    if not fund_ids:
        return result
    conn = await session.connection()
    rows = await conn.execute(
        select(ACCOUNTS.c.fund_id, ACCOUNTS.c.code, ACCOUNTS.c.balance_fen).where(
            ACCOUNTS.c.fund_id.in_(list(fund_ids))
        )
    )
    for fund_id, code, balance in rows:
        result[fund_id][code] = balance
    return result


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
    """Recompute every hash in sequence order and every stored balance from postings."""
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
    accounts = {
        row.id: row
        for row in await conn.execute(
            select(
                ACCOUNTS.c.id, ACCOUNTS.c.code, ACCOUNTS.c.normal_side, ACCOUNTS.c.balance_fen
            ).where(ACCOUNTS.c.fund_id == fund_id)
        )
    }
    computed: dict[int, int] = dict.fromkeys(accounts, 0)
    e, p = ENTRIES, POSTINGS
    stream = await conn.stream(
        select(
            e.c.id,
            e.c.sequence,
            e.c.kind,
            e.c.effective_at,
            e.c.recorded_at,
            e.c.recorded_by,
            e.c.memo,
            e.c.reference,
            e.c.reverses_id,
            e.c.hash,
            e.c.previous_hash,
            p.c.id,
            p.c.account_id,
            p.c.side,
            p.c.amount_fen,
            p.c.currency,
            p.c.normal_delta_fen,
        )
        .select_from(e.outerjoin(p, p.c.entry_id == e.c.id))
        .where(e.c.fund_id == fund_id)
        .order_by(e.c.sequence, p.c.id)
    )

    checked = 0
    first_broken: int | None = None
    gaps: list[tuple[int, int]] = []
    delta_mismatches: list[int] = []
    unbalanced: list[int] = []
    expected_sequence = 1
    previous_hash: str | None = None
    last_sequence, last_hash = 0, None
    current = None
    postings: list[tuple[str, str, int, str]] = []

    def finish() -> None:
        nonlocal checked, first_broken, expected_sequence, previous_hash
        nonlocal last_sequence, last_hash
        checked += 1
        sequence = current.sequence
        if sequence != expected_sequence:
            gaps.append((expected_sequence, sequence - 1))
        expected_sequence = sequence + 1
        net: dict[str, int] = defaultdict(int)
        for _code, side, amount, currency in postings:
            net[currency] += amount if side == "DEBIT" else -amount
        if len(postings) < 2 or any(net.values()):
            unbalanced.append(current.id)
        recomputed = entry_hash(
            fund_id=fund_id,
            sequence=sequence,
            effective_at=current.effective_at,
            recorded_at=current.recorded_at,
            recorded_by=current.recorded_by,
            memo=current.memo,
            kind=current.kind,
            reference=current.reference,
            reverses_id=current.reverses_id,
            postings=postings,
            previous_hash=current.previous_hash,
        )
        if first_broken is None and (
            recomputed != current.hash or current.previous_hash != previous_hash
        ):
            first_broken = current.id
        previous_hash = current.hash
        last_sequence, last_hash = sequence, current.hash

    async for row in stream:
        (entry_id, *_rest) = row
        if current is None or entry_id != current.id:
            if current is not None:
                finish()
            current = _EntryView(*row[:11])
            postings = []
        posting_id, account_id, side, amount, currency, delta = row[11:]
        if posting_id is None:
            continue
        account = accounts.get(account_id)
        code = account.code if account is not None else f"?{account_id}"
        postings.append((code, side, amount, currency))
        if account is not None:
            expected_delta = normal_delta(account.normal_side, side, amount)
            computed[account_id] += expected_delta
            if delta != expected_delta:
                delta_mismatches.append(posting_id)
    if current is not None:
        finish()

    mismatches = [
        (accounts[a].code, accounts[a].balance_fen, computed[a])
        for a in sorted(accounts, key=lambda a: accounts[a].code)
        if accounts[a].balance_fen != computed[a]
    ]
    head_matches = head.last_sequence == last_sequence and head.last_hash == last_hash
    ok = (
        first_broken is None
        and not gaps
        and not mismatches
        and not delta_mismatches
        and not unbalanced
        and head_matches
    )
    return Verification(
        ok=ok,
        entries_checked=checked,
        first_broken_entry_id=first_broken,
        sequence_gaps=gaps,
        balance_mismatches=mismatches,
        delta_mismatches=delta_mismatches,
        unbalanced_entry_ids=unbalanced,
        head_matches=head_matches,
    )


@dataclass(frozen=True)
class _EntryView:
    id: int
    sequence: int
    kind: str
    effective_at: datetime
    recorded_at: datetime
    recorded_by: str
    memo: str
    reference: str | None
    reverses_id: int | None
    hash: str
    previous_hash: str | None


def _instant(at: datetime) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise InvalidEntry("an instant needs a time zone offset", field="at")
    return at
