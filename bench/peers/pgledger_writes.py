"""pgledger (github.com/pgr0ss/pgledger), the write peer: a double-entry ledger in one
PostgreSQL file, whose pgledger_create_transfer(from, to, amount) is one call, like
Jinlin's ledger_post. Loaded into its own schema of the bench's scratch database.

Its SQL is not committed here: the upstream repository carries no licence file we could
cite, so bench/peers/pgledger/pgledger.sql is git-ignored and must be put there by hand
(bench/peers/README.md says which commit); without it the pgledger row is left out.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import asyncpg

HERE = Path(__file__).resolve().parent / "pgledger"
SQL = HERE / "pgledger.sql"
ULID_SQL = HERE / "ulid.sql"
PINNED_COMMIT = "93536655e18c82d4f6d729ed9c5f0a84fdba2e3d"
SCHEMA = "pgledger"
SEARCH_PATH = {"search_path": f"{SCHEMA}, public"}


def missing() -> str | None:
    """None when pgledger's SQL is in place, else what to do."""
    if SQL.exists():
        return None
    return (
        f"pgledger left out: put pgledger.sql of pgr0ss/pgledger at commit {PINNED_COMMIT} "
        f"at {SQL} (see bench/peers/README.md)"
    )


def fingerprint() -> str:
    """The loaded file's SHA-256 (first 12 hex digits), printed beside its figures."""
    return hashlib.sha256(SQL.read_bytes()).hexdigest()[:12]


async def load(dsn: str) -> None:
    """pgledger's schema, functions and the ULID stand-in, in schema `pgledger`."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA {SCHEMA}")
        await conn.execute(f"SET search_path = {SCHEMA}, public")
        await conn.execute(ULID_SQL.read_text())
        await conn.execute(SQL.read_text())
    finally:
        await conn.close()


async def pool(dsn: str, size: int) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=size, max_size=size, server_settings=SEARCH_PATH)


async def open_accounts(p: asyncpg.Pool) -> tuple[str, str]:
    """An income account and a bank account that may never go negative (as Jinlin's
    guarded bank): the two accounts of a donation's entry."""
    income = await p.fetchval("SELECT id FROM pgledger_create_account('income', 'CNY')")
    bank = await p.fetchval("SELECT id FROM pgledger_create_account('bank', 'CNY', false, true)")
    return income, bank


async def transfer(p: asyncpg.Pool, income: str, bank: str, fen: int) -> None:
    """One transfer, one statement outside a transaction (it commits on its own)."""
    await p.fetchval(
        "SELECT id FROM pgledger_create_transfer($1, $2, $3)",
        income,
        bank,
        Decimal(fen) / 100,
    )


async def check(p: asyncpg.Pool, bank: str, transfers: int, fen: int) -> None:
    """Every transfer wrote its two entries, and the bank holds their sum."""
    balance = await p.fetchval("SELECT balance FROM pgledger_accounts WHERE id = $1", bank)
    entries = await p.fetchval("SELECT count(*) FROM pgledger_entries")
    if balance != Decimal(transfers * fen) / 100 or entries != 2 * transfers:
        raise RuntimeError(f"pgledger: bank {balance}, {entries} entries after {transfers}")
