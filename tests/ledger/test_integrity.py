"""Append-only on PostgreSQL, and tampering behind the ledger's back is found."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from db.uow import read_session, unit_of_work
from ledger.reports import verify_journal
from ledger.store import post_entry
from ledger.tables import PostingRow
from tests.ledger.conftest import cr, dr, new_fund


async def _three_entries(engine, fund_id):
    entries = []
    for amount in (1000, 200, 300):
        async with unit_of_work(engine) as session:
            entries.append(
                await post_entry(
                    session,
                    fund_id,
                    [dr("1002", amount), cr("4101.02", amount)],
                    memo=f"gift {amount}",
                    recorded_by="u",
                )
            )
    return entries


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_entries SET memo = 'edited'",
        "UPDATE postings SET amount_fen = amount_fen + 1",
        "DELETE FROM postings",
        "DELETE FROM journal_entries WHERE sequence = 3",
        "TRUNCATE postings, journal_entries CASCADE",
    ],
)
async def test_postgres_refuses_to_rewrite_the_journal(pg_engine, statement):
    fund_id = await new_fund(pg_engine)
    await _three_entries(pg_engine, fund_id)
    with pytest.raises(DBAPIError, match="journal is append-only"):
        async with pg_engine.begin() as conn:
            await conn.exec_driver_sql(statement)
    async with read_session(pg_engine) as session:
        verification = await verify_journal(session, fund_id)
    assert verification.ok and verification.entries_checked == 3


async def _tamper(engine, statement: str, *params) -> None:
    async with engine.begin() as conn:
        # Superuser only: user triggers do not fire for a replica session.
        await conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        await conn.exec_driver_sql(statement, params)


async def test_an_edited_amount_names_its_entry(engine):
    fund_id = await new_fund(engine)
    _first, second, _third = await _three_entries(engine, fund_id)
    async with read_session(engine) as session:
        posting_id = await session.scalar(
            select(PostingRow.id).where(PostingRow.entry_id == second.id).order_by(PostingRow.id)
        )
    await _tamper(
        engine,
        "UPDATE postings SET amount_fen = 250 WHERE id = $1",
        posting_id,
    )
    async with read_session(engine) as session:
        verification = await verify_journal(session, fund_id)
    assert not verification.ok
    assert verification.first_broken_entry_id == second.id
    assert verification.entries_checked == 3
    assert verification.unbalanced_entry_ids == [second.id]
    assert verification.delta_mismatches == [posting_id]
    assert verification.balance_mismatches == [("1002", 1500, 1550)]


async def test_an_edited_memo_or_a_forged_link_is_found(engine):
    fund_id = await new_fund(engine)
    _first, _second, third = await _three_entries(engine, fund_id)
    await _tamper(
        engine,
        "UPDATE journal_entries SET memo = 'gift' WHERE id = $1",
        third.id,
    )
    async with read_session(engine) as session:
        verification = await verify_journal(session, fund_id)
    assert verification.first_broken_entry_id == third.id
    assert verification.balance_mismatches == [] and not verification.ok

    # Rewriting an entry's hash breaks it and its successor's link; the first is named.
    fund_id = await new_fund(engine)
    first, _second, _third = await _three_entries(engine, fund_id)
    await _tamper(
        engine,
        "UPDATE journal_entries SET hash = $1 WHERE id = $2",
        "f" * 64,
        first.id,
    )
    async with read_session(engine) as session:
        verification = await verify_journal(session, fund_id)
    assert verification.first_broken_entry_id == first.id


async def test_a_deleted_entry_leaves_a_gap(engine):
    fund_id = await new_fund(engine)
    _first, second, third = await _three_entries(engine, fund_id)
    await _tamper(engine, "DELETE FROM postings WHERE entry_id = $1", second.id)
    await _tamper(engine, "DELETE FROM journal_entries WHERE id = $1", second.id)
    async with read_session(engine) as session:
        verification = await verify_journal(session, fund_id)
    assert verification.sequence_gaps == [(2, 2)]
    assert verification.first_broken_entry_id == third.id  # its previous_hash is gone
    assert verification.balance_mismatches == [("1002", 1500, 1300), ("4101.02", 1500, 1300)]
    assert not verification.ok
