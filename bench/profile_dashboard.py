"""Where a dashboard request's CPU goes: N requests through the ASGI app in this process
(httpx.ASGITransport, no sockets, no other workers), one at a time, under cProfile.

    .venv/bin/python bench/profile_dashboard.py -n 200
    .venv/bin/python bench/profile_dashboard.py -n 200 --keep     # leaves the database
    .venv/bin/python bench/profile_dashboard.py -n 200 --database postgresql+asyncpg://…

    .venv/bin/python bench/profile_dashboard.py --ladder    # CPU by what the query asks

Prints the mean wall and CPU time of a request, the functions with the most own time
and the most cumulative time, and the share of own time by area (graphql-core,
Strawberry, SQLAlchemy, asyncpg, the project's code). One request at a time, CPU time:
on a busy machine, a sampling profiler counts preempted time too. The app's objects are
frozen for the cyclic GC once built, as in a served worker (server.app_factory): without
it, full collections scan them and their cost lands on whichever query allocates more.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import pstats
import time

import httpx
from common import (
    DEFAULT_URL,
    ScratchDatabase,
    console,
    own_time_by_area,
    production_app,
    signed_in,
)
from dashboard import DASHBOARD, populate

AREAS = (
    ("graphql-core", "/graphql/"),
    ("strawberry", "/strawberry/"),
    ("sqlalchemy", "/sqlalchemy/"),
    ("asyncpg", "/asyncpg/"),
    ("starlette/uvicorn/httpx", ("/starlette/", "/httpx/", "/httpcore/", "/uvicorn/")),
    ("asyncio", "/asyncio/"),
)


async def profile(url: str, n: int, body: dict, token: str, top: int) -> None:
    app = production_app(url)
    gc.freeze()  # as server.app_factory does: a served worker scans none of it
    headers = {"authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        for _ in range(20):  # warm: caches, prepared statements, the viewer
            r = await http.post("/graphql", json=body, headers=headers)
            assert r.status_code == 200 and "errors" not in r.json(), r.text
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(n):
            await http.post("/graphql", json=body, headers=headers)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        console.print(
            f"[bold]{n} requests[/], one at a time: {wall / n * 1000:.2f} ms wall, "
            f"{cpu / n * 1000:.2f} ms CPU each (this process: app and client)"
        )
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall
        profiler.enable()
        for _ in range(n):
            await http.post("/graphql", json=body, headers=headers)
        profiler.disable()
    await app.app.state.jinlin.engine.dispose()
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())
    console.print("[bold]own time by area[/]")
    for name, seconds in own_time_by_area(stats, AREAS).items():
        console.print(f"  {name:28} {seconds / n * 1000:7.2f} ms  {seconds / total:6.1%}")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


# The dashboard built up a piece at a time: what each piece costs is the difference.
LADDER = (
    ("{__typename}, signed in", "{__typename}"),
    ("20 funds: id code name", "query($n:Int!){funds(first:$n){edges{node{id code name}}}}"),
    (
        "+ balances",
        "query($n:Int!){funds(first:$n){edges{node{id code name balances{total{amount} "
        "bank{amount} cashOnHand{amount} onlineClearing{amount} available{amount}}}}}}",
    ),
    (
        "+ 10 donations each, no campaign",
        "query($n:Int!){funds(first:$n){edges{node{id code name balances{total{amount} "
        "bank{amount} cashOnHand{amount} onlineClearing{amount} available{amount}} "
        "donations(first:10){edges{node{id amount{amount} channel donorName receivedAt}}}}}}}",
    ),
    ("the dashboard (+ campaign { id name })", DASHBOARD),
)


async def ladder(url: str, token: str, rounds: int = 3, n: int = 60) -> None:
    """CPU per request of each query of LADDER, best of `rounds` × `n`, in turns."""
    app = production_app(url)
    gc.freeze()  # as server.app_factory does: a served worker scans none of it
    headers = {"authorization": f"Bearer {token}"}
    best = {label: float("inf") for label, _ in LADDER}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        for _ in range(rounds):
            for label, query in LADDER:
                body = {"query": query, "variables": {"n": 20} if "$n" in query else {}}
                for _ in range(10):  # warm
                    r = await http.post("/graphql", json=body, headers=headers)
                    assert r.status_code == 200 and "errors" not in r.json(), r.text
                cpu = time.process_time()
                for _ in range(n):
                    await http.post("/graphql", json=body, headers=headers)
                best[label] = min(best[label], (time.process_time() - cpu) / n)
    await app.app.state.jinlin.engine.dispose()
    for label, seconds in best.items():
        console.print(f"  {label:44} {seconds * 1000:6.2f} ms CPU per request")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="server to make a scratch database on")
    parser.add_argument("--database", help="an already populated database (see --keep)")
    parser.add_argument("--keep", action="store_true", help="do not drop the scratch database")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument(
        "--ladder", action="store_true", help="CPU per request by what the query asks, no profile"
    )
    args = parser.parse_args()
    body = {"query": DASHBOARD, "variables": {"n": 20}}
    if args.database:
        await run_on(args.database, args, body, fill=False)
        return
    db = ScratchDatabase(args.url, prefix="jinlin_profile")
    await db.__aenter__()
    try:
        await run_on(db.url, args, body, fill=True)
    finally:
        if args.keep:
            console.print(f"kept: --database {db.url}")
        else:
            await db.__aexit__(None, None, None)


async def run_on(url: str, args, body: dict, *, fill: bool) -> None:
    async with signed_in(url, fill=fill) as (http, admin, fin):
        if fill:
            await populate(http, admin, fin, 20)
    if args.ladder:
        await ladder(url, fin)
    else:
        await profile(url, args.n, body, fin, args.top)


if __name__ == "__main__":
    asyncio.run(main())
