"""Settlement-file import benchmark on PostgreSQL (run by hand, not a test).

    .venv/bin/python bench/statement_import.py \
        --url postgresql+asyncpg://postgres@127.0.0.1:5432/test -n 100000

1. Creates a scratch database (migrated), dropped at the end.
2. Opens a fund and records N online donations, consistent with the ledger: one
   entry through the ledger API (Dr 1009.01 / Cr 4101.01, their total) and the N
   donation rows (RECEIVED, each with its own externalRef) loaded with COPY. Posting
   N entries one by one would only time the ledger's write path, benchmarked in
   bench/ledger.py.
3. Writes a settlement file of N lines (fee 0.6%; one line in a thousand with another
   amount, one in a thousand with an unknown reference) and imports it through the
   same use case as importStatement and the CLI: parse, match, one payout entry,
   N lines, N donations settled, one transaction. Target: under 60 s.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from db.engine import make_engine
from db.migrate import upgrade_async
from db.models import DonationRow, FundRow
from db.uow import read_session, unit_of_work
from ledger import accounts as A
from ledger.entries import PostingSpec
from ledger.store import account_balances, open_book, post_entry
from resolvers.cli_reconciliation import CLI_VIEWER
from resolvers.commands import ImportStatement
from resolvers.reconciliation import import_statement
from resolvers.unit_of_work import UnitOfWork


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def seed(url: str, n: int) -> tuple[int, list[int]]:
    engine = make_engine(url)
    amounts = [100 + (i * 7919) % 49_900 for i in range(n)]  # 1.00 .. 499.99 yuan
    received = datetime.now(UTC) - timedelta(days=1)
    try:
        async with unit_of_work(engine) as session:
            fund = FundRow(code="BENCH", name="bench", level="COMMUNITY", host="郑州市慈善总会")
            session.add(fund)
            await session.flush()
            await open_book(session, fund.id)
            entry = await post_entry(
                session,
                fund.id,
                [
                    PostingSpec(A.ONLINE_CLEARING, "DEBIT", sum(amounts), "CNY"),
                    PostingSpec(A.INCOME_ONLINE, "CREDIT", sum(amounts), "CNY"),
                ],
                memo=f"{n} online donations (bench)",
                recorded_by="bench",
                kind="donation",
                effective_at=received,
            )
            fund_id, entry_id = fund.id, entry.id
    finally:
        await engine.dispose()
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.copy_records_to_table(
            "donations",
            columns=[
                "fund_id",
                "channel",
                "status",
                "amount_fen",
                "donor_name",
                "anonymous",
                "external_ref",
                "online_ref",
                "received_at",
                "entry_id",
                "recorded_by",
                "created_at",
            ],
            records=[
                (
                    fund_id,
                    "ONLINE",
                    "RECEIVED",
                    amount,
                    None,
                    True,
                    f"WX{i:09d}",
                    f"WX{i:09d}",
                    received,
                    entry_id,
                    "bench",
                    received,
                )
                for i, amount in enumerate(amounts)
            ],
        )
    finally:
        await conn.close()
    return fund_id, amounts


def settlement_file(amounts: list[int]) -> str:
    def yuan(fen: int) -> str:
        return f"{fen // 100}.{fen % 100:02d}"

    out = ["date,reference,amount,fee"]
    for i, amount in enumerate(amounts):
        ref = f"WX{i:09d}"
        if i % 1000 == 999:
            ref = f"UNKNOWN{i}"
        elif i % 1000 == 500:
            amount += 1
        out.append(f"2023-06-12,{ref},{yuan(amount)},{yuan(amount * 6 // 1000)}")
    return "\n".join(out) + "\n"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("-n", type=int, default=100_000)
    args = parser.parse_args()

    scratch = f"jinlin_bench_stmt_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_dsn(args.url))
    await admin.execute(f'CREATE DATABASE "{scratch}"')
    url = make_url(args.url).set(database=scratch).render_as_string(hide_password=False)
    try:
        await upgrade_async(url)
        t0 = time.perf_counter()
        fund_id, amounts = await seed(url, args.n)
        csv = settlement_file(amounts)
        print(
            f"seeded {args.n:,} online donations in {time.perf_counter() - t0:.1f} s; "
            f"settlement file {len(csv.encode()) / 1e6:.1f} MB"
        )

        engine = make_engine(url)
        try:
            phases: dict[str, float] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if done >= total:
                    phases.setdefault(phase, time.perf_counter() - started)

            started = time.perf_counter()
            row = await import_statement(
                ImportStatement(
                    fund_id=fund_id,
                    source="PAYMENT_CHANNEL",
                    csv=csv,
                    idempotency_key=f"bench-{uuid.uuid4()}",
                    payout_ref="PO-BENCH",
                ),
                UnitOfWork(engine, CLI_VIEWER),
                progress,
            )
            elapsed = time.perf_counter() - started
            async with read_session(engine) as session:
                balances = await account_balances(session, fund_id)
                received = await session.scalar(
                    select(func.coalesce(func.sum(DonationRow.amount_fen), 0)).where(
                        DonationRow.fund_id == fund_id, DonationRow.status == "RECEIVED"
                    )
                )
        finally:
            await engine.dispose()
        assert balances[A.ONLINE_CLEARING] == received, (balances, received)
        print(
            f"imported {row.line_count:,} lines in {elapsed:.1f} s "
            f"(matched {row.matched_count:,}, discrepancy {row.discrepancy_count:,}, "
            f"unmatched {row.unmatched_count:,}); "
            + ", ".join(f"{k} at {v:.1f} s" for k, v in phases.items())
        )
        print(f"1009.01 after the payout: {balances[A.ONLINE_CLEARING]} fen = unsettled donations")
        print("PASS" if elapsed < 60 else "SLOWER THAN 60 s")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
