"""Public reads at festival scale (run by hand or by `make bench`).

    .venv/bin/python bench/public_reads.py --seconds 10 --subscribers 2000

1. `/funds/{code}` and the page's publicFundReport query from `jinlin serve --workers 2`,
   driven by wrk with 64 keep-alive connections; every answer is checked (status 200
   and the fund's total in it). Target: 2,000 req/s each.
2. Campaign progress to WebSocket subscribers (graphql-transport-ws), the clients spread
   over a pool of processes, while donations to the campaign arrive at a fixed rate
   (open loop). Update latency: for each subscriber and each donation, from the
   donation's acknowledgement to the first emission that counts it. Donation latency is
   measured the same way with no subscriber connected, then with them. Targets: update
   p99 ≤ 1 s, donation p99 within 20 % of the figure without subscribers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import time
from array import array
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from decimal import Decimal

import httpx
from common import (
    _WRK_REPORT,
    DEFAULT_URL,
    ScratchDatabase,
    Server,
    _run_wrk,
    analyze,
    console,
    create_users,
    donation_input,
    gql_data,
    have_wrk,
    login,
    machine,
    markdown,
    open_funds,
    pct,
    table,
)

from pages import REPORT_QUERY, yuan

CODE = "PUB000"
DONATE = "mutation($i:RecordDonationInput!){recordDonation(input:$i){errors{code message}}}"
PROGRESS = "subscription($c:ID!){campaignProgress(campaignId:$c){total{amount} donationCount}}"
CAMPAIGN = (
    'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"邻居节",'
    'startsAt:"2023-01-01T00:00:00+08:00"}){campaign{id} errors{code}}}'
)
READ_COLUMNS = ["what", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "vs 2,000"]
LIVE_COLUMNS = [
    "run",
    "donations",
    "rate /s",
    "p50 ms",
    "p99 ms",
    "errors",
    "updates p50 ms",
    "updates p99 ms",
    "missed",
    "error emissions",
]

GET_LUA = (
    r"""
local threads = {}
local errors = 0
setup = function(t) t:set("errors", 0); table.insert(threads, t) end
request = function() return wrk.format("%(method)s", "%(path)s", %(headers)s, %(body)s) end
good = function(body) return string.find(body, %(expect)s, 1, true) ~= nil end
"""
    + "%(report)s"
)


def _lua(method: str, path: str, expect: str, body: dict | None = None) -> str:
    headers = '{["Content-Type"]="application/json"}' if body else "nil"
    return GET_LUA % {
        "method": method,
        "path": path,
        "headers": headers,
        "body": json.dumps(json.dumps(body)) if body else "nil",
        "expect": json.dumps(expect),
        "report": _WRK_REPORT,
    }


async def _setup(http: httpx.AsyncClient, donations: int) -> tuple[str, str, str, Decimal]:
    """A fund with `donations` gifts and a campaign: (fund, campaign, finance token, total)."""
    admin, fin = await login(http, "admin"), await login(http, "fin")
    (fund,) = await open_funds(http, admin, 1, tag="PUB")
    campaign = (await gql_data(http, CAMPAIGN, {"f": fund}, token=admin))["createCampaign"]
    total = Decimal(0)
    for i in range(donations):
        amount = Decimal(10 + i % 90) + Decimal("0.25")
        d = await gql_data(
            http, DONATE, {"i": donation_input(fund, f"s{i}", f"{amount}")}, token=fin
        )
        assert d["recordDonation"]["errors"] == [], d
        total += amount
    return fund, campaign["campaign"]["id"], fin, total


async def reads(base_url: str, total: Decimal, seconds: float, connections: int) -> list[list[str]]:
    year = date.today().year  # a statement covers at most five years
    variables = {"code": CODE, "from": f"{year}-01-01", "to": f"{year}-12-31", "first": 10}
    runs = [
        ("GET /funds/" + CODE, _lua("GET", f"/funds/{CODE}", yuan(total))),
        (
            "publicFundReport (the page's query)",
            _lua(
                "POST",
                "/graphql",
                f'"total":{{"amount":"{total:.2f}"',
                {"query": REPORT_QUERY, "variables": variables},
            ),
        ),
    ]
    rows = []
    for label, lua in runs:
        await _run_wrk("warm", base_url, lua, 2, 8)
        run = await _run_wrk(label, base_url, lua, seconds, connections)
        rows.append([*run.row(), f"{run.rate / 2000:.0%}"])
        console.print(rows[-1])
    return rows


# ---------------------------------------------------------------- subscribers

_ready = _stop = None


def _init(counter, stop) -> None:
    """Shared with the bench: subscribers with a first emission; when to stop listening."""
    global _ready, _stop
    _ready, _stop = counter, stop


def _subscribers(ws_url: str, campaign: str, count: int, until: float) -> list[tuple[bytes, bytes]]:
    """In a pool process: `count` subscribers until the wall-clock `until`; for each, its
    emissions' arrival times and counts (as array bytes)."""
    return asyncio.run(_subscribe_all(ws_url, campaign, count, until))


