"""`jinlin backup` then `jinlin restore` into a fresh database: the same balances,
heads and hashes; a restore refuses a database that is not empty, and says so when
what it restored is not what was backed up."""

from __future__ import annotations

import json
import subprocess

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from ops.backup import heads_path
from tests.faults.harness import ROOT, asyncpg_dsn, jinlin_command, server_env

LEDGER_STATE = {
    "balances": "SELECT b.fund_id, a.code, a.balance_fen FROM ledger_accounts a"
    " JOIN ledger_books b ON b.fund_id = a.fund_id ORDER BY 1, 2",
    "heads": "SELECT fund_id, last_sequence, last_hash FROM ledger_books ORDER BY 1",
    "hashes": "SELECT fund_id, sequence, hash, previous_hash FROM journal_entries ORDER BY 1, 2",
    "donations": "SELECT id, channel, amount_fen, donor_name FROM donations ORDER BY id",
}


def jinlin(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*jinlin_command(), *args],
        env=server_env(database_url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )


async def ledger_state(url: str) -> dict[str, list]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return {name: [tuple(r) for r in await conn.fetch(q)] for name, q in LEDGER_STATE.items()}
    finally:
        await conn.close()


@pytest.fixture
async def empty_database(db_url):
    """A database beside the test's, freshly created and never migrated."""
    name = f"{make_url(db_url).database}_restored"
    admin = await asyncpg.connect(asyncpg_dsn(db_url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _populate(world) -> None:
    for channel, amount in (("CASH", "100.00"), ("ONLINE", "12.34"), ("BANK_TRANSFER", "5000.00")):
        assert (await world.donate(channel, amount))["errors"] == []
    assert (await world.donate("CASH", "7.00", fund=world.other_fund))["errors"] == []


async def test_restore_gives_back_the_same_ledger(world, db_url, empty_database, tmp_path):
    await _populate(world)
    dump = tmp_path / "jinlin.dump"
    made = jinlin(db_url, "backup", str(dump))
    assert made.returncode == 0, made.stderr
    record = json.loads(heads_path(dump).read_text())
    assert {f["code"] for f in record["funds"]} == {"ETGY", "BH"}
    assert all(f["last_sequence"] > 0 and len(f["last_hash"]) == 64 for f in record["funds"])

    # Written after the backup: not in it.
    assert (await world.donate("CASH", "1.00"))["errors"] == []

    restored = jinlin(empty_database, "restore", str(dump))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "heads match the backup" in restored.stdout
    after = await ledger_state(empty_database)
    original = await ledger_state(db_url)
    assert after["donations"] == original["donations"][:-1]
    assert set(after["hashes"]) < set(original["hashes"])
    assert len(original["hashes"]) - len(after["hashes"]) == 1
    verified = jinlin(empty_database, "verify-journal")
    assert verified.returncode == 0, verified.stdout


async def test_identical_balances_heads_and_hashes(world, db_url, empty_database, tmp_path):
    await _populate(world)
    dump = tmp_path / "jinlin.dump"
    assert jinlin(db_url, "backup", str(dump)).returncode == 0
    assert jinlin(empty_database, "restore", str(dump)).returncode == 0
    assert await ledger_state(empty_database) == await ledger_state(db_url)


async def test_restore_refuses_a_database_that_is_not_empty(world, db_url, tmp_path):
    await _populate(world)
    dump = tmp_path / "jinlin.dump"
    assert jinlin(db_url, "backup", str(dump)).returncode == 0
    before = await ledger_state(db_url)
    refused = jinlin(db_url, "restore", str(dump))
    assert refused.returncode == 2
    assert "not empty" in refused.stderr
    assert await ledger_state(db_url) == before


async def test_restore_reports_heads_unlike_the_backups(world, db_url, empty_database, tmp_path):
    await _populate(world)
    dump = tmp_path / "jinlin.dump"
    assert jinlin(db_url, "backup", str(dump)).returncode == 0
    record = json.loads(heads_path(dump).read_text())
    record["funds"][0]["last_hash"] = "0" * 64  # as if an entry were lost since
    heads_path(dump).write_text(json.dumps(record))
    restored = jinlin(empty_database, "restore", str(dump))
    assert restored.returncode == 1
    assert f"FAULT {record['funds'][0]['code']}: head" in restored.stderr


async def test_restore_refuses_a_dump_its_heads_do_not_describe(world, db_url, tmp_path):
    dump = tmp_path / "jinlin.dump"
    assert jinlin(db_url, "backup", str(dump)).returncode == 0
    dump.write_bytes(dump.read_bytes() + b"x")
    refused = jinlin(db_url, "restore", str(dump))
    assert refused.returncode == 2
    assert "SHA-256" in refused.stderr


async def _tamper(url: str, statement: str) -> None:
    """What only someone with the server's superuser could do: past the journal's
    append-only triggers (session_replication_role skips them)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("SET session_replication_role = replica")
        assert await conn.execute(statement) == "UPDATE 1"
    finally:
        await conn.close()


async def test_restore_fails_on_a_journal_that_does_not_verify(
    world, db_url, empty_database, tmp_path
):
    """The heads agree (the entry changed is not the last one), but the chain does not."""
    await _populate(world)
    await _tamper(
        db_url,
        "UPDATE journal_entries SET memo = memo || ' (edited)' WHERE id ="
        " (SELECT min(id) FROM journal_entries)",
    )
    dump = tmp_path / "jinlin.dump"
    assert jinlin(db_url, "backup", str(dump)).returncode == 0
    restored = jinlin(empty_database, "restore", str(dump))
    assert restored.returncode == 1, restored.stdout + restored.stderr
    assert "the journal does not verify" in restored.stderr
    assert "NOT as backed up" in restored.stdout


async def test_restore_fails_on_records_the_audit_finds_unlike_the_ledger(
    world, db_url, empty_database, tmp_path
):
    """The journal verifies, but a donation no longer says what its entry says."""
    await _populate(world)
    await _tamper(
        db_url,
        "UPDATE donations SET amount_fen = amount_fen + 1 WHERE id ="
        " (SELECT min(id) FROM donations WHERE channel = 'CASH')",
    )
    dump = tmp_path / "jinlin.dump"
    assert jinlin(db_url, "backup", str(dump)).returncode == 0
    assert jinlin(db_url, "verify-journal").returncode == 0
    restored = jinlin(empty_database, "restore", str(dump))
    assert restored.returncode == 1, restored.stdout + restored.stderr
    assert ": audit, " in restored.stderr
    assert "does not verify" not in restored.stderr
