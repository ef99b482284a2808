"""The staff console's read path on PostgreSQL: funds with balances, each with its
last 10 donations and their campaigns (run by hand or by `make bench`).

    .venv/bin/python bench/dashboard.py -n 1000 -c 8 --workers 2 --rounds 2

1. SQL statements per request, counted in-process (the real ASGI app, a
   before_cursor_execute counter on its engine) for 5 and for 20 funds: the count
   must not grow with the number of funds (dataloaders batch each level).
2. Requests/s and latency percentiles over HTTP against `jinlin serve --workers W`,
   then against PostGraphile v4 (`--cluster-workers W`) on the same database and data
   (bench/peers/postgraphile.py), both answers checked for the same figures first:
   C keep-alive clients, wrk when installed, else httpx clients in this process.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
import psutil
from common import (
    DEFAULT_URL,
    DONATE,
    LOAD_COLUMNS,
    ScratchDatabase,
    Server,
    analyze,
    console,
    cpu_spent,
    cpu_times,
    create_users,
    donation_input,
    gql_data,
    have_wrk,
    http_load,
    login,
    machine,
    markdown,
    open_funds,
    postgres_processes,
    ratio,
    table,
    wrk_fixed,
)
from peers import postgraphile

from config import load_settings
from server import create_app
from tests.conftest import count_statements
from tests.faults.harness import SECRET, free_port

DASHBOARD = """query($n:Int!){funds(first:$n){edges{node{id code name
  balances{total{amount} bank{amount} cashOnHand{amount} onlineClearing{amount} available{amount}}
  donations(first:10){edges{node{id amount{amount} channel donorName receivedAt
    campaign{id name}}}}}}}}"""
CAMPAIGN = (
    "mutation($i:CreateCampaignInput!){createCampaign(input:$i){campaign{id} errors{code message}}}"
)


async def populate(http: httpx.AsyncClient, admin: str, fin: str, n_funds: int) -> list[str]:
    """n funds, each with 2 campaigns and 15 donations (alternating between them)."""
    funds = await open_funds(http, admin, n_funds, "D")
    start = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for f, fund in enumerate(funds):
        campaigns = []
        for k in range(2):
            d = await gql_data(
                http,
                CAMPAIGN,
                {"i": {"fundId": fund, "name": f"重阳节义卖 {k}", "startsAt": start}},
                admin,
            )
            campaigns.append(d["createCampaign"]["campaign"]["id"])
        for i in range(15):
            inp = donation_input(fund, f"d{f}-{i}", f"{i + 1}.00", campaignId=campaigns[i % 2])
            d = await gql_data(http, DONATE, {"i": inp}, fin)
            assert d["recordDonation"]["errors"] == [], d
    return funds


async def statements_per_request(db_url: str, fin_token: str, n_funds: int) -> int:
    settings = load_settings(
        {"JINLIN_DATABASE_URL": db_url, "JINLIN_SECRET_KEY": SECRET, "JINLIN_ENV": "production"}
    )
    app = create_app(settings)
    engine = app.app.state.jinlin.engine
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            await gql_data(http, DASHBOARD, {"n": n_funds}, fin_token)  # warm
            # SQLAlchemy's statements and those sent straight to asyncpg (db/reads.py)
            with count_statements(engine) as counter:
                d = await gql_data(http, DASHBOARD, {"n": n_funds}, fin_token)
        edges = d["funds"]["edges"]
        assert len(edges) == n_funds
        assert all(len(e["node"]["donations"]["edges"]) == 10 for e in edges)
        assert all(e["node"]["donations"]["edges"][0]["node"]["campaign"] for e in edges)
        return counter.count
    finally:
        await engine.dispose()


async def measure(label: str, base_url: str, token: str, body: dict, ok, args, pid: int):
    """One server's rate on one fixed request: wrk when installed (a C load generator
    leaves the cores to the servers), else N requests from httpx clients in this process.
    With it, the CPU the server's processes (`pid` and its children) and PostgreSQL's
    spent per request (`server_ms`, `postgres_ms`): where each server's time goes."""
    if have_wrk():
        warm = partial(wrk_fixed, "warm", base_url, token, body, 2, args.c)
        timed = partial(
            wrk_fixed, f"{label} (wrk, {args.seconds:g} s)", base_url, token, body,
            args.seconds, args.c,
        )  # fmt: skip
    else:
        warm = partial(http_load, "warm", base_url, token, 4 * args.c, args.c, lambda i: body, ok)
        timed = partial(
            http_load, f"{label} (httpx)", base_url, token, args.n, args.c, lambda i: body, ok
        )
    await warm()
    server = psutil.Process(pid)
    processes = [server, *server.children(recursive=True)]
    before = cpu_times(processes), cpu_times(postgres_processes())
    load = await timed()
    done = max(getattr(load, "requests", None) or load.count, 1)
    load.server_ms = cpu_spent(before[0], cpu_times(processes)) / done * 1000
    load.postgres_ms = cpu_spent(before[1], cpu_times(postgres_processes())) / done * 1000
    return load


