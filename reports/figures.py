"""A fund's figures for one period, read once through the ledger's read functions
(ledger/reports.py): balances at the period's two ends, the statement of flows, and
each income and expense account's flow with period closes taken out.

An income or expense account's flow over the period is its balance at the end less
its balance at the start, plus whatever a period close inside the range moved out of
it: a close is the last entry of its day and moves the whole balance, so the balance
one microsecond before the close is what it moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import reports
from ledger.accounts import EXPENSE_CODES, INCOME_CODES
from ledger.errors import InvalidState, NotFound
from ledger.tables import AccountRow, BookRow, EntryRow, PostingRow

TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Figures:
    start: date
    end: date
    restricted: bool  # the book closes into 3102 (restricted net assets)
    opening: dict[str, int]  # balance by code, signed by normal side, as the period starts
    closing: dict[str, int]  # the same as the period ends
    flows: dict[str, int]  # income and expense accounts: the period's flow, closes excluded
    statement: reports.Statement
    opening_tb: reports.TrialBalance
    closing_tb: reports.TrialBalance
    turnover: dict[str, tuple[int, int]]  # code -> (debits, credits) posted in the period


def period_bounds(start: date, end: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of `start` and the first instant after `end`, in tz."""
    return (
        datetime.combine(start, time(0), tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz),
    )


async def read_figures(
    session: AsyncSession, fund_id: int, start: date, end: date, tz: ZoneInfo
) -> Figures:
    begin, after = period_bounds(start, end, tz)
    book = await session.get(BookRow, fund_id)
    if book is None:
        raise NotFound(f"fund {fund_id} has no book", field="fundId")
    opening = (await reports.balances_at(session, [fund_id], begin - TICK))[fund_id]
    closing = (await reports.balances_at(session, [fund_id], after - TICK))[fund_id]
    flows = {code: closing[code] - opening[code] for code in (*INCOME_CODES, *EXPENSE_CODES)}
    closes = await session.scalars(
        select(EntryRow.effective_at).where(
            EntryRow.fund_id == fund_id,
            EntryRow.kind == "close",
            EntryRow.effective_at >= begin,
            EntryRow.effective_at < after,
        )
    )
    for at in closes:
        before = (await reports.balances_at(session, [fund_id], at - TICK))[fund_id]
        for code in flows:
            flows[code] += before[code]
    statement = await reports.statement(session, fund_id, start, end, tz)
    _check_against_statement(flows, statement)
    return Figures(
        start=start,
        end=end,
        restricted=book.restricted,
        opening=opening,
        closing=closing,
        flows=flows,
        statement=statement,
        opening_tb=await reports.trial_balance(session, fund_id, begin - TICK),
        closing_tb=await reports.trial_balance(session, fund_id, after - TICK),
        turnover=await _turnover(session, fund_id, begin, after),
    )


async def _turnover(
    session: AsyncSession, fund_id: int, begin: datetime, after: datetime
) -> dict[str, tuple[int, int]]:
    """Debits and credits posted to each account in [begin, after): the trial
    balance's period columns, which no balance can give."""
    rows = await session.execute(
        select(AccountRow.code, PostingRow.side, func.sum(PostingRow.amount_fen))
        .join(AccountRow, AccountRow.id == PostingRow.account_id)
        .where(
            AccountRow.fund_id == fund_id,
            PostingRow.effective_at >= begin,
            PostingRow.effective_at < after,
        )
        .group_by(AccountRow.code, PostingRow.side)
    )
    moved: dict[str, list[int]] = {}
    for code, side, total in rows:
        moved.setdefault(code, [0, 0])[0 if side == "DEBIT" else 1] += int(total)
    return {code: (d, c) for code, (d, c) in moved.items()}


def _check_against_statement(flows: dict[str, int], s: reports.Statement) -> None:
    """The flows and the ledger's own statement must agree to the fen; they could only
    part if an entry shared a close's instant, and then no figure here is trusted."""
    income = sum(flows[c] for c in INCOME_CODES)
    agree = (
        income == s.donations - s.refunds
        and flows["5101"] == s.disbursements
        and flows["5301"] == s.fees
        and flows["5201"] + flows["5401"] == s.other_costs
    )
    if not agree:
        raise InvalidState("the period's flows disagree with the ledger's statement", field="from")
