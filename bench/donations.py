"""Donation write throughput on PostgreSQL: HTTP vs the use case vs the ledger API vs
plain asyncpg SQL (run by hand or by `make bench`; not a test).

    .venv/bin/python bench/donations.py -n 4000 -c 32 --workers 2

For each scenario (spread over 20 funds; all into ONE fund) on a scratch database:
1. `jinlin serve --workers W`, then C keep-alive connections send recordDonation
   mutations (ONLINE, each with its own idempotency key and externalRef): N requests from
   httpx clients in this process (which competes with the server for the two cores),
   then, when wrk is installed, wrk for --http-seconds (a C load generator: the fairer
   figure for the server).
2. The same N donations through the use case in-process (resolvers.donations.
   record_donation: idempotency, donation row, ledger entry; no HTTP, no GraphQL).
3. The same N entries through the ledger API alone (ledger.store.post_entry).
4. The same ledger transaction as plain asyncpg SQL: lock the two balances with
   SELECT ... FOR UPDATE in id order, insert the entry and its two postings, update
   the two balances: the floor a correct ledger on this PostgreSQL pays.

Then, for the 20 funds, the share of the floor again, measured in alternating turns
(`share_rounds`): wrk over HTTP, the floor, wrk, the floor, ... on one database, the
floor into funds of its own. The floor moves with the host by a factor of two within an
hour and the service's rate less, so a share from runs made minutes apart compares the
host as much as the code (docs/performance.md); the median of these turns does not.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
from datetime import UTC, datetime
from decimal import Decimal

import asyncpg
import httpx
from common import (
    DEFAULT_URL,
    DONATE,
    LOAD_COLUMNS,
    Load,
    ScratchDatabase,
    Server,
    analyze,
    console,
    create_users,
    donation_input,
    have_wrk,
    http_load,
    login,
    machine,
    markdown,
    open_funds,
    ratio,
    table,
    timed_tasks,
    wrk_load,
)

from db.engine import make_engine
from db.uow import unit_of_work
from ledger.accounts import INCOME_ONLINE, ONLINE_CLEARING
from ledger.entries import PostingSpec
from ledger.store import post_entry
from resolvers.auth import Viewer
from resolvers.commands import RecordDonation
from resolvers.donations import record_donation
from resolvers.ids import decode_id, key_of
from resolvers.unit_of_work import UnitOfWork


def _amount(i: int) -> str:
    return f"{10 + i % 990}.{i % 100:02d}"


def _ok(body: dict) -> bool:
    payload = (body.get("data") or {}).get("recordDonation") or {}
    return not body.get("errors") and payload.get("errors") == [] and bool(payload["donation"])


async def http_phase(
    db_url: str, n: int, c: int, workers: int, n_funds: int, tag: str, seconds: float
) -> tuple[list, list[str], list[str]]:
    """The HTTP rows: N requests from C httpx clients in this process (the issue's
    fixed count), then, when wrk is installed, a timed wrk run (a C load generator,
    which leaves the two cores to the server and PostgreSQL)."""
    with Server(db_url, workers=workers) as server:
        await server.start_ready(60)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            admin = await login(http, "admin")
            fin = await login(http, "fin")
            funds = await open_funds(http, admin, n_funds, tag)
        rng = random.Random(1)
        targets = [funds[rng.randrange(n_funds)] for _ in range(n + 4 * c)]
        label = f"HTTP, {workers} workers"

        def body(i: int, prefix: str) -> dict:
            inp = donation_input(targets[i], f"{prefix}{i}", _amount(i))
            return {"query": DONATE, "variables": {"i": inp}}

        # Warm every worker's pools, caches and JIT-free paths outside the timing.
        await http_load("warm", server.base_url, fin, 4 * c, c, lambda i: body(i, "w"), _ok)
        await analyze(db_url)
        loads: list = [
            await http_load(
                f"{label} (httpx, this process)",
                server.base_url,
                fin,
                n,
                c,
                lambda i: body(i, "h"),
                _ok,
            )
        ]
        if have_wrk():
            loads.append(
                await wrk_load(
                    f"{label} (wrk, {seconds:g} s)", server.base_url, fin, funds, seconds, c
                )
            )
    return loads, funds, targets


async def use_case_phase(db_url: str, n: int, c: int, targets: list[str]) -> Load:
    # The server's write gate too (db/engine.py): two writers at a time.
    engine = make_engine(db_url, pool_size=c)
    try:
        conn = await asyncpg.connect(ScratchDatabase.dsn_of(db_url))
        user_id = await conn.fetchval("SELECT id FROM users WHERE username = 'fin'")
        await conn.close()
        uow = UnitOfWork(engine, Viewer(user_id, "fin", frozenset({"FINANCE"})))

        async def one(i: int):
            key = f"u{i}"
            return await record_donation(
                RecordDonation(
                    fund_id=key_of(targets[i], "Fund"),
                    channel="ONLINE",
                    amount=Decimal(_amount(i)),
                    currency="CNY",
                    idempotency_key=key,
                    donor_name="张三",
                    external_ref=f"ref-{key}",
                ),
                uow,
            )

        for i in range(c):  # warm the pool
            await one(n + i)
        return await timed_tasks("use case (record_donation)", n, c, one)
    finally:
        await engine.dispose()


async def ledger_phase(db_url: str, n: int, c: int, targets: list[str]) -> Load:
    engine = make_engine(db_url, pool_size=c)
    pks = [decode_id(t, "Fund", field="fundId") for t in targets]
    try:

        async def one(i: int):
            fen = 1000 + i % 99_000
            async with unit_of_work(engine) as session:
                await post_entry(
                    session,
                    pks[i],
                    [
                        PostingSpec(ONLINE_CLEARING, "DEBIT", fen, "CNY"),
                        PostingSpec(INCOME_ONLINE, "CREDIT", fen, "CNY"),
                    ],
                    memo=f"ONLINE donation l{i}",
                    recorded_by="fin",
                    kind="donation",
                    reference=f"l{i}",
                )

        for i in range(c):
            await one(n + i)
        return await timed_tasks("ledger API (post_entry)", n, c, one)
    finally:
        await engine.dispose()


async def sql_phase(db_url: str, n: int, c: int, targets: list[str], label: str) -> Load:
    dsn = ScratchDatabase.dsn_of(db_url)
    pks = [decode_id(t, "Fund", field="fundId") for t in targets]
    pool = await asyncpg.create_pool(dsn, min_size=c, max_size=c)
    try:
        rows = await pool.fetch(
            "SELECT fund_id, code, id FROM ledger_accounts WHERE code = ANY($1)",
            [ONLINE_CLEARING, INCOME_ONLINE],
        )
        accounts: dict[int, dict[str, int]] = {}
        for r in rows:
            accounts.setdefault(r["fund_id"], {})[r["code"]] = r["id"]
        # Sequences continue after what the other phases wrote.
        last = dict(
            await pool.fetch(
                "SELECT b.fund_id, coalesce(max(e.sequence), 0) FROM ledger_books b"
                " LEFT JOIN journal_entries e ON e.fund_id = b.fund_id GROUP BY b.fund_id"
            )
        )
        sequences = {f: itertools.count(s + 1) for f, s in last.items()}
        connections: asyncio.Queue = asyncio.Queue()
        for _ in range(c):
            connections.put_nowait(await pool.acquire())

        async def one(i: int):
            fund = pks[i]
            debit, credit = accounts[fund][ONLINE_CLEARING], accounts[fund][INCOME_ONLINE]
            ordered = sorted([debit, credit])
            fen = 1000 + i % 99_000
            conn = await connections.get()
            try:
                async with conn.transaction():
                    await conn.fetch(
                        "SELECT id, balance_fen FROM ledger_accounts WHERE id = ANY($1)"
                        " ORDER BY id FOR UPDATE",
                        ordered,
                    )
                    now = datetime.now(UTC)
                    entry_id = await conn.fetchval(
                        "INSERT INTO journal_entries (fund_id, sequence, kind, effective_at,"
                        " recorded_at, memo, recorded_by, hash) VALUES"
                        " ($1, $2, 'donation', $3, $3, 'ONLINE donation', 'fin', $4) RETURNING id",
                        fund,
                        next(sequences[fund]),  # taken under the lock: ordered per fund
                        now,
                        "0" * 64,
                    )
                    await conn.execute(
                        "INSERT INTO postings (entry_id, account_id, side, amount_fen, currency,"
                        " effective_at, normal_delta_fen) VALUES"
                        " ($1, $2, 'DEBIT', $4, 'CNY', $5, $4), ($1, $3, 'CREDIT', $4, 'CNY', $5, $4)",
                        entry_id,
                        debit,
                        credit,
                        fen,
                        now,
                    )
                    await conn.execute(
                        "UPDATE ledger_accounts SET balance_fen = balance_fen + $2 WHERE id = ANY($1)",
                        ordered,
                        fen,
                    )
            finally:
                connections.put_nowait(conn)

        load = await timed_tasks(label, n, c, one)
        while not connections.empty():
            await pool.release(connections.get_nowait())
        return load
    finally:
        await pool.close()


async def scenario(
    base_url: str, n: int, c: int, workers: int, n_funds: int, seconds: float
) -> list[Load]:
    async with ScratchDatabase(base_url, prefix="jinlin_bench") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        http, _funds, targets = await http_phase(db.url, n, c, workers, n_funds, "B", seconds)
        use_case = await use_case_phase(db.url, n, c, targets)
        ledger = await ledger_phase(db.url, n, c, targets)
        # The floor with C connections, as the issue describes it, and with as few as
        # the server's write gate admits (2 workers x 2): whichever is faster is the floor.
        sql = await sql_phase(db.url, n, c, targets, f"plain asyncpg SQL, {c} connections")
        few = await sql_phase(db.url, n, 4, targets, "plain asyncpg SQL, 4 connections")
        return [*http, use_case, ledger, sql, few]


SHARE_COLUMNS = ["round", "HTTP req/s (wrk)", "floor req/s", "share"]


async def share_rounds(
    url: str, c: int, workers: int, n_funds: int, seconds: float, n: int, rounds: int
) -> tuple[str, list[str], list[list[str]]]:
    """HTTP's share of the plain-SQL floor, in `rounds` alternating turns: wrk for
    `seconds` into `n_funds` funds, then the floor's `n` entries into as many other
    funds (the faster of C and 4 connections, as `report` takes it)."""
    rows: list[list[str]] = []
    shares: list[float] = []
    async with ScratchDatabase(url, prefix="jinlin_share") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with Server(db.url, workers=workers) as server:
            await server.start_ready(60)
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                admin, fin = await login(http, "admin"), await login(http, "fin")
                opened = await open_funds(http, admin, 2 * n_funds, "S")
                funds, floor_funds = opened[:n_funds], opened[n_funds:]
            await wrk_load("warm", server.base_url, fin, funds, 2, 8)
            await analyze(db.url)
            rng = random.Random(3)
            for r in range(rounds):
                run = await wrk_load("HTTP", server.base_url, fin, funds, seconds, c)
                if run.errors:
                    raise RuntimeError(f"{run.errors} errors over HTTP")
                targets = [floor_funds[rng.randrange(n_funds)] for _ in range(n)]
                floor = 0.0
                for k in (c, 4):
                    floor = max(floor, (await sql_phase(db.url, n, k, targets, "floor")).rate)
                shares.append(run.rate / floor)
                rows.append(
                    [str(r + 1), f"{run.rate:,.0f}", f"{floor:,.0f}", ratio(run.rate, floor)]
                )
    title = (
        f"Share of the floor in alternating turns, {n_funds} funds, C={c}: median "
        f"{statistics.median(shares):.0%} (range {min(shares):.0%}-{max(shares):.0%})"
    )
    console.print(table(title, SHARE_COLUMNS, rows))
    return title, SHARE_COLUMNS, rows


LOAD_SHARE_COLUMNS = [*LOAD_COLUMNS, "vs SQL", "vs use case"]


def report(title: str, loads: list) -> tuple[str, list[str], list[list[str]]]:
    """Rows: the HTTP runs, the use case, the ledger API, the two plain-SQL floors."""
    use_case = next(ld for ld in loads if ld.label.startswith("use case"))
    floor = max(ld.rate for ld in loads if ld.label.startswith("plain"))  # the faster one
    rows = [[*ld.row(), ratio(ld.rate, floor), ratio(ld.rate, use_case.rate)] for ld in loads]
    console.print(table(title, LOAD_SHARE_COLUMNS, rows))
    http = loads[0]
    console.print(
        f"  the httpx load generator (this process) used {http.client_cpu:.1f} CPU s of its "
        f"run's {http.elapsed:.1f} s, on the same two cores as the server"
    )
    for ld in loads:
        if getattr(ld, "first_error", ""):
            console.print(f"  {ld.label}: {ld.errors} errors, first: {ld.first_error}")
    return title, LOAD_SHARE_COLUMNS, rows


async def main(argv: list[str] | None = None) -> list[tuple[str, list[str], list[list[str]]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL server to use")
    parser.add_argument("-n", type=int, default=4000, help="donations per path")
    parser.add_argument("-c", type=int, default=32, help="concurrent clients / writers")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--funds", type=int, default=20, help="funds of the spread scenario")
    parser.add_argument("--http-seconds", type=float, default=10, help="length of the wrk run")
    parser.add_argument(
        "--share-rounds", type=int, default=4, help="alternating turns of HTTP and the floor"
    )
    parser.add_argument("--share-seconds", type=float, default=6, help="wrk's part of a turn")
    parser.add_argument("--share-only", action="store_true", help="only the alternating turns")
    args = parser.parse_args(argv)
    console.print(f"[bold]machine[/]: {machine()}")
    results = []
    for n_funds in () if args.share_only else (args.funds, 1):
        loads = await scenario(args.url, args.n, args.c, args.workers, n_funds, args.http_seconds)
        where = f"spread over {n_funds} funds" if n_funds > 1 else "all into ONE fund"
        results.append(report(f"Donations {where}: {args.n:,} each path, C={args.c}", loads))
    if args.share_rounds and have_wrk():
        turns = (args.c, args.workers, args.funds, args.share_seconds, args.n // 2)
        results.append(await share_rounds(args.url, *turns, args.share_rounds))
    return results


if __name__ == "__main__":
    for title, columns, rows in asyncio.run(main()):
        print(f"\n### {title}\n\n{markdown(columns, rows)}")
