"""`make bench`: every benchmark in turn, then the results as Markdown for
docs/performance.md. Options: --quick (small runs), --memory-n N."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from common import LOAD_COLUMNS, machine, markdown  # first: the project on the path

sys.path.append(str(Path(__file__).resolve().parent))  # the sibling bench scripts

import dashboard
import donations
import memory
import wrk_donations


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small runs (a smoke test)")
    parser.add_argument("--memory-n", type=int, default=None)
    args = parser.parse_args()
    n, mem_n = ("500", 2000) if args.quick else ("4000", 100_000)
    header = machine()
    sections = []
    for title, rows in await donations.main(["-n", n]):
        sections.append((title, [*LOAD_COLUMNS, "vs SQL", "vs use case"], rows))
    sections += await wrk_donations.main(["--seconds", "5" if args.quick else "15"])
    sections += await dashboard.main(
        ["-n", "200", "--seconds", "5"] if args.quick else ["-n", "1000", "--seconds", "15"]
    )
    sections.append(await memory.main(["-n", str(args.memory_n or mem_n)]))
    print(f"\n## Results ({header})")
    for title, columns, rows in sections:
        print(f"\n### {title}\n\n{markdown(columns, rows)}")


if __name__ == "__main__":
    asyncio.run(main())
