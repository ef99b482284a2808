"""Public reads on an asynchronous streaming replica (JINLIN_READ_DATABASE_URL): where
reads go, what a lagging replica shows, and the fallback when it is down.

A real primary and standby from Debian's PostgreSQL (tests/ops/replication.py) and a
real `jinlin serve`. With the standby's replay paused, a donation is on the primary
only: the public report and pages may show the fund without it, while the finance
view and the donor's receipt check (primary) find it, and the live board, woken by
the donation, reads the primary once the replica has not caught up within 2 s.
Then the standby stops (public reads fall back to the primary) and starts again
(they return to it).
"""

from __future__ import annotations

import asyncio
import json
import time

import asyncpg
import httpx
import pytest
import websockets

from db.migrate import upgrade_async
from db.replica import APPLICATION_NAME, CATCH_UP_WITHIN, IDLE_PING, RETRY_AFTER
from tests.faults.harness import asyncpg_dsn, create_users, gql_data, login, open_funds
from tests.ops.replication import ReplicatedPair, debian_bin_dir
from tests.ops.servers import ConfiguredServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(debian_bin_dir() is None, reason="Debian's PostgreSQL is not installed"),
]

CAMPAIGN = (
    'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"邻居节",'
    'startsAt:"2023-01-01T00:00:00+08:00"}){campaign{id}}}'
)
DONATE = (
    "mutation($i:RecordDonationInput!){recordDonation(input:$i){"
    "donation{receipt{number} publicFund{balances{total{amount}} recentDonations{amount{amount}}}}"
    " errors{code message}}}"
)
MAX_LAG = 5.0  # JINLIN_READ_MAX_LAG: long enough for the stale reads the test expects first
PUBLIC_TOTAL = "query($c:String!){publicFundReport(code:$c){balances{total{amount}}}}"
STAFF_TOTAL = "query($f:ID!){node(id:$f){... on Fund{balances{total{amount}}}}}"
SUBSCRIBE = "subscription($c:ID!){campaignProgress(campaignId:$c){donationCount}}"
PUBLIC_READS = (
    f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{APPLICATION_NAME}'"
)


class Site:
    """The server's public face and its finance staff, over HTTP."""

    def __init__(self, http: httpx.AsyncClient, fin: str, fund: str, code: str, campaign: str):
        self.http, self.fin, self.fund, self.code, self.campaign = http, fin, fund, code, campaign
        self.gifts = 0

    async def donate(self, amount: str) -> str:
        self.gifts += 1
        inp = {
            "fundId": self.fund,
            "channel": "CASH",
            "amount": {"amount": amount, "currency": "CNY"},
            "donorName": "张三",
            "campaignId": self.campaign,
            "idempotencyKey": f"gift-{self.gifts}",
        }
        d = (await gql_data(self.http, DONATE, {"i": inp}, self.fin))["recordDonation"]
        assert d["errors"] == [], d
        self.written = d["donation"]["publicFund"]  # the public face, as the payload shows it
        return d["donation"]["receipt"]["number"]

    async def public_total(self) -> str:
        d = await gql_data(self.http, PUBLIC_TOTAL, {"c": self.code})
        return d["publicFundReport"]["balances"]["total"]["amount"]

    async def staff_total(self) -> str:
        d = await gql_data(self.http, STAFF_TOTAL, {"f": self.fund}, self.fin)
        return d["node"]["balances"]["total"]["amount"]

    async def page_shows(self, figure: str) -> bool:
        page = await self.http.get(f"/funds/{self.code}")
        assert page.status_code == 200
        return figure in page.text

    async def board_recent(self) -> int:
        r = await self.http.get(f"/board/{self.campaign}/recent.json")
        assert r.status_code == 200
        return len(r.json()["recentDonations"])


