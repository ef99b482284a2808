"""recordDonation over HTTP driven by wrk (C, outside Python), as the issue measured.

For 20 funds and for one fund, and for several connection counts, each run repeated
(the median run is reported, with the range of rates): requests/s, latency
percentiles, errors, and the CPU the server's workers and PostgreSQL spent per
donation. Afterwards the donations stored are counted against those acknowledged.

The httpx load generator in donations.py competes with the server for this machine's
two cores; wrk costs little, so this is the fairer server figure. Needs Debian's `wrk`
(`apt-get install wrk`). Run by hand or by `make bench`; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

import httpx
import psutil
from common import (  # first: the project on the path
    ScratchDatabase,
    Server,
    WrkRun,
    analyze,
    console,
    cpu_spent,
    cpu_times,
    create_users,
    have_wrk,
    login,
    machine,
    open_funds,
    postgres_processes,
    table,
    wrk_load,
)

COLUMNS = [
    "funds",
    "C",
    "req/s (median)",
    "range",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "errors",
    "workers CPU ms/don.",
    "PostgreSQL CPU ms/don.",
]
COUNT = "{funds(first:100){edges{node{journalEntries(last:1){edges{node{sequence}}}}}}}"


async def _measured(server: Server, fin: str, funds: list[str], seconds: float, c: int):
    workers = psutil.Process(server.proc.pid).children(recursive=True)
    before = cpu_times(workers), cpu_times(postgres_processes())
    run = await wrk_load(f"C={c}", server.base_url, fin, funds, seconds, c)
    # Backends opened meanwhile count from zero.
    spent = (
        cpu_spent(before[0], cpu_times(workers)),
        cpu_spent(before[1], cpu_times(postgres_processes())),
    )
    done = max(run.requests, 1)
    return run, spent[0] / done * 1000, spent[1] / done * 1000


async def _stored(server: Server, token: str) -> int:
    """Journal entries of every fund (each donation is one)."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        r = await http.post(
            "/graphql", json={"query": COUNT}, headers={"authorization": f"Bearer {token}"}
        )
    return sum(
        e["node"]["journalEntries"]["edges"][0]["node"]["sequence"]
        for e in r.json()["data"]["funds"]["edges"]
        if e["node"]["journalEntries"]["edges"]
    )


async def scenario(url: str, workers: int, n_funds: int, seconds: float, cs, repeats: int):
    rows = []
    async with ScratchDatabase(url, prefix="jinlin_wrk") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with Server(db.url, workers=workers) as server:
            await server.start_ready()
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                admin, fin = await login(http, "admin"), await login(http, "fin")
                funds = await open_funds(http, admin, n_funds)
            # Warm both workers' pools and caches outside the figures.
            await wrk_load("warm", server.base_url, fin, funds, 2, 8)
            await analyze(db.url)
            stored_before = await _stored(server, fin)
            acknowledged = in_flight = 0
            for c in cs:
                runs: list[tuple[WrkRun, float, float]] = []
                for _ in range(repeats):
                    runs.append(await _measured(server, fin, funds, seconds, c))
                    acknowledged += runs[-1][0].requests - runs[-1][0].errors
                    in_flight += c
                runs.sort(key=lambda r: r[0].rate)
                run, workers_ms, pg_ms = runs[len(runs) // 2]
                rates = [r[0].rate for r in runs]
                rows.append(
                    [
                        str(n_funds),
                        str(c),
                        f"{statistics.median(rates):,.0f}",
                        f"{min(rates):,.0f}-{max(rates):,.0f}",
                        f"{run.p50:.1f}",
                        f"{run.p95:.1f}",
                        f"{run.p99:.1f}",
                        str(sum(r[0].errors for r in runs)),
                        f"{workers_ms:.2f}",
                        f"{pg_ms:.2f}",
                    ]
                )
                console.print(f"{n_funds} fund(s), C={c}: {rows[-1][2:]}")
            stored = await _stored(server, fin) - stored_before
    # wrk stops mid-flight: up to C requests per run reach the ledger unacknowledged.
    console.print(
        f"  {n_funds} fund(s): {stored:,} donations stored by the runs, {acknowledged:,} "
        f"acknowledged (at most {in_flight} were in flight when wrk stopped)"
    )
    if not acknowledged <= stored <= acknowledged + in_flight:
        raise RuntimeError(f"stored {stored} does not match acknowledged {acknowledged}")
    return rows


async def main(argv: list[str] | None = None) -> list[tuple[str, list[str], list[list]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("-c", type=int, nargs="+", default=[16, 32, 64])
    args = parser.parse_args(argv)
    if not have_wrk():
        print("wrk is not installed (apt-get install wrk): skipping the wrk benchmark")
        return []
    rows = []
    for n_funds in (20, 1):
        rows += await scenario(args.url, args.workers, n_funds, args.seconds, args.c, args.repeats)
    title = (
        f"recordDonation driven by wrk, {args.workers} workers, "
        f"{args.seconds:g} s per run, median of {args.repeats}"
    )
    console.print(table(title, COLUMNS, rows))
    print(machine())
    return [(title, COLUMNS, rows)]


if __name__ == "__main__":
    asyncio.run(main())
