"""Sixty writers at once on one fund's accounts (PostgreSQL: real concurrency)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from db.uow import read_session, unit_of_work
from ledger.errors import InsufficientFunds, InvalidState
from ledger.reports import verify_journal
from ledger.store import account_balances, post_entry, reverse_entry
from ledger.tables import AccountRow, EntryRow, PostingRow
from tests.ledger.conftest import cr, dr, new_fund, sums_of_postings

WRITERS = 60
OPENING = 50_000


async def test_sixty_concurrent_writers_lose_nothing(pg_engine):
    engine = pg_engine
    fund_id = await new_fund(engine)
    async with unit_of_work(engine) as session:
        opening = await post_entry(
            session,
            fund_id,
            [dr("1002", OPENING), cr("4101.02", OPENING)],
            memo="opening",
            recorded_by="t",
        )
        # An approval (no guard involved) that ten writers will race to reverse.
        approval = await post_entry(
            session,
            fund_id,
            [dr("5101", 1), cr("2209.01", 1)],
            memo="approval",
            recorded_by="t",
            kind="disbursement_approval",
        )
    start = asyncio.Event()
    reversals: list[int] = []
    done: list[tuple[int, str, int]] = []  # (entry id, what, bank delta)
    refused: list[int] = []

    async def writer(i: int) -> None:
        await start.wait()
        deposit = 1_000 + i
        withdrawal = 2_500 + 10 * i  # together more than the bank will ever hold
        async with unit_of_work(engine) as session:
            entry = await post_entry(
                session,
                fund_id,
                [dr("1002", deposit), cr("4101.02", deposit)],
                memo=f"gift {i}",
                recorded_by=f"w{i}",
                kind="donation",
            )
        done.append((entry.id, "deposit", deposit))
        try:
            async with unit_of_work(engine) as session:
                entry = await post_entry(
                    session,
                    fund_id,
                    [dr("5101", withdrawal), cr("1002", withdrawal)],
                    memo=f"pay {i}",
                    recorded_by=f"w{i}",
                    kind="disbursement_payment",
                )
            done.append((entry.id, "withdrawal", -withdrawal))
        except InsufficientFunds:
            refused.append(i)
        if i % 6 == 0:  # ten writers race to reverse one entry: exactly one may
            try:
                async with unit_of_work(engine) as session:
                    entry = await reverse_entry(
                        session,
                        approval.id,
                        memo="undo",
                        recorded_by=f"w{i}",
                        owner="disbursement_approval",
                    )
                reversals.append(entry.id)
            except InvalidState:
                pass

    tasks = [asyncio.create_task(writer(i)) for i in range(WRITERS)]
    await asyncio.sleep(0.05)
    start.set()
    await asyncio.gather(*tasks)

    deposits = sum(d for _, what, d in done if what == "deposit")
    assert sum(1 for _, what, _ in done if what == "deposit") == WRITERS
    assert refused, "no withdrawal was refused: the test did not overdraw"
    assert any(what == "withdrawal" for _, what, _ in done)
    assert len(reversals) == 1  # reversed exactly once, however many tried

    async with read_session(engine) as session:
        stored = await account_balances(session, fund_id)
        # No lost update: the bank is exactly what the accepted entries say.
        assert stored["1002"] == OPENING + sum(d for _, _, d in done)
        assert stored["4101.02"] == OPENING + deposits
        assert stored["2209.01"] == 0
        assert stored["1002"] >= 0
        # No double post: exactly the accepted entries exist, once each.
        rows = (
            await session.execute(
                select(EntryRow.id, EntryRow.sequence)
                .where(EntryRow.fund_id == fund_id)
                .order_by(EntryRow.sequence)
            )
        ).all()
        accepted = [opening.id, approval.id, *reversals, *(e for e, _, _ in done)]
        assert sorted(r.id for r in rows) == sorted(accepted)
        assert [r.sequence for r in rows] == list(range(1, len(rows) + 1))  # gapless
        verification = await verify_journal(session, fund_id)
        assert verification.ok, verification
        assert verification.entries_checked == len(rows)
        # The bank never went below zero at any point of the serialized history.
        bank_moves = (
            await session.execute(
                select(PostingRow.normal_delta_fen)
                .join(EntryRow, EntryRow.id == PostingRow.entry_id)
                .join(AccountRow, AccountRow.id == PostingRow.account_id)
                .where(AccountRow.fund_id == fund_id, AccountRow.code == "1002")
                .order_by(EntryRow.sequence)
            )
        ).scalars()
        running = 0
        for delta in bank_moves:
            running += delta
            assert running >= 0
    assert await sums_of_postings(engine, fund_id) == stored
