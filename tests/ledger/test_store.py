"""Posting, refusals (each proven to write nothing), reversals; on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.uow import read_session, unit_of_work
from ledger.errors import (
    CurrencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    InvalidEntry,
    InvalidState,
    NotFound,
    PeriodClosed,
    UnbalancedEntry,
)
from ledger.reports import verify_journal
from ledger.store import lock_book, open_book, post_entry, reverse_entry
from ledger.tables import AccountRow, PostingRow
from tests.ledger.conftest import T0, cr, dr, new_fund, snapshot, sums_of_postings


async def post(engine, fund_id, postings, **kw):
    kw.setdefault("memo", "test")
    kw.setdefault("recorded_by", "tester")
    async with unit_of_work(engine) as session:
        return await post_entry(session, fund_id, postings, **kw)


async def test_open_book_creates_the_chart_at_zero(engine, fund_id):
    async with read_session(engine) as session:
        rows = (
            await session.scalars(select(AccountRow).where(AccountRow.fund_id == fund_id))
        ).all()
    assert len(rows) == 16
    assert all(row.balance_fen == 0 and row.currency == "CNY" for row in rows)
    assert {r.code for r in rows if r.guarded} == {"1001", "1002", "1009.01", "1009.09", "1201"}
    async with unit_of_work(engine) as session:
        with pytest.raises(InvalidState):
            await open_book(session, fund_id)
        with pytest.raises(NotFound):
            await open_book(session, 999_999)
        book = await lock_book(session, fund_id)
        assert book.last_sequence == 0 and book.last_hash is None
        with pytest.raises(NotFound):
            await lock_book(session, 999_999)


async def test_posting_updates_balances_sequence_and_chain(engine, fund_id):
    first = await post(
        engine,
        fund_id,
        [dr("1009.09", 5000), cr("4101.02", 5000)],
        kind="donation",
        effective_at=T0,
        reference="BOX-1",
    )
    second = await post(
        engine, fund_id, [dr("1001", 4990), dr("5401", 10), cr("1009.09", 5000)], kind="cash_count"
    )
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.previous_hash is None and second.previous_hash == first.hash
    assert first.effective_at == T0 and first.reference == "BOX-1"
    assert second.effective_at.tzinfo is not None
    after = await snapshot(engine, fund_id)
    assert after.entries == 2 and after.postings == 5
    assert after.last_sequence == 2 and after.last_hash == second.hash
    expected = {"1009.09": 0, "1001": 4990, "5401": 10, "4101.02": 5000}
    assert {code: after.balances[code] for code in expected} == expected
    assert sum(after.balances.values()) == 4990 + 10 + 5000  # untouched accounts are 0
    assert await sums_of_postings(engine, fund_id) == after.balances
    async with read_session(engine) as session:
        deltas = (
            await session.execute(
                select(PostingRow.side, PostingRow.amount_fen, PostingRow.normal_delta_fen)
                .where(PostingRow.entry_id == second.id)
                .order_by(PostingRow.id)
            )
        ).all()
        assert deltas == [("DEBIT", 4990, 4990), ("DEBIT", 10, 10), ("CREDIT", 5000, -5000)]
        assert (await verify_journal(session, fund_id)).ok


REFUSALS = [
    # (postings, kwargs, error, field)
    ([dr("1002", 100)], {}, InvalidEntry, "postings"),
    ([dr("1002", 0), cr("4101.02", 0)], {}, InvalidAmount, "amount"),
    ([dr("1002", -1), cr("4101.02", -1)], {}, InvalidAmount, "amount"),
    ([dr("1002", 100), cr("4101.02", 90)], {}, UnbalancedEntry, "postings"),
    ([dr("1002", 100), cr("9999", 100)], {}, InvalidEntry, "accountCode"),
    ([dr("1002", 100, "USD"), cr("4101.02", 100, "USD")], {}, CurrencyMismatch, "currency"),
    ([dr("1002", 100), cr("3101", 100)], {}, InvalidEntry, "accountCode"),
    ([dr("3102", 100), cr("1002", 100)], {"kind": "donation"}, InvalidEntry, "accountCode"),
    ([dr("1002", 100), cr("4101.02", 100)], {"kind": "close"}, InvalidEntry, "kind"),
    ([dr("1002", 100), cr("4101.02", 100)], {"kind": "reversal"}, InvalidEntry, "kind"),
    ([dr("1002", 100), cr("4101.02", 100)], {"kind": "bonus"}, InvalidEntry, "kind"),
    ([dr("1002", 100), cr("4101.02", 100)], {"memo": " "}, InvalidEntry, "memo"),
    ([dr("1002", 100), cr("4101.02", 100)], {"memo": "x" * 501}, InvalidEntry, "memo"),
    (
        [dr("1002", 100), cr("4101.02", 100)],
        {"effective_at": datetime(2025, 1, 1)},
        InvalidEntry,
        "effectiveAt",
    ),
    (
        [dr("1002", 100), cr("4101.02", 100)],
        {"effective_at": datetime.now(UTC) + timedelta(hours=1)},
        InvalidEntry,
        "effectiveAt",
    ),
    # Guards: bank holds 1000 (see the test), cash nothing.
    ([dr("5101", 1001), cr("1002", 1001)], {}, InsufficientFunds, "amount"),
    ([dr("1002", 1), cr("1001", 1)], {}, InsufficientFunds, "amount"),
    # Available is 1000 - 0: an approval of 1001 would promise money not held.
    ([dr("5101", 1001), cr("2209.01", 1001)], {}, InsufficientFunds, "amount"),
]


async def test_refusals_write_nothing(engine, fund_id):
    """One fund, every refusal in turn (a database per case would be slow)."""
    await post(engine, fund_id, [dr("1002", 1000), cr("4101.02", 1000)], kind="donation")
    before = await snapshot(engine, fund_id)
    for postings, kwargs, error, field in REFUSALS:
        # Caught inside the unit of work, which then commits: a refusal raised after
        # a write would leave that write behind, and the snapshot would show it.
        async with unit_of_work(engine) as session:
            with pytest.raises(error) as caught:
                await post_entry(
                    session, fund_id, postings, **({"memo": "m", "recorded_by": "u"} | kwargs)
                )
        assert caught.value.field == field, (postings, kwargs)
        assert await snapshot(engine, fund_id) == before, (postings, kwargs)


NASTY_TEXT = [
    'quote " and backslash \\ and slash /',
    "newline\n tab\t return\r bell\x07 unit\x1f del\x7f",
    "近邻 社区基金 · 中秋 🎑 \u2028\u2029 é",
    '\\u0000 \\" null',
]


async def test_hashes_chain_whatever_the_text(engine, fund_id):
    """The hash of an entry written by PostgreSQL's ledger_post (which splices the
    sequence and the previous hash into the encoding prepared here) is the one
    verify_journal recomputes in Python, whatever the memo, name and reference hold."""
    for i, text in enumerate(NASTY_TEXT):
        await post(
            engine,
            fund_id,
            [dr("1002", 100 + i), cr("4101.02", 100 + i)],
            memo=text,
            recorded_by=text[:64],
            reference=text[:100],
        )
    async with read_session(engine) as session:
        report = await verify_journal(session, fund_id)
    assert report.ok and report.entries_checked == len(NASTY_TEXT), report


async def test_a_fund_without_a_book_is_not_found(engine):
    async with unit_of_work(engine) as session:
        with pytest.raises(NotFound):
            await post_entry(
                session, 424242, [dr("1002", 1), cr("4101.02", 1)], memo="m", recorded_by="u"
            )


async def test_guards_allow_reaching_exactly_zero(engine, fund_id):
    await post(engine, fund_id, [dr("1002", 1000), cr("4101.02", 1000)])
    await post(engine, fund_id, [dr("5101", 1000), cr("1002", 1000)])
    assert (await snapshot(engine, fund_id)).balances["1002"] == 0


async def test_available_money_counts_payables_for_every_entry(engine, fund_id):
    await post(engine, fund_id, [dr("1002", 1000), cr("4101.02", 1000)])
    await post(engine, fund_id, [dr("5101", 600), cr("2209.01", 600)])
    before = await snapshot(engine, fund_id)
    refused = [
        [dr("5101", 401), cr("2209.01", 401)],  # an approval promising money not held
        [dr("5101", 401), cr("1002", 401)],  # a manual payment of what is promised
    ]
    for postings in refused:
        async with unit_of_work(engine) as session:
            with pytest.raises(InsufficientFunds, match="available"):
                await post_entry(session, fund_id, postings, memo="m", recorded_by="u")
        assert await snapshot(engine, fund_id) == before
    await post(engine, fund_id, [dr("5101", 400), cr("2209.01", 400)])
    # Paying an approved item leaves available unchanged, so it is never blamed.
    await post(engine, fund_id, [dr("2209.01", 1000), cr("1002", 1000)])
    assert (await snapshot(engine, fund_id)).balances["2209.01"] == 0
    # Money coming in is never blamed either, even while available is short of zero.


async def test_a_back_dated_entry_may_not_overdraw_the_past(engine, fund_id):
    """Bank: +100 at T0, -80 at T0+2h, +100 at T0+3h (120 now). Taking 30 at T0+1h
    leaves 90 now, but -10 between the payment and the last gift: refused. Taking 20
    there is fine at every instant."""
    await post(engine, fund_id, [dr("1002", 100), cr("4101.02", 100)], effective_at=T0)
    await post(
        engine, fund_id, [dr("5101", 80), cr("1002", 80)], effective_at=T0 + timedelta(hours=2)
    )
    await post(
        engine,
        fund_id,
        [dr("1002", 100), cr("4101.02", 100)],
        effective_at=T0 + timedelta(hours=3),
    )
    before = await snapshot(engine, fund_id)
    async with unit_of_work(engine) as session:
        with pytest.raises(InsufficientFunds, match="below zero"):
            await post_entry(
                session,
                fund_id,
                [dr("5201", 30), cr("1002", 30)],
                memo="m",
                recorded_by="u",
                effective_at=T0 + timedelta(hours=1),
            )
    assert await snapshot(engine, fund_id) == before
    async with unit_of_work(engine) as session:
        with pytest.raises(InsufficientFunds):  # before the money came in at all
            await post_entry(
                session,
                fund_id,
                [dr("5201", 5), cr("1002", 5)],
                memo="m",
                recorded_by="u",
                effective_at=T0 - timedelta(hours=1),
            )
    await post(
        engine, fund_id, [dr("5201", 20), cr("1002", 20)], effective_at=T0 + timedelta(hours=1)
    )
    assert (await snapshot(engine, fund_id)).balances["1002"] == 100


async def test_cross_currency_account_is_refused_even_when_balanced(engine, fund_id):
    before = await snapshot(engine, fund_id)
    async with unit_of_work(engine) as session:
        with pytest.raises(CurrencyMismatch):
            await post_entry(
                session,
                fund_id,
                [dr("1002", 5, "USD"), cr("1001", 5, "USD")],
                memo="m",
                recorded_by="u",
            )
    assert await snapshot(engine, fund_id) == before


async def test_reversal_mirrors_the_entry(engine, fund_id):
    original = await post(
        engine, fund_id, [dr("1002", 700), dr("5301", 300), cr("4101.01", 1000)], effective_at=T0
    )
    async with unit_of_work(engine) as session:
        reversal = await reverse_entry(session, original.id, memo="wrong fund", recorded_by="u")
    assert reversal.kind == "reversal" and reversal.reverses_id == original.id
    assert reversal.sequence == 2 and reversal.previous_hash == original.hash
    async with read_session(engine) as session:
        sides = (
            await session.execute(
                select(PostingRow.side, PostingRow.amount_fen)
                .where(PostingRow.entry_id == reversal.id)
                .order_by(PostingRow.id)
            )
        ).all()
        assert sides == [("CREDIT", 700), ("CREDIT", 300), ("DEBIT", 1000)]
        assert (await verify_journal(session, fund_id)).ok
    assert set((await snapshot(engine, fund_id)).balances.values()) == {0}


async def test_reversal_refusals_write_nothing(engine, fund_id):
    donation = await post(engine, fund_id, [dr("1002", 1000), cr("4101.02", 1000)], effective_at=T0)
    spent = await post(engine, fund_id, [dr("5101", 800), cr("1002", 800)])
    async with unit_of_work(engine) as session:
        reversal = await reverse_entry(session, spent.id, memo="undo", recorded_by="u")
    await post(engine, fund_id, [dr("5101", 900), cr("1002", 900)])
    before = await snapshot(engine, fund_id)

    cases = [
        (999_999, {}, NotFound),
        (spent.id, {}, InvalidState),  # already reversed
        (reversal.id, {}, InvalidState),  # a reversal itself
        (donation.id, {}, InsufficientFunds),  # the money was spent since
        (donation.id, {"effective_at": T0 - timedelta(seconds=1)}, InvalidEntry),
        (donation.id, {"effective_at": datetime(2025, 3, 2)}, InvalidEntry),  # naive
    ]
    for entry_id, kwargs, error in cases:
        async with unit_of_work(engine) as session:
            with pytest.raises(error):
                await reverse_entry(session, entry_id, memo="m", recorded_by="u", **kwargs)
        assert await snapshot(engine, fund_id) == before, (entry_id, error)


async def test_reversal_in_a_closed_period_is_refused(engine, fund_id):
    from zoneinfo import ZoneInfo

    from ledger.store import close_period

    old = await post(engine, fund_id, [dr("1002", 100), cr("4101.02", 100)], effective_at=T0)
    async with unit_of_work(engine) as session:
        await close_period(
            session, fund_id, T0.date(), tz=ZoneInfo("Asia/Shanghai"), recorded_by="u"
        )
    before = await snapshot(engine, fund_id)
    async with unit_of_work(engine) as session:
        with pytest.raises(PeriodClosed):
            await reverse_entry(session, old.id, memo="m", recorded_by="u")
    assert await snapshot(engine, fund_id) == before


async def test_a_reversal_of_another_fund_or_an_owned_entry_is_refused(engine, fund_id):
    other_fund = await new_fund(engine)
    await post(engine, other_fund, [dr("1002", 5), cr("4101.02", 5)])
    donation = await post(engine, fund_id, [dr("1002", 5), cr("4101.02", 5)], kind="donation")
    before = await snapshot(engine, fund_id)
    async with unit_of_work(engine) as session:
        with pytest.raises(InvalidState, match="undo it with voidDonation"):
            await reverse_entry(session, donation.id, memo="m", recorded_by="u")
    assert await snapshot(engine, fund_id) == before
    async with unit_of_work(engine) as session:
        with pytest.raises(InvalidState, match="undo it with"):
            await reverse_entry(session, donation.id, memo="m", recorded_by="u", owner="refund")
    # The owning operation names its kind, and may.
    async with unit_of_work(engine) as session:
        undone = await reverse_entry(
            session, donation.id, memo="void", recorded_by="u", owner="donation"
        )
    assert undone.reverses_id == donation.id
    assert set((await snapshot(engine, fund_id)).balances.values()) == {0}
