"""Ledger benchmark on PostgreSQL (run by hand, not a test).

    .venv/bin/python bench/ledger.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/test \
        -n 5000 -c 16

1. Creates a scratch database (migrated), dropped at the end.
2. Posts N two-posting entries (Dr 1002 / Cr 4101.02, one fund) through the ledger API
   with C concurrent writers, each entry its own unit of work; then the same rows
   through plain asyncpg SQL (lock the two balances with SELECT ... FOR UPDATE in id
   order, insert the entry and its two postings, update the two balances): the floor
   the ledger's extra work (book lock, validation, guards, hash chain) is paid against.
3. Builds a journal of P postings (default 1,000,000) on another fund with real
   hashes, loaded with COPY, and times balance_at, balances_at, trial_balance,
   statement and verify_journal on it.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# This file is named ledger.py: keep its own folder off the import path so that
# `ledger` is the package, and put the project root on it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import asyncio
import itertools
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from rich.console import Console
from rich.table import Table
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

console = Console()
TZ = ZoneInfo("Asia/Shanghai")


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


async def run_ledger(url: str, n: int, c: int) -> float:
    engine = make_engine(url, pool_size=c)
    try:
        fund_id = await create_fund(engine, "BENCH-LEDGER")
        postings = [PostingSpec(BANK, "DEBIT", 100), PostingSpec(INCOME_OFFLINE, "CREDIT", 100)]
        todo = iter(range(n))

        async def writer() -> None:
            for _ in todo:
                async with unit_of_work(engine) as session:
                    await post_entry(
                        session,
                        fund_id,
                        postings,
                        memo="bench donation",
                        recorded_by="bench",
                        kind="donation",
                    )

        # Warm every pooled connection and its statement cache outside the timing, as
        # the baseline's pool is.
        async def warm() -> None:
            async with unit_of_work(engine) as session:
                await post_entry(session, fund_id, postings, memo="warm", recorded_by="bench")

        await asyncio.gather(*(warm() for _ in range(c)))
        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(c)))
        elapsed = time.perf_counter() - started
        async with read_session(engine) as session:
            assert (await verify_journal(session, fund_id)).ok
        return n / elapsed
    finally:
        await engine.dispose()


async def run_baseline(url: str, dsn: str, n: int, c: int) -> float:
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
        todo = iter(range(n))

        async def writer() -> None:
            async with pool.acquire() as conn:
                for _ in todo:
                    now = datetime.now(UTC)
                    async with conn.transaction():
                        await conn.fetch(
                            "SELECT id, balance_fen FROM ledger_accounts WHERE id = ANY($1) "
                            "ORDER BY id FOR UPDATE",
                            ordered,
                        )
                        entry_id = await conn.fetchval(
                            "INSERT INTO journal_entries (fund_id, sequence, kind, effective_at,"
                            " recorded_at, memo, recorded_by, hash) VALUES"
                            " ($1, $2, 'donation', $3, $3, 'bench donation', 'bench', $4)"
                            " RETURNING id",
                            fund_id,
                            next(sequence),
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
                            "UPDATE ledger_accounts SET balance_fen = balance_fen + 100"
                            " WHERE id = ANY($1)",
                            ordered,
                        )

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(c)))
        return n / (time.perf_counter() - started)
    finally:
        await pool.close()


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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL URL (its server is used)")
    parser.add_argument("-n", type=int, default=5000, help="entries to post")
    parser.add_argument("-c", type=int, default=16, help="concurrent writers")
    parser.add_argument("--postings", type=int, default=1_000_000, help="long journal size")
    parser.add_argument("--repeat", type=int, default=20, help="timings per report query")
    args = parser.parse_args()

    scratch = f"jinlin_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn(args.url))
    await admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        url = _sa_url(args.url, scratch)
        dsn = _dsn(args.url, scratch)
        await upgrade_async(url)
        server = await admin.fetchval("SHOW server_version")
        console.print(
            f"[bold]machine[/]: {platform.processor() or platform.machine()}, "
            f"{_cpu_count()} CPUs, Python {platform.python_version()}, PostgreSQL {server} "
            f"(same host); scratch database {scratch}"
        )

        ledger_rate = await run_ledger(url, args.n, args.c)
        baseline_rate = await run_baseline(url, dsn, args.n, args.c)
        writes = Table(title=f"Writes: {args.n} two-posting entries, {args.c} concurrent writers")
        writes.add_column("path")
        writes.add_column("entries/s", justify="right")
        writes.add_column("vs baseline", justify="right")
        writes.add_row(
            "ledger API (post_entry)", f"{ledger_rate:,.0f}", _ratio(ledger_rate, baseline_rate)
        )
        writes.add_row("plain asyncpg SQL (baseline)", f"{baseline_rate:,.0f}", "100%")
        console.print(writes)

        started = time.perf_counter()
        fund_id, first, last = await build_journal(url, dsn, args.postings)
        console.print(
            f"built a journal of {args.postings:,} postings in "
            f"{time.perf_counter() - started:.1f} s"
        )
        reads = Table(title=f"Reads on a journal of {args.postings:,} postings (one fund)")
        reads.add_column("query")
        reads.add_column("median ms", justify="right")
        reads.add_column("max ms", justify="right")
        for label, median, worst in await time_reports(url, fund_id, first, last, args.repeat):
            reads.add_row(label, f"{median:,.1f}", f"{worst:,.1f}")
        console.print(reads)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.close()


def _ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.0%}" if baseline else "-"


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 0


if __name__ == "__main__":
    asyncio.run(main())
