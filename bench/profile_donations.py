"""Where a recordDonation request's CPU goes: N donations through the ASGI app in this
process (called as uvicorn calls it: no client library, no sockets, no other workers),
a few at a time, under cProfile with a CPU clock.

    .venv/bin/python bench/profile_donations.py -n 2000
    .venv/bin/python bench/profile_donations.py -n 2000 --keep     # leaves the database
    .venv/bin/python bench/profile_donations.py -n 2000 --database postgresql+asyncpg://…

As `jinlin serve` runs a worker: production settings, Prometheus in multiprocess mode
(a fresh PROMETHEUS_MULTIPROC_DIR, set before prometheus-client loads), the request log
at INFO in text (written to /dev/null). The request is wrk's (bench/common.py WRK_LUA):
ONLINE, round-robin over the funds, a new key and externalRef each.

Prints the CPU time of a donation without the profiler (best and median of --rounds; this
process only: the app, not PostgreSQL, nor uvicorn's HTTP parsing), then the share of
own time by area and the functions with the most own and cumulative time.
"""

from __future__ import annotations

import os
import sys
import tempfile

# Before anything imports prometheus-client, as `jinlin serve` does (ops/serving.py).
if "--no-multiprocess" not in sys.argv:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="jinlin-profile-metrics-")

import argparse
import asyncio
import cProfile
import gc
import itertools
import logging
import pstats
import shutil
import statistics
import time

import orjson
from common import (
    DEFAULT_URL,
    ScratchDatabase,
    console,
    open_funds,
    own_time_by_area,
    production_app,
    signed_in,
)
from starlette.applications import Starlette

from ops.logs import formatter

# The request wrk sends (bench/common.py WRK_LUA).
DONATE = (
    "mutation($i:RecordDonationInput!){recordDonation(input:$i){donation{id status} errors{code}}}"
)
AREAS = (
    ("graphql-core", "/graphql/"),
    ("strawberry", "/strawberry/"),
    ("sqlalchemy", "/sqlalchemy/"),
    ("asyncpg", "/asyncpg/"),
    ("prometheus_client", "/prometheus_client/"),
    ("logging", "/logging/"),
    ("starlette", "/starlette/"),
    ("asyncio", "/asyncio/"),
)