async def _subscribe_all(ws_url, campaign, count, until):
    gate = asyncio.Semaphore(32)  # handshakes at once
    return await asyncio.gather(*(_one(ws_url, campaign, until, gate) for _ in range(count)))


async def _one(ws_url: str, campaign: str, until: float, gate: asyncio.Semaphore):
    import websockets

    times, counts, errors = array("d"), array("q"), []
    async with gate:
        try:
            ws = await websockets.connect(
                ws_url, subprotocols=["graphql-transport-ws"], open_timeout=60
            )
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            await ws.recv()
            payload = {"query": PROGRESS, "variables": {"c": campaign}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            return times.tobytes(), counts.tobytes(), [f"no subscription: {exc!r}"[:300]]
    try:
        while time.time() < min(until, _stop.value):
            try:
                frame = await asyncio.wait_for(ws.recv(), 1)
            except TimeoutError:
                continue
            except websockets.ConnectionClosed as exc:
                errors.append(f"connection closed: {exc!r}"[:300])
                break
            message = json.loads(frame)
            if message["type"] == "next" and message["payload"].get("data"):
                if not counts:
                    with _ready.get_lock():
                        _ready.value += 1
                times.append(time.time())
                counts.append(message["payload"]["data"]["campaignProgress"]["donationCount"])
            elif message["type"] in ("next", "error", "complete"):
                errors.append(json.dumps(message, ensure_ascii=False)[:300])
                if message["type"] != "next":
                    break  # the subscription is over
    finally:
        await ws.close()
    return times.tobytes(), counts.tobytes(), errors


async def donate(
    base_url: str, fin: str, fund: str, campaign: str, rate: float, seconds: float, tag: str
):
    """Donations to the campaign at `rate` a second for `seconds` (open loop): latencies
    in ms, acknowledgement wall times, errors."""
    latencies, acks, errors = [], [], []
    headers = {"authorization": f"Bearer {fin}"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:

        async def one(i: int) -> None:
            body = {
                "query": DONATE,
                "variables": {"i": donation_input(fund, f"{tag}{i}", "1.00", campaignId=campaign)},
            }
            started = time.perf_counter()
            why = None
            try:
                r = await http.post("/graphql", json=body, headers=headers)
                answer = (r.json().get("data") or {}).get("recordDonation") or {}
                ok = r.status_code == 200 and answer.get("errors") == []
                why = None if ok else f"{r.status_code} {r.text[:300]}"
            except (httpx.HTTPError, ValueError) as exc:
                ok, why = False, repr(exc)[:300]
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
                acks.append(time.time())
            else:
                errors.append(i)
                if len(errors) <= 3:
                    print(f"donation {tag}{i} failed: {why}")

        loop = asyncio.get_running_loop()
        start, tasks = loop.time(), []
        for i in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    return latencies, sorted(acks), len(errors)


def update_latencies(results, acks: list[float]) -> tuple[list[float], int]:
    """Per subscriber and donation: ms from the donation's acknowledgement (the k-th
    acknowledged is taken as the k-th counted) to the first emission counting it; and
    how many (subscriber, donation) pairs were never seen."""
    out, missed = [], 0
    for raw_times, raw_counts, _errors in results:
        times, counts = array("d"), array("q")
        times.frombytes(raw_times)
        counts.frombytes(raw_counts)
        if not counts:
            missed += len(acks)
            continue
        base, seen = counts[0], 0
        for t, c in zip(times, counts, strict=True):
            while seen < min(c - base, len(acks)):
                out.append(max(0.0, (t - acks[seen]) * 1000))
                seen += 1
        missed += len(acks) - seen
    return out, missed


async def live(base_url, fin, fund, campaign, subscribers, procs, rate, seconds) -> list[list[str]]:
    baseline = await donate(base_url, fin, fund, campaign, rate, seconds, "base")
    ws_url = base_url.replace("http", "ws") + "/graphql"
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Value("i", 0), ctx.Value("d", float("inf"))
    connect_for = 30 + subscribers / 20  # handshakes are slow on a busy machine
    until = time.time() + connect_for + seconds + 600  # a bound: `stop` ends them first
    shares = [subscribers // procs + (i < subscribers % procs) for i in range(procs)]
    with ProcessPoolExecutor(
        procs, mp_context=ctx, initializer=_init, initargs=(ready, stop)
    ) as pool:
        loop = asyncio.get_running_loop()
        futures = [
            loop.run_in_executor(pool, _subscribers, ws_url, campaign, n, until) for n in shares
        ]
        deadline = time.time() + connect_for
        while ready.value < subscribers and time.time() < deadline:
            await asyncio.sleep(0.5)
            if any(f.done() for f in futures):
                break  # a client process failed: its error comes with its result
        connected = ready.value
        console.print(f"{connected} of {subscribers} subscribers have their first emission")
        loaded = await donate(base_url, fin, fund, campaign, rate, seconds, "live")
        stop.value = time.time() + 5  # the last updates still on their way
        results = [r for f in futures for r in await f]
    updates, missed = update_latencies(results, loaded[1])
    failures = [e for r in results for e in r[2]]
    console.print(f"{len(failures)} error emissions; first: {failures[:1]}")
    rows = []
    for label, (lat, _acks, errors), ups, miss in (
        ("no subscribers", baseline, [], 0),
        (f"{connected:,} subscribers", loaded, updates, missed),
    ):
        rows.append(
            [
                label,
                f"{len(lat) + errors:,}",
                f"{rate:g}",
                f"{pct(lat, 50):.1f}",
                f"{pct(lat, 99):.1f}",
                str(errors),
                f"{pct(ups, 50):.0f}" if ups else "-",
                f"{pct(ups, 99):.0f}" if ups else "-",
                f"{miss:,}" if ups else "-",
                f"{len(failures):,}" if ups else "-",
            ]
        )
    base_p99, live_p99 = pct(baseline[0], 99), pct(loaded[0], 99)
    console.print(f"donation p99 with subscribers / without: {live_p99 / base_p99:.0%}")
    return rows


async def main(argv: list[str] | None = None) -> list[tuple[str, list[str], list[list]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("-c", type=int, default=64, help="wrk connections")
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--procs", type=int, default=4, help="client processes")
    parser.add_argument("--rate", type=float, default=200, help="donations a second")
    args = parser.parse_args(argv)
    os.environ["JINLIN_WS_MAX_CONNECTIONS_PER_ADDRESS"] = str(args.subscribers + 100)
    sections = []
    async with ScratchDatabase(args.url, prefix="jinlin_pubreads") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with Server(db.url, workers=args.workers) as server:
            await server.start_ready(60)
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                fund, campaign, fin, total = await _setup(http, 60)
            await analyze(db.url)
            if have_wrk():
                rows = await reads(server.base_url, total, args.seconds, args.c)
                title = f"Public reads, wrk, {args.c} connections, {args.workers} workers, {args.seconds:g} s"
                console.print(table(title, READ_COLUMNS, rows))
                sections.append((title, READ_COLUMNS, rows))
            else:
                print("wrk is not installed (make bench-deps): skipping the public reads")
            rows = await live(
                server.base_url,
                fin,
                fund,
                campaign,
                args.subscribers,
                args.procs,
                args.rate,
                args.seconds,
            )
    title = (
        f"campaignProgress to WebSocket subscribers ({args.procs} client processes), "
        f"{args.workers} workers, donations at {args.rate:g}/s for {args.seconds:g} s"
    )
    console.print(table(title, LIVE_COLUMNS, rows))
    sections.append((title, LIVE_COLUMNS, rows))
    for name, columns, figures in sections:
        print(f"\n{name}\n\n{markdown(columns, figures)}")
    print(machine())
    return sections


if __name__ == "__main__":
    asyncio.run(main())
