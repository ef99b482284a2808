"""Period close: income and expense move into net assets; the closed days are sealed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.uow import read_session, unit_of_work
from ledger.errors import InvalidState, PeriodClosed
from ledger.reports import balances_at, trial_balance, verify_journal
from ledger.store import close_period, post_entry, reverse_entry
from ledger.tables import AccountRow, PostingRow
from tests.ledger.conftest import cr, dr, new_fund, snapshot

TZ = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


async def post(engine, fund_id, postings, at, kind="manual"):
    async with unit_of_work(engine) as session:
        return await post_entry(
            session, fund_id, postings, memo="m", recorded_by="u", kind=kind, effective_at=at
        )


async def close(engine, fund_id, through):
    async with unit_of_work(engine) as session:
        return await close_period(session, fund_id, through, tz=TZ, recorded_by="finance")


@pytest.mark.parametrize("restricted", [False, True])
async def test_close_moves_income_and_expense_into_net_assets(engine, restricted):
    fund_id = await new_fund(engine, restricted=restricted)
    await post(engine, fund_id, [dr("1002", 10_000), cr("4101.02", 10_000)], local(2025, 3, 1, 10))
    await post(engine, fund_id, [dr("1009.01", 500), cr("4101.01", 500)], local(2025, 3, 2, 23, 59))
    await post(engine, fund_id, [dr("5101", 3_000), cr("1002", 3_000)], local(2025, 3, 2, 9))
    await post(engine, fund_id, [dr("1001", 10), cr("5401", 10)], local(2025, 3, 2, 9))  # over
    # 01:00 on the 3rd in Zhengzhou is still the 2nd in UTC: not in the closed period.
    late = await post(
        engine,
        fund_id,
        [dr("1002", 70), cr("4101.02", 70)],
        datetime(2025, 3, 2, 17, 0, tzinfo=UTC),
    )

    entry = await close(engine, fund_id, date(2025, 3, 2))

    assert entry is not None and entry.kind == "close"
    assert entry.effective_at == local(2025, 3, 3) - timedelta(microseconds=1)
    target = "3102" if restricted else "3101"
    async with read_session(engine) as session:
        lines = (
            await session.execute(
                select(AccountRow.code, PostingRow.side, PostingRow.amount_fen)
                .join(AccountRow, AccountRow.id == PostingRow.account_id)
                .where(PostingRow.entry_id == entry.id)
                .order_by(PostingRow.id)
            )
        ).all()
        assert lines == [
            ("4101.01", "DEBIT", 500),
            ("4101.02", "DEBIT", 10_000),
            ("5101", "CREDIT", 3_000),
            ("5401", "DEBIT", 10),  # a credit (contra) balance is closed by a debit
            (target, "CREDIT", 7_510),
        ]
        at_close = (await balances_at(session, [fund_id], entry.effective_at))[fund_id]
        assert all(at_close[c] == 0 for c in ("4101.01", "4101.02", "4101.03", "5101", "5401"))
        assert (await trial_balance(session, fund_id)).balanced
        assert (await verify_journal(session, fund_id)).ok
    after = await snapshot(engine, fund_id)
    assert after.closed_through == date(2025, 3, 2)
    assert after.balances[target] == 7_510 and after.balances["4101.02"] == 70  # the late gift

    # Sealed: nothing on or before the 2nd (Zhengzhou time), even a second before midnight.
    for postings, at in [
        ([dr("1002", 5), cr("4101.02", 5)], local(2025, 3, 2, 23, 59, 59)),
        ([dr("1002", 5), cr("4101.02", 5)], local(2024, 12, 31)),
    ]:
        async with unit_of_work(engine) as session:
            with pytest.raises(PeriodClosed):
                await post_entry(
                    session, fund_id, postings, memo="m", recorded_by="u", effective_at=at
                )
    async with unit_of_work(engine) as session:
        with pytest.raises(InvalidState):
            await reverse_entry(session, entry.id, memo="undo close", recorded_by="u")
    assert await snapshot(engine, fund_id) == after
    # The first instant of the 3rd is open, and the late entry can still be reversed.
    await post(engine, fund_id, [dr("1002", 5), cr("4101.02", 5)], local(2025, 3, 3))
    async with unit_of_work(engine) as session:
        await reverse_entry(session, late.id, memo="duplicate", recorded_by="u")


async def test_close_refusals_and_an_empty_close(engine, fund_id):
    assert await close(engine, fund_id, date(2025, 1, 31)) is None  # nothing to move
    before = await snapshot(engine, fund_id)
    assert before.closed_through == date(2025, 1, 31) and before.entries == 0
    today = datetime.now(TZ).date()
    for through in (date(2025, 1, 31), date(2025, 1, 1), today, today + timedelta(days=3)):
        async with unit_of_work(engine) as session:
            with pytest.raises(InvalidState) as caught:
                await close_period(session, fund_id, through, tz=TZ, recorded_by="u")
        assert caught.value.field == "through"
    assert await snapshot(engine, fund_id) == before
    # A later close only moves what happened since the previous one.
    await post(engine, fund_id, [dr("1002", 100), cr("4101.02", 100)], local(2025, 2, 10))
    second = await close(engine, fund_id, date(2025, 2, 28))
    assert second is not None
    third = await close(engine, fund_id, date(2025, 3, 31))
    assert third is None
    assert (await snapshot(engine, fund_id)).balances["3101"] == 100
