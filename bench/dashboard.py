"""The staff console's read path on PostgreSQL: funds with balances, each with its
last 10 donations and their campaigns (run by hand or by `make bench`).

    .venv/bin/python bench/dashboard.py -n 1000 -c 16 --workers 2

1. SQL statements per request, counted in-process (the real ASGI app, a
   before_cursor_execute counter on its engine) for 5 and for 20 funds: the count
   must not grow with the number of funds (dataloaders batch each level).
2. Requests/s and latency percentiles over HTTP against `jinlin serve --workers W`.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from common import (
    DEFAULT_URL,
    DONATE,
    LOAD_COLUMNS,
    ScratchDatabase,
    Server,
    analyze,
    console,
    create_users,
    donation_input,
    gql_data,
    have_wrk,
    http_load,
    login,
    machine,
    markdown,
    open_funds,
    table,
    wrk_fixed,
)
from sqlalchemy import event

from config import load_settings
from server import create_app
from tests.faults.harness import SECRET

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
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SELECT 1")):
            seen.append(statement)

    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            await gql_data(http, DASHBOARD, {"n": n_funds}, fin_token)  # warm
            event.listen(engine.sync_engine, "before_cursor_execute", count)
            d = await gql_data(http, DASHBOARD, {"n": n_funds}, fin_token)
            event.remove(engine.sync_engine, "before_cursor_execute", count)
        edges = d["funds"]["edges"]
        assert len(edges) == n_funds
        assert all(len(e["node"]["donations"]["edges"]) == 10 for e in edges)
        assert all(e["node"]["donations"]["edges"][0]["node"]["campaign"] for e in edges)
        return len(seen)
    finally:
        await engine.dispose()


async def main(argv: list[str] | None = None) -> list[tuple[str, list[str], list[list[str]]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("-n", type=int, default=1000, help="dashboard requests (httpx)")
    parser.add_argument("--seconds", type=float, default=15, help="length of the wrk run")
    parser.add_argument("-c", type=int, default=16, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2)
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

            def ok(body: dict) -> bool:
                return not body.get("errors") and len(body["data"]["funds"]["edges"]) == 20

            body = {"query": DASHBOARD, "variables": {"n": 20}}
            label = f"dashboard (20 funds × 10 donations), {args.workers} workers"
            if have_wrk():  # a C load generator leaves the cores to the server
                await wrk_fixed("warm", server.base_url, fin, body, 2, args.c)
                load = await wrk_fixed(
                    f"{label} (wrk, {args.seconds:g} s)",
                    server.base_url,
                    fin,
                    body,
                    args.seconds,
                    args.c,
                )
            else:
                await http_load(
                    "warm", server.base_url, fin, 4 * args.c, args.c, lambda i: body, ok
                )
                load = await http_load(
                    f"{label} (httpx)", server.base_url, fin, args.n, args.c, lambda i: body, ok
                )
    sql_columns = ["funds on the page", "SQL statements per request"]
    sql_rows = [[str(k), str(v)] for k, v in counts]
    console.print(table("Dashboard: SQL statements per request", sql_columns, sql_rows))
    rows = [load.row()]
    console.print(table(f"Dashboard over HTTP, C={args.c}", LOAD_COLUMNS, rows))
    if getattr(load, "first_error", ""):
        console.print(f"  first error: {load.first_error}")
    return [
        ("Dashboard: SQL statements per request", sql_columns, sql_rows),
        (f"Dashboard over HTTP, C={args.c}", LOAD_COLUMNS, rows),
    ]


if __name__ == "__main__":
    for title, columns, rows in asyncio.run(main()):
        print(f"\n### {title}\n\n{markdown(columns, rows)}")
