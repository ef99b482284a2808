"""Tamper evidence: edit the journal as a superuser bypassing the triggers; the
journal check names the entry, and that receipt's proof no longer checks (PostgreSQL)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from cli import main
from resolvers.cli_receipts import check_proof
from tests.api.world import pk
from tests.receipts.conftest import publish, receipt_of, today

ENTRY = """query($id: ID!) { node(id: $id) { ... on Donation { journalEntry { id } } } }"""
EDITS = {
    "amount": "UPDATE postings SET amount_fen = amount_fen * 10 WHERE entry_id = $1",
    "posting": """UPDATE postings SET account_id = (
        SELECT a.id FROM ledger_accounts AS a JOIN postings AS p ON p.entry_id = $1
        WHERE a.fund_id = (SELECT fund_id FROM journal_entries WHERE id = $1)
          AND a.id <> p.account_id AND a.code = '1001' LIMIT 1)
        WHERE id = (SELECT min(id) FROM postings WHERE entry_id = $1)""",
    "entry": "UPDATE journal_entries SET memo = memo || ' (edited)' WHERE id = $1",
}


async def _as_superuser(db_url: str, sql: str, entry_id: int) -> None:
    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            assert await conn.execute(sql, entry_id) != "UPDATE 0"
    finally:
        await conn.close()


@pytest.mark.parametrize("what", sorted(EDITS))
async def test_an_edit_behind_the_ledgers_back_is_caught(
    what, world, db_url, tomorrow, monkeypatch, capsys
):
    gifts = [(await world.donate(amount=f"{i}.00"))["donation"]["id"] for i in (11, 12, 13)]
    published = await publish(world.api, world.fund, today(world.api), world.fin)
    root = published["root"]["root"]
    numbers = [(await receipt_of(world.api, g, world.fin))["number"] for g in gifts]
    for number in numbers:
        assert check_proof((await world.api.http.get(f"/verify/{number}.json")).json()) == []
    node = (await world.api.data(ENTRY, {"id": gifts[1]}, token=world.fin))["node"]
    entry_id = pk(node["journalEntry"]["id"])

    await _as_superuser(db_url, EDITS[what], entry_id)

    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    monkeypatch.setenv("JINLIN_SECRET_KEY", "x" * 40)
    # The command runs its own event loop, as from a shell.
    assert await asyncio.to_thread(main, ["verify-journal", "ETGY"]) == 1
    out = capsys.readouterr().out
    assert "ETGY: FAULT" in out and f"first broken entry: id {entry_id}" in out
    tampered = (await world.api.http.get(f"/verify/{numbers[1]}.json")).json()
    assert tampered["proof"]["root"] == root  # the published root stands
    assert check_proof(tampered) != []
    for untouched in (numbers[0], numbers[2]):
        assert check_proof((await world.api.http.get(f"/verify/{untouched}.json")).json()) == []
    again = await publish(world.api, world.fund, today(world.api), world.fin2)
    assert again["root"]["root"] == root


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE daily_roots SET root = repeat('0', 64)",
        "DELETE FROM daily_roots",
        "UPDATE receipts SET number = 'X'",
        "DELETE FROM receipts",
    ],
)
async def test_published_roots_and_receipts_refuse_to_change(sql, world, db_url, tomorrow):
    await world.donate()
    await publish(world.api, world.fund, today(world.api), world.fin)
    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute(sql)
    finally:
        await conn.close()
