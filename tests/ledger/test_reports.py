"""Balances, balances at an instant, trial balance, statement."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from db.engine import driver_connection
from db.reads import balances_for_funds
from db.uow import read_session, unit_of_work
from ledger.accounts import CHART
from ledger.errors import InsufficientFunds, InvalidEntry, NotFound
from ledger.reports import (
    balance_at,
    balances_at,
    statement,
    trial_balance,
)
from ledger.store import account_balances, close_period, post_entry, reverse_entry
from ledger.tables import AccountRow
from tests.conftest import count_statements
from tests.ledger.conftest import cr, dr, new_fund

TZ = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


async def post(engine, fund_id, postings, at, kind="manual", **kw):
    async with unit_of_work(engine) as session:
        return await post_entry(
            session, fund_id, postings, memo="m", recorded_by="u", kind=kind, effective_at=at, **kw
        )


async def reverse(engine, entry, at):
    async with unit_of_work(engine) as session:
        # The ledger alone: as the owning record operation of a non-manual entry would.
        owner = None if entry.kind == "manual" else entry.kind
        return await reverse_entry(
            session, entry.id, memo="undo", recorded_by="u", effective_at=at, owner=owner
        )


async def test_balances_for_funds_is_one_query(engine):
    a, b = await new_fund(engine), await new_fund(engine)
    await post(engine, a, [dr("1002", 100), cr("4101.02", 100)], None)
    await post(engine, b, [dr("1009.01", 7), cr("4101.01", 7)], None)
    with count_statements(engine) as counter:
        async with driver_connection(engine) as conn:
            got = await balances_for_funds(conn, [a, b, 987654])
    assert counter.count == 1
    assert got[a]["1002"] == 100 and got[a]["4101.02"] == 100 and got[a]["1009.01"] == 0
    assert got[b]["1009.01"] == 7 and len(got[b]) == 16
    assert got[987654] == {}


async def test_balance_at_agrees_with_a_brute_force_sum(engine, fund_id):
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    history = []  # (instant, bank delta)
    for i in range(60):
        at = start + timedelta(hours=rng.randrange(0, 24 * 60))  # back-dated, out of order
        amount = rng.randrange(1, 500)
        await post(engine, fund_id, [dr("1002", amount), cr("4101.02", amount)], at)
        history.append((at, amount))
        if i % 3 == 0:
            await post(engine, fund_id, [dr("5101", 1), cr("1002", 1)], at)
            history.append((at, -1))
    async with read_session(engine) as session:
        bank = await session.scalar(
            select(AccountRow.id).where(AccountRow.fund_id == fund_id, AccountRow.code == "1002")
        )
        probes = [start - timedelta(days=1), start + timedelta(days=70)]
        probes += [at for at, _ in history[::5]]  # exactly on postings: inclusive
        probes += [
            start + timedelta(hours=rng.randrange(0, 24 * 60), minutes=30) for _ in range(20)
        ]
        for at in probes:
            expected = sum(delta for when, delta in history if when <= at)
            assert await balance_at(session, bank, at) == expected, at
            assert (await balances_at(session, [fund_id], at))[fund_id]["1002"] == expected
        with pytest.raises(NotFound):
            await balance_at(session, 10**9, start)
        with pytest.raises(InvalidEntry):
            await balance_at(session, bank, datetime(2025, 1, 1))


async def test_trial_balance_puts_contra_balances_on_the_other_side(engine, fund_id):
    await post(engine, fund_id, [dr("1009.09", 1000), cr("4101.02", 1000)], local(2025, 3, 1, 10))
    t1 = local(2025, 3, 1, 12)
    await post(
        engine,
        fund_id,
        [dr("1001", 1010), cr("1009.09", 1000), cr("5401", 10)],
        local(2025, 3, 1, 18),
    )
    now = await trial_balance_of(engine, fund_id, None)
    lines = {line.code: (line.debit_fen, line.credit_fen) for line in now.lines}
    assert lines["1001"] == (1010, 0) and lines["4101.02"] == (0, 1000)
    assert lines["5401"] == (0, 10)  # cash over: an expense account with a credit balance
    assert now.total_debit == now.total_credit == 1010 and now.balanced and now.at is None
    assert [line.code for line in now.lines] == sorted(lines)
    earlier = await trial_balance_of(engine, fund_id, t1)
    assert earlier.at == t1 and earlier.total_debit == 1000 and earlier.balanced
    with pytest.raises(NotFound):
        await trial_balance_of(engine, 10**6, None)


async def trial_balance_of(engine, fund_id, at):
    async with read_session(engine) as session:
        return await trial_balance(session, fund_id, at)


def identity_holds(s) -> bool:
    return s.closing == (
        s.opening + s.donations - s.refunds - s.disbursements - s.fees - s.other_costs
    )


async def test_statement_of_a_festival_month(engine, fund_id):
    # Before the range: a bank transfer.
    await post(
        engine,
        fund_id,
        [dr("1002", 20_000), cr("4101.02", 20_000)],
        local(2025, 2, 28, 23, 30),
        kind="donation",
    )
    # In March.
    await post(
        engine,
        fund_id,
        [dr("1009.01", 5_000), cr("4101.01", 5_000)],
        local(2025, 3, 1, 0, 0),
        kind="donation",
    )
    await post(
        engine,
        fund_id,
        [dr("1009.01", 3_000), cr("4101.01", 3_000)],
        local(2025, 3, 2),
        kind="donation",
    )
    await post(
        engine,
        fund_id,
        [dr("1002", 7_880), dr("5301", 120), cr("1009.01", 8_000)],
        local(2025, 3, 5),
        kind="settlement",
    )
    await post(
        engine,
        fund_id,
        [dr("1009.09", 2_000), cr("4101.02", 2_000)],
        local(2025, 3, 8),
        kind="donation",
    )
    await post(
        engine,
        fund_id,
        [dr("1001", 1_990), dr("5401", 10), cr("1009.09", 2_000)],
        local(2025, 3, 8, 20),
        kind="cash_count",
    )
    await post(
        engine,
        fund_id,
        [dr("1201", 4_000), cr("4101.03", 4_000)],
        local(2025, 3, 9),
        kind="donation",
    )
    await post(
        engine,
        fund_id,
        [dr("5101", 1_500), cr("1201", 1_500)],
        local(2025, 3, 10),
        kind="disbursement_payment",
    )
    refund = await post(
        engine, fund_id, [dr("4101.01", 600), cr("1002", 600)], local(2025, 3, 11), kind="refund"
    )
    await reverse(engine, refund, local(2025, 3, 12))  # the refund was a mistake
    await post(
        engine, fund_id, [dr("4101.02", 300), cr("1001", 300)], local(2025, 3, 13), kind="refund"
    )
    await post(
        engine,
        fund_id,
        [dr("5101", 2_500), cr("2209.01", 2_500)],
        local(2025, 3, 14),
        kind="disbursement_approval",
    )
    await post(
        engine,
        fund_id,
        [dr("2209.01", 2_500), cr("1002", 2_500)],
        local(2025, 3, 15),
        kind="disbursement_payment",
    )
    await post(engine, fund_id, [dr("5201", 200), cr("1002", 200)], local(2025, 3, 16))
    await post(
        engine, fund_id, [dr("1002", 900), cr("2209.02", 900)], local(2025, 3, 17), kind="suspense"
    )
    await post(
        engine,
        fund_id,
        [dr("2209.02", 900), cr("4101.02", 900)],
        local(2025, 3, 18),
        kind="suspense",
    )
    online = await post(
        engine,
        fund_id,
        [dr("1009.01", 5_000), cr("4101.01", 5_000)],
        local(2025, 3, 19),
        kind="donation",
    )
    await reverse(engine, online, local(2025, 3, 31, 23, 59, 59))  # no such donation
    async with unit_of_work(engine) as session:  # a close inside the range moves nothing
        await close_period(session, fund_id, date(2025, 3, 20), tz=TZ, recorded_by="u")
    # After the range (1 April, 00:00 in Zhengzhou).
    await post(engine, fund_id, [dr("1002", 99), cr("4101.02", 99)], local(2025, 4, 1))

    async with read_session(engine) as session:
        s = await statement(session, fund_id, date(2025, 3, 1), date(2025, 3, 31), TZ)
        assert s.opening == 20_000
        assert s.donations_online == 5_000 + 3_000 + 5_000 - 5_000
        assert s.donations_offline == 2_000 + 900
        assert s.donations_in_kind == 4_000
        assert s.refunds == 300  # the reversed refund no longer counts
        assert s.disbursements == 1_500 + 2_500
        assert s.fees == 120
        assert s.other_costs == 10 + 200
        assert s.closing == 20_000 + 8_000 + 2_900 + 4_000 - 300 - 4_000 - 120 - 210
        assert identity_holds(s)
        # Net assets by positions agree: the month's closing is the next day's opening.
        april = await statement(session, fund_id, date(2025, 4, 1), date(2025, 4, 1), TZ)
        assert april.opening == s.closing and april.closing == s.closing + 99
        with pytest.raises(InvalidEntry):
            await statement(session, fund_id, date(2025, 3, 2), date(2025, 3, 1), TZ)


KINDS = [
    ("donation", [("1009.01", "DEBIT"), ("4101.01", "CREDIT")]),
    ("donation", [("1009.09", "DEBIT"), ("4101.02", "CREDIT")]),
    ("donation", [("1201", "DEBIT"), ("4101.03", "CREDIT")]),
    ("settlement", [("1002", "DEBIT"), ("1009.01", "CREDIT")]),
    ("cash_count", [("1001", "DEBIT"), ("1009.09", "CREDIT")]),
    ("cash_count", [("5401", "DEBIT"), ("1009.09", "CREDIT")]),
    ("refund", [("4101.01", "DEBIT"), ("1002", "CREDIT")]),
    ("refund", [("4101.02", "DEBIT"), ("1001", "CREDIT")]),
    ("disbursement_approval", [("5101", "DEBIT"), ("2209.01", "CREDIT")]),
    ("disbursement_payment", [("2209.01", "DEBIT"), ("1002", "CREDIT")]),
    ("manual", [("5201", "DEBIT"), ("1002", "CREDIT")]),
    ("settlement", [("5301", "DEBIT"), ("1009.01", "CREDIT")]),
]


@pytest.mark.parametrize("seed", [1, 2])
async def test_statement_identity_on_random_journals(engine, seed):
    """Random entries of every kind, reversals and closes; any range, the identity holds."""
    rng = random.Random(seed)
    fund_id = await new_fund(engine, restricted=bool(seed % 2))
    day0 = date(2025, 1, 1)
    posted = []
    closed = day0 - timedelta(days=1)
    for day in range(40):
        for _ in range(rng.randrange(0, 4)):
            kind, lines = rng.choice(KINDS)
            amount = rng.randrange(1, 3_000)
            at = local(day0.year, day0.month, day0.day) + timedelta(
                days=day, minutes=rng.randrange(1440)
            )
            postings = [dr(c, amount) if s == "DEBIT" else cr(c, amount) for c, s in lines]
            try:
                posted.append(await post(engine, fund_id, postings, at, kind=kind))
            except InsufficientFunds:
                pass
        if posted and rng.random() < 0.2:
            target = rng.choice(posted)
            try:
                at = max(target.effective_at, local(2025, 1, 1) + timedelta(days=day, hours=23))
                await reverse(engine, target, at)
            except Exception as exc:  # already reversed, a reversal, or short: all refusals
                assert getattr(exc, "code", None) in {
                    "INVALID_STATE",
                    "INSUFFICIENT_FUNDS",
                    "PERIOD_CLOSED",
                    "INVALID_INPUT",
                }
        if day % 10 == 9:
            closed = day0 + timedelta(days=day)
            async with unit_of_work(engine) as session:
                await close_period(session, fund_id, closed, tz=TZ, recorded_by="u")
    async with read_session(engine) as session:
        previous_closing = None
        for first in range(0, 40, 7):
            s = await statement(
                session, fund_id, day0 + timedelta(days=first), day0 + timedelta(days=first + 6), TZ
            )
            assert identity_holds(s), s
            if previous_closing is not None:
                assert s.opening == previous_closing
            previous_closing = s.closing
        whole = await statement(session, fund_id, day0, day0 + timedelta(days=45), TZ)
        assert whole.opening == 0 and identity_holds(whole)
        stored = await account_balances(session, fund_id)
        types = {spec.code: spec.type for spec in CHART}
        net_assets = sum(b for c, b in stored.items() if types[c] == "ASSET") - sum(
            b for c, b in stored.items() if types[c] == "LIABILITY"
        )
        assert whole.closing == net_assets
