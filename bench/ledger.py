"""Ledger benchmark on PostgreSQL (run by hand, not a test).

    .venv/bin/python bench/ledger.py -n 5000 -c 16    # JINLIN_BENCH_DATABASE_URL or --url

1. Creates a scratch database (migrated), dropped at the end.
2. Posts N two-posting entries (Dr 1002 / Cr 4101.02, 1.00, one fund) with C concurrent
   connections, each entry committed on its own, four ways: plain asyncpg SQL (lock the
   two balances with SELECT ... FOR UPDATE in id order, insert the entry and its two
   postings, update the two balances: the floor the ledger's extra work of book lock,
   rules, guards and hash chain is paid against); pgledger_create_transfer, the peer
   (bench/peers/pgledger_writes.py, when its SQL is in place); ledger_post, the rule
   book's call, as one statement; the ledger API (post_entry in a unit of work).
3. Builds a journal of P postings (default 1,000,000) on another fund with real
   hashes, loaded with COPY, and times balance_at, balances_at, trial_balance,
   statement and verify_journal on it.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# This file is named ledger.py: keep its own folder off the front of the import path so
# that `ledger` is the package; common (imported below) appends it, for bench/peers.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path[:0] = [str(_HERE.parent), str(_HERE)]

import argparse
import asyncio
import itertools
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from common import DEFAULT_URL, Load, console, machine, markdown, pct, ratio, table, timed_tasks
from peers import pgledger_writes
from sqlalchemy.engine import make_url

from db.engine import make_engine
from db.migrate import upgrade_async
from db.models import FundRow
from db.uow import read_session, unit_of_work
from ledger.accounts import BANK, CHART, INCOME_OFFLINE, normal_delta
from ledger.entries import PostingSpec
from ledger.reports import balance_at, balances_at, statement, trial_balance, verify_journal
from ledger.store import open_book, post_entry
from tests.ledger.test_hash import specified_hash  # the encoding's specification

TZ = ZoneInfo("Asia/Shanghai")
POSTINGS = [PostingSpec(BANK, "DEBIT", 100), PostingSpec(INCOME_OFFLINE, "CREDIT", 100)]
MEMO = "bench donation"


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _sa_url(url: str, database: str) -> str:
    parsed = make_url(url).set(drivername="postgresql+asyncpg", database=database)
    return parsed.render_as_string(hide_password=False)


async def create_fund(engine, code: str) -> int:
    async with unit_of_work(engine) as session:
        fund = FundRow(
            code=f"{code}-{uuid.uuid4().hex[:6]}",
            name=code,
            level="COMMUNITY",
            host="郑州市慈善总会",
        )
        session.add(fund)
        await session.flush()
        await open_book(session, fund.id)
        return fund.id


# ---------------------------------------------------------------- write throughput
# Each path posts the same N two-posting entries (Dr bank / Cr offline income, 1.00,
# into one fund) with C concurrent connections, each entry committed on its own.


async def run_ledger(url: str, n: int, c: int) -> Load:
    """The ledger API as the server calls it: post_entry in a unit of work (a session,
    BEGIN, the ledger_post call, COMMIT), through the engine's write gate."""
    engine = make_engine(url, pool_size=c)
    try:
        fund_id = await create_fund(engine, "BENCH-LEDGER")

        async def one(_i: int) -> None:
            async with unit_of_work(engine) as session:
                await post_entry(
                    session, fund_id, POSTINGS, memo=MEMO, recorded_by="bench", kind="donation"
                )

        await asyncio.gather(*(one(i) for i in range(c)))  # warm the pool
        load = await timed_tasks("ledger API (post_entry, unit of work)", n, c, one)
        async with read_session(engine) as session:
            assert (await verify_journal(session, fund_id)).ok
        return load
    finally:
        await engine.dispose()


async def run_ledger_post(url: str, dsn: str, n: int, c: int) -> Load:
    """The rule book's own call, ledger_post, as one asyncpg statement outside a
    transaction: like with like against pgledger_create_transfer."""
    engine = make_engine(url)
    try:
        fund_id = await create_fund(engine, "BENCH-LEDGER-POST")
    finally:
        await engine.dispose()
    pool = await asyncpg.create_pool(dsn, min_size=c, max_size=c)
    try:

        async def one(_i: int) -> None:
            await pool.fetchval(
                "SELECT entry_id FROM ledger_post($1, 'donation', NULL, $2, 'bench', NULL,"
                " $3, $4, $5, $6)",
                fund_id,
                MEMO,
                [p.account_code for p in POSTINGS],
                [p.side for p in POSTINGS],
                [p.amount_fen for p in POSTINGS],
                [p.currency for p in POSTINGS],
            )

        await asyncio.gather(*(one(i) for i in range(c)))
        return await timed_tasks("ledger_post (one statement, asyncpg)", n, c, one)
    finally:
        await pool.close()


