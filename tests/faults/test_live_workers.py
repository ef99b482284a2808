"""Live campaign progress across two worker processes (LISTEN/NOTIFY on PostgreSQL).

Subscribers and donors connect afresh each time, so the kernel spreads them over both
workers: a subscriber on one worker must hear about donations taken by the other.
Straight to PostgreSQL, and through PgBouncer in transaction mode with LISTEN on a
direct connection (the `route` fixture).
"""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from tests.faults.harness import (
    ScratchDatabase,
    create_users,
    donation_input,
    gql_data,
    login,
    open_funds,
)

SUBSCRIBE = "subscription($c:ID!){campaignProgress(campaignId:$c){total{amount} donationCount}}"
DONATE = "mutation($i:RecordDonationInput!){recordDonation(input:$i){errors{code message}}}"
SUBSCRIBERS, DONATIONS = 6, 8


async def _subscribe(
    url: str, campaign: str, seen: list[int], ready: asyncio.Event, done: asyncio.Event
):
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIBE, "variables": {"c": campaign}},
                }
            )
        )
        while not done.is_set():
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if message["type"] != "next":
                continue
            seen.append(message["payload"]["data"]["campaignProgress"]["donationCount"])
            ready.set()
            if seen[-1] == DONATIONS:
                done.set()


async def test_every_subscriber_hears_every_worker(pg_url, route):
    async with ScratchDatabase(pg_url, prefix="jinlin_live") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with route.server(db, workers=2) as server:
            await server.start_ready()
            async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
                admin, fin = await login(http, "admin"), await login(http, "fin")
                (fund,) = await open_funds(http, admin, 1, tag="LIVE")
                d = await gql_data(
                    http,
                    'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"邻居节",startsAt:"2023-01-01T00:00:00+08:00"}){campaign{id}}}',
                    {"f": fund},
                    token=admin,
                )
                campaign = d["createCampaign"]["campaign"]["id"]
            ws_url = server.base_url.replace("http", "ws") + "/graphql"
            seen = [[] for _ in range(SUBSCRIBERS)]
            readies = [asyncio.Event() for _ in range(SUBSCRIBERS)]
            dones = [asyncio.Event() for _ in range(SUBSCRIBERS)]
            tasks = [
                asyncio.create_task(_subscribe(ws_url, campaign, seen[i], readies[i], dones[i]))
                for i in range(SUBSCRIBERS)
            ]
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 10)
            for i in range(DONATIONS):
                # A new connection per donation: the kernel picks the worker.
                async with httpx.AsyncClient(
                    base_url=server.base_url, timeout=10, headers={"connection": "close"}
                ) as http:
                    d = await gql_data(
                        http,
                        DONATE,
                        {"i": donation_input(fund, f"live-{i}", "1.00", campaignId=campaign)},
                        token=fin,
                    )
                    assert d["recordDonation"]["errors"] == []
                await asyncio.sleep(0.05)
            await asyncio.wait_for(asyncio.gather(*tasks), 15)
            for counts in seen:
                assert counts[0] == 0 and counts[-1] == DONATIONS, counts
                assert counts == sorted(counts), counts
        route.check(db)
