"""`make bench`: every benchmark in turn, then the results as Markdown for
docs/performance.md. Options: --quick (small runs), --memory-n N.

The peers run in the same process and on the same PostgreSQL as Jinlin's figures they
stand beside: PostGraphile v4 for the dashboard read (bench/dashboard.py), pgledger and
the plain-SQL floor for ledger writes (bench/ledger.py). Public reads at festival scale
(bench/public_reads.py) have no peer: their figures stand against the issue's targets
and, for donations, against the same run without subscribers. Their ratios are the figures
to compare across days; absolute rates drift with the machine's load."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
from pathlib import Path

import dashboard
import donations
import memory
import public_reads
import wrk_donations
from common import machine, markdown  # puts the project first on the path


def _ledger_bench():
    """bench/ledger.py, loaded by path: by name, `ledger` is the project's package."""
    spec = importlib.util.spec_from_file_location(
        "bench_ledger", Path(__file__).resolve().parent / "ledger.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small runs (a smoke test)")
    parser.add_argument("--memory-n", type=int, default=None)
    args = parser.parse_args()
    n, mem_n = ("500", 2000) if args.quick else ("4000", 100_000)
    header = machine()
    sections = []
    sections += await donations.main(["-n", n, "--share-rounds", "2" if args.quick else "4"])
    sections += await wrk_donations.main(["--seconds", "5" if args.quick else "15"])
    sections += await dashboard.main(
        ["-n", "200", "--seconds", "5"]
        if args.quick
        else ["-n", "1000", "--seconds", "15", "--rounds", "2"]
    )
    sections += await public_reads.main(
        ["--seconds", "3", "--subscribers", "200", "--rate", "50"]
        if args.quick
        else ["--seconds", "10", "--subscribers", "2000", "--rate", "200"]
    )
    sections += await _ledger_bench().main(
        ["-n", "500", "-c", "16", "--postings", "20000", "--repeat", "5"]
        if args.quick
        else ["-n", "5000", "-c", "16"]
    )
    sections.append(await memory.main(["-n", str(args.memory_n or mem_n)]))
    print(f"\n## Results ({header})")
    for title, columns, rows in sections:
        print(f"\n### {title}\n\n{markdown(columns, rows)}")


if __name__ == "__main__":
    asyncio.run(main())