def request_log_to_devnull() -> None:
    """The request log as a worker writes it (INFO, text), into /dev/null."""
    handler = logging.StreamHandler(open(os.devnull, "w"))
    handler.setFormatter(formatter("text"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


class Donor:
    """Sends donations straight to the ASGI app, as uvicorn would hand them over (wrk's
    body and headers, a new key each, round-robin over the funds). No HTTP client: its
    CPU would be counted with the app's."""

    def __init__(self, app, token: str, funds: list[str]):
        self.app = app
        self.funds = itertools.cycle(funds)
        self.counter = itertools.count()
        self.prefix = f"p{time.time_ns()}"
        self.headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ]

    def body(self) -> bytes:
        key = f"{self.prefix}-{next(self.counter)}"
        donation = {
            "fundId": next(self.funds),
            "channel": "ONLINE",
            "amount": {"amount": "1.00", "currency": "CNY"},
            "donorName": "wrk",
            "externalRef": f"wrk-{key}",
            "idempotencyKey": f"wrk-{key}",
        }
        return orjson.dumps({"query": DONATE, "variables": {"i": donation}})

    async def one(self) -> tuple[int, bytes]:
        body = self.body()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [*self.headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = [{"type": "http.request", "body": body, "more_body": False}]
        answer: dict = {"status": 0, "body": b""}

        async def receive():
            return sent.pop() if sent else {"type": "http.disconnect"}

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return answer["status"], answer["body"]

    async def send(self, n: int, concurrency: int, *, check: bool = False) -> None:
        todo = iter(range(n))

        async def client() -> None:
            for _ in todo:
                status, body = await self.one()
                if check:
                    assert status == 200 and b'"errors":[]' in body, body

        await asyncio.gather(*(client() for _ in range(concurrency)))


async def profile(url: str, funds: list[str], token: str, args) -> None:
    app = production_app(url)
    gc.freeze()  # as server.app_factory does: a served worker's GC scans none of it
    async with starlette_of(app).router.lifespan_context(app):  # the change feed too
        donor = Donor(app, token, funds)
        await donor.send(200, args.concurrency, check=True)  # warm: caches, statements
        per_round = []
        for _ in range(args.rounds):
            cpu = time.process_time()
            await donor.send(args.n, args.concurrency)
            per_round.append((time.process_time() - cpu) / args.n * 1000)
        console.print(
            f"[bold]{args.n} donations × {args.rounds} rounds[/], {args.concurrency} at a time,"
            f" CPU each: [bold]{min(per_round):.3f} ms[/] at best, "
            f"{statistics.median(per_round):.3f} ms median "
            f"(rounds {', '.join(f'{x:.3f}' for x in per_round)}; the app in this process)"
        )
        profiler = cProfile.Profile(time.process_time)  # CPU, not wall
        profiler.enable()
        await donor.send(args.n, args.concurrency)
        profiler.disable()
    if args.dump:
        profiler.dump_stats(args.dump)
    report(pstats.Stats(profiler), args.n, args.top)


def starlette_of(app) -> Starlette:
    """The Starlette app inside the ASGI layers create_app wraps it in."""
    while not isinstance(app, Starlette):
        app = app.app
    return app


def report(stats: pstats.Stats, n: int, top: int) -> None:
    total = sum(v[2] for v in stats.stats.values())
    calls = sum(v[1] for v in stats.stats.values())
    console.print(
        f"[bold]own time by area[/] (under the profiler: {total / n * 1000:.2f} ms and"
        f" {calls / n:,.0f} Python function calls each)"
    )
    for name, seconds in own_time_by_area(stats, AREAS).items():
        console.print(f"  {name:28} {seconds / n * 1000:7.3f} ms  {seconds / total:6.1%}")
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


async def prepare(url: str, n_funds: int, *, fill: bool) -> tuple[list[str], str]:
    """The funds' IDs and a FINANCE user's token (the funds opened when `fill`)."""
    async with signed_in(url, fill=fill) as (http, admin, fin):
        if fill:
            funds = await open_funds(http, admin, n_funds, "P")
        else:
            r = await http.post(
                "/graphql",
                json={"query": "{funds(first:100){edges{node{id}}}}"},
                headers={"authorization": f"Bearer {admin}"},
            )
            funds = [e["node"]["id"] for e in r.json()["data"]["funds"]["edges"]][:n_funds]
    return funds, fin


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="server to make a scratch database on")
    parser.add_argument("--database", help="a database this script filled before (see --keep)")
    parser.add_argument("--keep", action="store_true", help="do not drop the scratch database")
    parser.add_argument("-n", type=int, default=2000, help="donations per round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds without the profiler")
    parser.add_argument("-c", "--concurrency", type=int, default=8)
    parser.add_argument("--funds", type=int, default=20)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--dump", help="also write the profile to this file (pstats)")
    parser.add_argument(
        "--no-multiprocess", action="store_true", help="Prometheus' default registry instead"
    )
    args = parser.parse_args()
    request_log_to_devnull()
    if args.database:
        funds, token = await prepare(args.database, args.funds, fill=False)
        await profile(args.database, funds, token, args)
        return
    db = ScratchDatabase(args.url, prefix="jinlin_profile")
    await db.__aenter__()
    try:
        funds, token = await prepare(db.url, args.funds, fill=True)
        await profile(db.url, funds, token, args)
    finally:
        if args.keep:
            console.print(f"kept: --database {db.url}")
        else:
            await db.__aexit__(None, None, None)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        if "--no-multiprocess" not in sys.argv:
            shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