class Board:
    """An anonymous live board: the donation counts it is sent, and when."""

    def __init__(self):
        self.seen: list[tuple[float, int]] = []

    async def watch(self, url: str, campaign: str) -> None:
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            payload = {"query": SUBSCRIBE, "variables": {"c": campaign}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            async for message in ws:
                parsed = json.loads(message)
                assert parsed["type"] == "next", parsed
                count = parsed["payload"]["data"]["campaignProgress"]["donationCount"]
                self.seen.append((time.monotonic(), count))

    async def until(self, count: int, within: float = 15) -> float:
        """When the board was first sent `count` donations."""
        deadline = time.monotonic() + within
        while not any(c == count for _, c in self.seen):
            assert time.monotonic() < deadline, self.seen
            await asyncio.sleep(0.05)
        return next(at for at, c in self.seen if c == count)


async def test_public_reads_go_to_the_replica_and_fall_back_to_the_primary():
    pair = ReplicatedPair(debian_bin_dir(), synchronous=False)
    try:
        pair.start()
        pair.wait_streaming()
        await _run(pair)
    finally:
        pair.stop()


async def _run(pair: ReplicatedPair) -> None:
    admin_conn = await asyncpg.connect(asyncpg_dsn(pair.primary.url()))
    await admin_conn.execute("CREATE DATABASE jinlin")
    await admin_conn.close()
    await upgrade_async(pair.primary.url("jinlin"))
    await create_users(pair.primary.url("jinlin"), {"admin": ["ADMIN"], "fin": ["FINANCE"]})
    env = {
        "JINLIN_READ_DATABASE_URL": pair.standby.url("jinlin"),
        "JINLIN_READ_MAX_LAG": str(MAX_LAG),
    }
    with ConfiguredServer(pair.primary.url("jinlin"), workers=1, env=env) as server:
        await server.start_ready()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            admin, fin = await login(http, "admin"), await login(http, "fin")
            (fund,) = await open_funds(http, admin, 1, tag="RR")
            campaign = (await gql_data(http, CAMPAIGN, {"f": fund}, admin))["createCampaign"]
            site = Site(http, fin, fund, "RR000", campaign["campaign"]["id"])
            await site.donate("10.00")
            await asyncio.to_thread(pair.wait_replayed)
            board = Board()
            ws_url = server.base_url.replace("http", "ws") + "/graphql"
            watching = asyncio.create_task(board.watch(ws_url, site.campaign))
            try:
                await board.until(1)
                await _routed(pair, site)
                await _lagging(pair, site, board)
                await _replica_down(pair, site, board)
                await _replica_back(pair, site)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n--- server log:\n{server.output()}") from None
            finally:
                watching.cancel()
        assert server.alive()


async def _routed(pair: ReplicatedPair, site: Site) -> None:
    """Public reads are the replica's connections; the primary has none of them."""
    assert await site.public_total() == "10.00"
    assert await site.page_shows("10.00")
    assert await site.board_recent() == 1
    assert int(pair.standby.psql(PUBLIC_READS)) > 0
    assert int(pair.primary.psql(PUBLIC_READS)) == 0
    # The replica's pool has its own gauge; every connection went back after the reads.
    scraped = (await site.http.get("/metrics")).text
    assert "\njinlin_db_replica_pool_in_use 0.0\n" in scraped, scraped[-3000:]


async def _lagging(pair: ReplicatedPair, site: Site, board: Board) -> None:
    """Replay paused: the public side may lag, money reads and the receipt check do not,
    and the board hears the donation from the primary after waiting for the replica.
    Once the replica is further behind than JINLIN_READ_MAX_LAG, pages read the primary."""
    pair.standby.psql("SELECT pg_wal_replay_pause()")
    sent = time.monotonic()
    receipt = await site.donate("5.00")
    # The mutation's payload reads its own write, public face included (the primary)...
    assert site.written["balances"]["total"]["amount"] == "15.00"
    assert [d["amount"]["amount"] for d in site.written["recentDonations"]] == ["5.00", "10.00"]
    assert await site.public_total() == "10.00"  # ...a public read, the replica, seconds behind
    assert not await site.page_shows("15.00")
    assert await site.board_recent() == 1
    assert await site.staff_total() == "15.00"  # finance reads the primary
    check = await site.http.get(f"/verify/{receipt}.json")  # the donor's receipt check
    assert check.status_code == 200, check.text
    heard = await board.until(2)
    # It waited for the replica first, then read the primary.
    assert heard - sent >= CATCH_UP_WITHIN * 0.95, heard - sent
    # Past JINLIN_READ_MAX_LAG, the replica (still paused) is cut off: pages read the primary.
    while await site.public_total() != "15.00":
        assert time.monotonic() - sent < MAX_LAG + 10, "the lagging replica was never cut off"
        await asyncio.sleep(0.2)
    assert time.monotonic() - sent >= MAX_LAG * 0.9, "cut off before it lagged that long"
    assert await site.page_shows("15.00")
    pair.standby.psql("SELECT pg_wal_replay_resume()")
    await asyncio.to_thread(pair.wait_replayed)
    assert await site.public_total() == "15.00"
    assert await site.page_shows("15.00")
    assert await site.board_recent() == 2


async def _replica_down(pair: ReplicatedPair, site: Site, board: Board) -> None:
    """The replica stops: public reads go to the primary, under the same name. What the
    cache of public reads holds for the unchanged head is still answered from memory;
    the next donation moves the head, and the read after it must reach the primary."""
    pair.standby.stop()
    await asyncio.sleep(IDLE_PING + 0.2)  # the pool's connections sat idle: pinged first
    assert await site.public_total() == "15.00"
    assert await site.page_shows("15.00")
    await site.donate("1.00")
    assert await site.public_total() == "16.00"
    assert await site.page_shows("16.00")
    assert int(pair.primary.psql(PUBLIC_READS)) > 0
    await board.until(3, within=CATCH_UP_WITHIN + 10)
    assert await site.board_recent() == 3


async def _replica_back(pair: ReplicatedPair, site: Site) -> None:
    """The replica returns: once its quiet time is over, public reads go back to it."""
    pair.standby.start()
    await asyncio.to_thread(pair.wait_streaming)
    await asyncio.to_thread(pair.wait_replayed)
    await asyncio.sleep(RETRY_AFTER)
    await site.donate("1.00")  # moves the head: the cached report is read again
    await asyncio.to_thread(pair.wait_replayed)
    for _ in range(3):
        assert await site.public_total() == "17.00"
    assert int(pair.standby.psql(PUBLIC_READS)) > 0
