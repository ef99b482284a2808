"""Import benchmark of every real statement format on PostgreSQL (run by hand, not a test).

    .venv/bin/python bench/statement_profiles.py \
        --url postgresql+asyncpg://postgres@127.0.0.1:5432/test -n 100000

For each format (WeChat trade and fund flow bills, Alipay's 账务明细, the ICBC, CCB
XLSX, BOC and ABC bank statements), in a scratch database of its own:

1. seeds a fund with N online donations (as bench/statement_import.py does);
2. writes an N-line file in that format (tests/reconciliation/statement_writers.py):
   a channel file settles the N donations, a bank file's N lines carry a running
   balance and match nothing (every line is written as UNMATCHED);
3. imports the file's bytes through the use case the CLI calls (format detection,
   parse, running-balance and summary checks, match, write), timed.

Target: under 60 s per format.
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
from datetime import date, timedelta

import asyncpg
from sqlalchemy.engine import make_url

from bench.statement_import import _dsn, seed
from db.engine import make_engine
from db.migrate import upgrade_async
from reconciliation.statement_files import BankLine, SettlementLine
from resolvers.cli_reconciliation import CLI_VIEWER
from resolvers.commands import ImportStatement
from resolvers.reconciliation import import_statement
from resolvers.unit_of_work import UnitOfWork
from tests.reconciliation import statement_writers as W

CHANNEL = {"wechat-trade": W.wechat_trade, "wechat-funds": W.wechat_funds, "alipay": W.alipay}
BANK = {"icbc": W.icbc, "ccb": W.ccb, "boc": W.boc, "abc": W.abc}


def settlement_lines(amounts: list[int]) -> list[SettlementLine]:
    day = date(2023, 6, 1)
    return [
        SettlementLine(
            i + 1, day + timedelta(days=i % 28), f"WX{i:09d}", amount, amount * 6 // 1000
        )
        for i, amount in enumerate(amounts)
    ]


def bank_lines(n: int) -> list[BankLine]:
    balance, lines, day = 10_000_000, [], date(2023, 6, 1)
    for i in range(n):
        amount = (100 + (i * 7919) % 49_900) * (1 if i % 3 else -1)
        balance += amount
        lines.append(BankLine(i + 1, day + timedelta(days=i % 28), f"TRF-{i:09d}", amount, balance))
    return lines


async def one_format(url: str, name: str, n: int) -> tuple[float, int, float]:
    """Seconds to import, lines imported, file size in MB."""
    _fund_id, amounts = await seed(url, n)
    if name in CHANNEL:
        data = CHANNEL[name](settlement_lines(amounts))
        source, payout_ref = "PAYMENT_CHANNEL", "PO-BENCH"
    else:
        data = BANK[name](bank_lines(n))
        source, payout_ref = "BANK", None
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        row = await import_statement(
            ImportStatement(
                fund_id=_fund_id,
                source=source,
                csv=data,
                idempotency_key=f"bench-{uuid.uuid4()}",
                payout_ref=payout_ref,
            ),
            UnitOfWork(engine, CLI_VIEWER),
        )
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return elapsed, row.line_count, len(data) / 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--only", nargs="*", default=[*CHANNEL, *BANK])
    args = parser.parse_args()
    admin = await asyncpg.connect(_dsn(args.url))
    worst = 0.0
    try:
        for name in args.only:
            scratch = f"jinlin_bench_prof_{uuid.uuid4().hex[:8]}"
            await admin.execute(f'CREATE DATABASE "{scratch}"')
            url = make_url(args.url).set(database=scratch).render_as_string(hide_password=False)
            try:
                await upgrade_async(url)
                elapsed, lines, size = await one_format(url, name, args.n)
            finally:
                await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            worst = max(worst, elapsed)
            print(f"{name:13} {lines:>8,} lines  {size:6.1f} MB  {elapsed:6.1f} s", flush=True)
    finally:
        await admin.close()
    print("PASS" if worst < 60 else "SLOWER THAN 60 s")


if __name__ == "__main__":
    asyncio.run(main())
