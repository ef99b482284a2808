"""Jinlin with two workers through PgBouncer in transaction mode: donations from many
clients at once (retries with the same keys among them), and the live board, whose
LISTEN takes a direct connection (JINLIN_LISTEN_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from tests.faults.harness import (
    BALANCES,
    ScratchDatabase,
    create_users,
    donation_input,
    fen,
    gql,
    gql_data,
    login,
    open_funds,
    verify_journal_cli,
)
from tests.ops import pgbouncer
from tests.ops.servers import ConfiguredServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not pgbouncer.available(), reason="PgBouncer is not installed (scripts/pgbouncer-deps.sh)"
    ),
]

SUBSCRIBE = "subscription($c:ID!){campaignProgress(campaignId:$c){donationCount}}"
DONATE = "mutation($i:RecordDonationInput!){recordDonation(input:$i){errors{code message}}}"
CAMPAIGN = (
    'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"邻居节",'
    'startsAt:"2023-01-01T00:00:00+08:00"}){campaign{id}}}'
)
CLIENTS, PER_CLIENT, SUBSCRIBERS = 8, 10, 3


async def _board(url: str, campaign: str, until: int, ready: asyncio.Event) -> list[int]:
    counts: list[int] = []
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": SUBSCRIBE, "variables": {"c": campaign}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        while not counts or counts[-1] < until:
            message = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert message["type"] == "next", message
            counts.append(message["payload"]["data"]["campaignProgress"]["donationCount"])
            ready.set()
    return counts


async def _donor(base_url: str, token: str, funds: list[str], campaign: str, n: int) -> int:
    """PER_CLIENT donations, each sent twice (a client retrying): the fen it gave."""
    given = 0
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for i in range(PER_CLIENT):
            fund = funds[(n + i) % len(funds)]
            extra = {"campaignId": campaign} if fund == funds[0] else {}
            inp = donation_input(fund, f"c{n}-{i}", f"{n + 1}.{i:02d}", "ONLINE", **extra)
            for _ in range(2):
                body = await gql(http, DONATE, {"i": inp}, token)
                assert not body.get("errors"), body
                assert body["data"]["recordDonation"]["errors"] == [], body
            given += fen(inp["amount"]["amount"])
    return given


async def test_two_workers_through_pgbouncer(pg_url):
    async with (
        asyncio.timeout(240),
        ScratchDatabase(pg_url, prefix="jinlin_bouncer") as db,
        pgbouncer.PgBouncer(pg_url) as bouncer,
    ):
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        env = {"JINLIN_DB_POOLER": "pgbouncer", "JINLIN_LISTEN_DATABASE_URL": db.url}
        with ConfiguredServer(bouncer.url(db.name), workers=2, env=env) as server:
            await server.start_ready()
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                admin, fin = await login(http, "admin"), await login(http, "fin")
                funds = await open_funds(http, admin, 2, tag="PGB")
                d = await gql_data(http, CAMPAIGN, {"f": funds[0]}, admin)
                campaign = d["createCampaign"]["campaign"]["id"]

            on_campaign = sum(
                1 for n in range(CLIENTS) for i in range(PER_CLIENT) if (n + i) % 2 == 0
            )
            ws_url = server.base_url.replace("http", "ws") + "/graphql"
            readies = [asyncio.Event() for _ in range(SUBSCRIBERS)]
            boards = [
                asyncio.create_task(_board(ws_url, campaign, on_campaign, readies[i]))
                for i in range(SUBSCRIBERS)
            ]
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 15)
            given = await asyncio.gather(
                *(_donor(server.base_url, fin, funds, campaign, n) for n in range(CLIENTS))
            )
            for counts in await asyncio.wait_for(asyncio.gather(*boards), 30):
                assert counts[0] == 0 and counts[-1] == on_campaign, counts
                assert counts == sorted(counts)

            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                total = 0
                for fund in funds:
                    node = (await gql_data(http, BALANCES, {"f": fund}, fin))["node"]
                    assert node["trialBalance"]["balanced"]
                    total += fen(node["balances"]["total"]["amount"])
            assert total == sum(given)
            server.stop()
            assert "DATABASE_UNAVAILABLE" not in server.full_output()
        # The server's connections went through PgBouncer, in transaction mode.
        assert f"db={db.name}" in bouncer.log()
        verified = verify_journal_cli(db.url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