async def against_postgraphile(db: ScratchDatabase, server: Server, fin: str, args) -> list:
    """Jinlin's dashboard, then PostGraphile's on the same database, same data and the
    same figures (checked before either is timed); both servers up, one timed at a time."""
    body = {"query": DASHBOARD, "variables": {"n": 20}}
    peer_body = {"query": postgraphile.QUERY, "variables": {"n": 20}}

    def ok(answer: dict) -> bool:
        return not answer.get("errors") and len(answer["data"]["funds"]["edges"]) == 20

    def peer_ok(answer: dict) -> bool:
        return not answer.get("errors") and len(answer["data"]["allFunds"]["nodes"]) == 20

    label = f"{args.workers} workers"
    problem = postgraphile.install() if args.peer else "left out (--no-peer)"
    if problem:
        console.print(f"[yellow]PostGraphile: {problem}[/]")
        return [
            await measure(
                f"Jinlin dashboard, {label}", server.base_url, fin, body, ok, args, server.proc.pid
            )
        ]
    await postgraphile.prepare(db.dsn)
    with postgraphile.PostGraphile(db.dsn, free_port(), workers=args.workers) as peer:
        await peer.wait_ready(60)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            mine = await gql_data(http, DASHBOARD, {"n": 20}, fin)
            r = await http.post(f"{peer.base_url}/graphql", json=peer_body)
            theirs = r.json()
        if theirs.get("errors") or (diff := postgraphile.same_figures(mine, theirs["data"])):
            raise RuntimeError(f"PostGraphile's answer differs: {theirs.get('errors') or diff}")
        console.print("both answers carry the same figures (20 funds, balances, donations)")
        loads = []
        for _ in range(args.rounds):  # alternating, so that drift hits both alike
            loads.append(
                await measure(
                    f"Jinlin dashboard, {label}",
                    server.base_url,
                    fin,
                    body,
                    ok,
                    args,
                    server.proc.pid,
                )
            )
            loads.append(
                await measure(
                    f"PostGraphile v4, --cluster-workers {args.workers}",
                    peer.base_url,
                    "",
                    peer_body,
                    peer_ok,
                    args,
                    peer.proc.pid,
                )
            )
    return loads


def versus_rows(loads: list) -> list[list[str]]:
    """Each run's row, with Jinlin's rate against PostGraphile's of the same round."""
    rows = []
    for i, load in enumerate(loads):
        peer = loads[i + 1] if i + 1 < len(loads) and i % 2 == 0 else None
        cpu = [f"{load.server_ms:.2f}", f"{load.postgres_ms:.2f}"]
        rows.append([*load.row(), *cpu, ratio(load.rate, peer.rate) if peer else "-"])
    return rows


async def main(argv: list[str] | None = None) -> list[tuple[str, list[str], list[list[str]]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("-n", type=int, default=1000, help="dashboard requests (httpx)")
    parser.add_argument("--seconds", type=float, default=15, help="length of the wrk run")
    parser.add_argument("-c", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="Jinlin then the peer, N times")
    parser.add_argument("--no-peer", dest="peer", action="store_false", help="no PostGraphile")
    args = parser.parse_args(argv)
    console.print(f"[bold]machine[/]: {machine()}")
    async with ScratchDatabase(args.url, prefix="jinlin_bench") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with Server(db.url, workers=args.workers) as server:
            await server.start_ready(60)
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                admin = await login(http, "admin")
                fin = await login(http, "fin")
                await populate(http, admin, fin, 20)
            await analyze(db.url)  # see common.analyze
            counts = [(k, await statements_per_request(db.url, fin, k)) for k in (5, 20)]
            loads = await against_postgraphile(db, server, fin, args)
    sql_columns = ["funds on the page", "SQL statements per request"]
    sql_rows = [[str(k), str(v)] for k, v in counts]
    console.print(table("Dashboard: SQL statements per request", sql_columns, sql_rows))
    title = f"Dashboard over HTTP against PostGraphile, C={args.c}"
    columns = [
        *LOAD_COLUMNS,
        "server CPU ms/req",
        "PostgreSQL CPU ms/req",
        "Jinlin vs PostGraphile",
    ]
    rows = versus_rows(loads)
    console.print(table(title, columns, rows))
    for load in loads:
        if getattr(load, "first_error", ""):
            console.print(f"  {load.label}: first error: {load.first_error}")
    return [
        ("Dashboard: SQL statements per request", sql_columns, sql_rows),
        (title, columns, rows),
    ]


if __name__ == "__main__":
    for title, columns, rows in asyncio.run(main()):
        print(f"\n### {title}\n\n{markdown(columns, rows)}")