async def run_baseline(url: str, dsn: str, n: int, c: int) -> Load:
    """The floor: the same rows as plain SQL (lock the two balances in id order, insert
    the entry and its two postings, update the balances) in one transaction, with no
    rule, guard or hash."""
    engine = make_engine(url)
    try:
        fund_id = await create_fund(engine, "BENCH-BASELINE")
    finally:
        await engine.dispose()
    pool = await asyncpg.create_pool(dsn, min_size=c, max_size=c)
    try:
        ids = dict(
            await pool.fetch(
                "SELECT code, id FROM ledger_accounts WHERE fund_id = $1 AND code = ANY($2)",
                fund_id,
                [BANK, INCOME_OFFLINE],
            )
        )
        bank, income = ids[BANK], ids[INCOME_OFFLINE]
        ordered = sorted([bank, income])
        sequence = itertools.count(1)

        async def one(_i: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.fetch(
                    "SELECT id, balance_fen FROM ledger_accounts WHERE id = ANY($1) "
                    "ORDER BY id FOR UPDATE",
                    ordered,
                )
                now = datetime.now(UTC)
                entry_id = await conn.fetchval(
                    "INSERT INTO journal_entries (fund_id, sequence, kind, effective_at,"
                    " recorded_at, memo, recorded_by, hash) VALUES"
                    " ($1, $2, 'donation', $3, $3, 'bench donation', 'bench', $4)"
                    " RETURNING id",
                    fund_id,
                    next(sequence),  # taken under the lock: ordered
                    now,
                    "0" * 64,
                )
                await conn.execute(
                    "INSERT INTO postings (entry_id, account_id, side, amount_fen,"
                    " currency, effective_at, normal_delta_fen) VALUES"
                    " ($1, $2, 'DEBIT', 100, 'CNY', $4, 100),"
                    " ($1, $3, 'CREDIT', 100, 'CNY', $4, 100)",
                    entry_id,
                    bank,
                    income,
                    now,
                )
                await conn.execute(
                    "UPDATE ledger_accounts SET balance_fen = balance_fen + 100 WHERE id = ANY($1)",
                    ordered,
                )

        await asyncio.gather(*(one(i) for i in range(c)))  # warm, as the other paths
        return await timed_tasks("plain asyncpg SQL (the floor)", n, c, one)
    finally:
        await pool.close()


async def run_pgledger(dsn: str, n: int, c: int) -> Load | None:
    """pgledger_create_transfer, one statement per transfer (bench/peers)."""
    if problem := pgledger_writes.missing():
        console.print(f"[yellow]{problem}[/]")
        return None
    await pgledger_writes.load(dsn)
    pool = await pgledger_writes.pool(dsn, c)
    try:
        income, bank = await pgledger_writes.open_accounts(pool)

        async def one(_i: int) -> None:
            await pgledger_writes.transfer(pool, income, bank, 100)

        await asyncio.gather(*(one(i) for i in range(c)))
        label = f"pgledger_create_transfer (pgledger {pgledger_writes.fingerprint()})"
        load = await timed_tasks(label, n, c, one)
        await pgledger_writes.check(pool, bank, n + c - load.errors, 100)
        return load
    finally:
        await pool.close()


WRITE_COLUMNS = [
    "path",
    "entries",
    "entries/s",
    "p50 ms",
    "p99 ms",
    "errors",
    "vs floor",
    "vs pgledger",
]


def write_rows(loads: list[Load]) -> list[list[str]]:
    floor = next(ld for ld in loads if ld.label.startswith("plain"))
    peer = next((ld for ld in loads if ld.label.startswith("pgledger")), None)
    return [
        [
            ld.label,
            f"{ld.count:,}",
            f"{ld.rate:,.0f}",
            f"{pct(ld.latencies, 50):.1f}",
            f"{pct(ld.latencies, 99):.1f}",
            str(ld.errors),
            ratio(ld.rate, floor.rate),
            ratio(ld.rate, peer.rate) if peer else "-",
        ]
        for ld in loads
    ]


# ---------------------------------------------------------------- the long journal

# (debit, credit, amount) cycle: each position is filled before it is drawn on, so
# guarded accounts never go negative, as the ledger would insist.
CYCLE = (
    ("1009.01", "4101.01", 10_000, "donation"),  # online donation
    ("1002", "1009.01", 10_000, "settlement"),  # settled to the bank
    ("1009.09", "4101.02", 5_000, "donation"),  # cash at an event
    ("1001", "1009.09", 5_000, "cash_count"),  # counted
    ("1002", "1001", 5_000, "deposit"),  # deposited
    ("5101", "1002", 12_000, "disbursement_payment"),  # paid out
)


async def build_journal(url: str, dsn: str, total_postings: int) -> tuple[int, datetime, datetime]:
    engine = make_engine(url)
    try:
        fund_id = await create_fund(engine, "BENCH-JOURNAL")
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(dsn)
    try:
        accounts = dict(
            await conn.fetch("SELECT code, id FROM ledger_accounts WHERE fund_id = $1", fund_id)
        )
        normal = {spec.code: spec.normal_side for spec in CHART}
        first_id = await conn.fetchval("SELECT nextval('journal_entries_id_seq')")
        first_posting = await conn.fetchval("SELECT nextval('postings_id_seq')")
        n_entries = total_postings // 2
        start = datetime(2024, 1, 1, tzinfo=UTC)
        step = timedelta(days=730) / n_entries
        recorded = datetime.now(UTC)
        entries, postings = [], []
        balances = dict.fromkeys(accounts, 0)
        previous = None
        posting_id = first_posting
        for i in range(n_entries):
            debit, credit, amount, kind = CYCLE[i % len(CYCLE)]
            amount += (i // len(CYCLE)) % 97  # vary amounts; each cycle stays balanced
            effective = start + step * i
            sequence = i + 1
            lines = [(debit, "DEBIT", amount, "CNY"), (credit, "CREDIT", amount, "CNY")]
            digest = specified_hash(
                {
                    "fund_id": fund_id,
                    "sequence": sequence,
                    "effective_at": effective,
                    "recorded_at": recorded,
                    "recorded_by": "bench",
                    "memo": kind,
                    "kind": kind,
                    "reference": None,
                    "reverses_id": None,
                    "postings": lines,
                    "previous_hash": previous,
                }
            )
            entry_id = first_id + i
            entries.append(
                (
                    entry_id,
                    fund_id,
                    sequence,
                    kind,
                    effective,
                    recorded,
                    kind,
                    "bench",
                    digest,
                    previous,
                )
            )
            for code, side, value, currency in lines:
                delta = normal_delta(normal[code], side, value)
                balances[code] += delta
                postings.append(
                    (posting_id, entry_id, accounts[code], side, value, currency, effective, delta)
                )
                posting_id += 1
            previous = digest
        await conn.copy_records_to_table(
            "journal_entries",
            records=entries,
            columns=[
                "id",
                "fund_id",
                "sequence",
                "kind",
                "effective_at",
                "recorded_at",
                "memo",
                "recorded_by",
                "hash",
                "previous_hash",
            ],
        )
        await conn.copy_records_to_table(
            "postings",
            records=postings,
            columns=[
                "id",
                "entry_id",
                "account_id",
                "side",
                "amount_fen",
                "currency",
                "effective_at",
                "normal_delta_fen",
            ],
        )
        await conn.execute("SELECT setval('journal_entries_id_seq', $1)", first_id + n_entries)
        await conn.execute("SELECT setval('postings_id_seq', $1)", posting_id)
        await conn.executemany(
            "UPDATE ledger_accounts SET balance_fen = $2 WHERE id = $1",
            [(accounts[code], value) for code, value in balances.items()],
        )
        await conn.execute(
            "UPDATE ledger_books SET last_sequence = $2, last_hash = $3 WHERE fund_id = $1",
            fund_id,
            n_entries,
            previous,
        )
        # What autovacuum does to an insert-only table soon enough: lets index-only
        # scans skip the heap.
        await conn.execute("VACUUM ANALYZE postings")
        await conn.execute("VACUUM ANALYZE journal_entries")
        return fund_id, start, start + step * n_entries
    finally:
        await conn.close()


async def timed(label: str, factory, repeat: int) -> tuple[str, float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await factory()
        samples.append((time.perf_counter() - started) * 1000)
    return label, statistics.median(samples), max(samples)


async def time_reports(url: str, fund_id: int, first: datetime, last: datetime, repeat: int):
    engine = make_engine(url)
    try:
        async with read_session(engine) as session:
            bank_id = (
                (
                    await session.execute(
                        FundRow.metadata.tables["ledger_accounts"]
                        .select()
                        .where(
                            FundRow.metadata.tables["ledger_accounts"].c.fund_id == fund_id,
                            FundRow.metadata.tables["ledger_accounts"].c.code == BANK,
                        )
                    )
                )
                .first()
                .id
            )
            span = last - first
            results = []
            for label, at in (
                ("10%", first + span / 10),
                ("50%", first + span / 2),
                ("90%", first + span * 9 / 10),
                ("end", last),
            ):

                async def one(at=at):
                    async with read_session(engine) as s:
                        return await balance_at(s, bank_id, at)

                results.append(await timed(f"balance_at(bank, {label} of history)", one, repeat))

            async def all_at():
                async with read_session(engine) as s:
                    return await balances_at(s, [fund_id], first + span / 2)

            async def trial_mid():
                async with read_session(engine) as s:
                    tb = await trial_balance(s, fund_id, first + span / 2)
                    assert tb.balanced
                    return tb

            async def trial_now():
                async with read_session(engine) as s:
                    return await trial_balance(s, fund_id, None)

            async def quarter():
                local = (first + span / 2).astimezone(TZ).date()
                async with read_session(engine) as s:
                    return await statement(s, fund_id, local, local + timedelta(days=90), TZ)

            async def verify():
                async with read_session(engine) as s:
                    v = await verify_journal(s, fund_id)
                    assert v.ok, v
                    return v

            results.append(await timed("balances_at(fund, 50%), 16 accounts", all_at, repeat))
            results.append(await timed("trial_balance(fund, at 50%)", trial_mid, repeat))
            results.append(await timed("trial_balance(fund, now: stored)", trial_now, repeat))
            results.append(await timed("statement(one quarter)", quarter, max(3, repeat // 4)))
            results.append(await timed("verify_journal(fund)", verify, 1))
            return results
    finally:
        await engine.dispose()


async def writes(url: str, dsn: str, n: int, c: int) -> tuple[str, list[str], list[list[str]]]:
    loads = [
        await run_baseline(url, dsn, n, c),
        await run_ledger_post(url, dsn, n, c),
        await run_ledger(url, n, c),
    ]
    if (peer := await run_pgledger(dsn, n, c)) is not None:
        loads.insert(1, peer)
    title = f"Ledger writes: {n:,} two-posting entries into one fund, C={c}"
    rows = write_rows(loads)
    console.print(table(title, WRITE_COLUMNS, rows))
    for ld in loads:
        if ld.first_error:
            console.print(f"  {ld.label}: {ld.errors} errors, first: {ld.first_error}")
    return title, WRITE_COLUMNS, rows


async def reads(url: str, dsn: str, postings: int, repeat: int):
    started = time.perf_counter()
    fund_id, first, last = await build_journal(url, dsn, postings)
    console.print(
        f"built a journal of {postings:,} postings in {time.perf_counter() - started:.1f} s"
    )
    title = f"Ledger reads on a journal of {postings:,} postings (one fund)"
    columns = ["query", "median ms", "max ms"]
    rows = [
        [label, f"{median:,.1f}", f"{worst:,.1f}"]
        for label, median, worst in await time_reports(url, fund_id, first, last, repeat)
    ]
    console.print(table(title, columns, rows))
    return title, columns, rows


async def main(argv: list[str] | None = None) -> list[tuple[str, list[str], list[list[str]]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="a PostgreSQL URL (its server is used)")
    parser.add_argument("-n", type=int, default=5000, help="entries to post")
    parser.add_argument("-c", type=int, default=16, help="concurrent writers")
    parser.add_argument("--postings", type=int, default=1_000_000, help="long journal size")
    parser.add_argument("--repeat", type=int, default=20, help="timings per report query")
    args = parser.parse_args(argv)

    scratch = f"jinlin_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn(args.url))
    await admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        url = _sa_url(args.url, scratch)
        dsn = _dsn(args.url, scratch)
        await upgrade_async(url)
        server = await admin.fetchval("SHOW server_version")
        console.print(f"[bold]machine[/]: {machine()} · PostgreSQL {server} (same host)")
        sections = [await writes(url, dsn, args.n, args.c)]
        if args.postings:
            sections.append(await reads(url, dsn, args.postings, args.repeat))
        return sections
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    for title, columns, rows in asyncio.run(main()):
        print(f"\n### {title}\n\n{markdown(columns, rows)}")
