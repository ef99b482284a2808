"""Anonymous sockets with the same subscription share one execution per worker
(web/broadcasts.py), against a real server and real WebSocket clients: each still gets
its own operation id, its first answer at once, every later total, its request errors,
and a socket with a token still runs alone."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
import websockets

from resolvers.live import CampaignFeed
from tests.door.conftest import serving
from tests.door.test_websocket import _acked, _connect

PROGRESS = "subscription($c: ID!) { campaignProgress(campaignId: $c) { donationCount } }"
SOCKETS = 20


@pytest.fixture
def executions(monkeypatch):
    """How many times the progress resolver subscribed to a campaign, and how many
    of those are still open."""
    counts = {"started": 0, "open": 0}
    subscribe = CampaignFeed.subscribe

    @contextlib.asynccontextmanager
    async def counted(self, campaign_id, **kwargs):
        counts["started"] += 1
        counts["open"] += 1
        try:
            async with subscribe(self, campaign_id, **kwargs) as queue:
                yield queue
        finally:
            counts["open"] -= 1

    monkeypatch.setattr(CampaignFeed, "subscribe", counted)
    return counts


async def _subscribe(ws, op_id: str, variables: dict, query: str = PROGRESS) -> None:
    payload = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))


async def _next(ws, op_id: str) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert message.get("id") == op_id, message
        return message


async def _count_reaches(ws, op_id: str, count: int) -> list[int]:
    """Every donationCount the socket receives until `count`."""
    seen = []
    while not seen or seen[-1] < count:
        message = await _next(ws, op_id)
        assert message["type"] == "next", message
        seen.append(message["payload"]["data"]["campaignProgress"]["donationCount"])
    assert seen[-1] == count
    return seen


async def test_anonymous_sockets_share_one_execution(world, db_url, executions):
    variables = {"c": world.campaign}
    async with serving(db_url, JINLIN_WS_MAX_CONNECTIONS_PER_ADDRESS="50") as host:
        sockets = [await _connect(host) for _ in range(SOCKETS)]
        signed = await _connect(host, world.fin)
        for ws in [*sockets, signed]:
            await _acked(ws)
        for i, ws in enumerate(sockets):
            await _subscribe(ws, f"board-{i}", variables)
        await _subscribe(signed, "mine", variables)
        for i, ws in enumerate(sockets):
            assert await _count_reaches(ws, f"board-{i}", 0) == [0]
        assert await _count_reaches(signed, "mine", 0) == [0]
        assert executions == {"started": 2, "open": 2}, "one shared, one for the token"

        await world.donate(amount="3.00", campaignId=world.campaign)
        for i, ws in enumerate([*sockets, signed]):
            op_id = f"board-{i}" if ws is not signed else "mine"
            assert await _count_reaches(ws, op_id, 1) == [1]

        # Donations in a burst coalesce; every socket ends on the last total.
        for _ in range(6):
            await world.donate(amount="1.00", campaignId=world.campaign)
        for i, ws in enumerate(sockets):
            seen = await _count_reaches(ws, f"board-{i}", 7)
            assert seen == sorted(seen) and len(seen) <= 6

        # One socket leaves its subscription: the others go on, on the same execution.
        await sockets[0].send(json.dumps({"id": "board-0", "type": "complete"}))
        await world.donate(amount="1.00", campaignId=world.campaign)
        for i, ws in enumerate(sockets[1:], start=1):
            assert await _count_reaches(ws, f"board-{i}", 8) == [8]
        assert executions["started"] == 2

        # A socket that joins later gets the current total at once.
        late = await _connect(host)
        await _acked(late)
        await _subscribe(late, "late", variables)
        assert await _count_reaches(late, "late", 8) == [8]
        assert executions["started"] == 2

        for ws in [*sockets, signed, late]:
            await ws.close()
        for _ in range(100):
            if executions["open"] == 0:
                break
            await asyncio.sleep(0.05)
        assert executions["open"] == 0, "the shared execution ends with its last socket"


async def test_request_errors_are_each_sockets_own(world, db_url, executions):
    async with serving(db_url) as host:
        sockets = [await _connect(host) for _ in range(3)]
        for ws in sockets:
            await _acked(ws)
        bad = "subscription($c: ID!) { campaignProgress(campaignId: $c) { nope } }"
        for i, ws in enumerate(sockets):
            await _subscribe(ws, f"bad-{i}", {"c": world.campaign}, bad)
        for i, ws in enumerate(sockets):
            message = await _next(ws, f"bad-{i}")
            assert message["type"] == "error"
            assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        unknown = {"c": "Q2FtcGFpZ246OTk5OTk="}  # Campaign:99999
        for i, ws in enumerate(sockets):
            await _subscribe(ws, f"gone-{i}", unknown)
        for i, ws in enumerate(sockets):
            message = await _next(ws, f"gone-{i}")
            assert message["type"] == "next", message
            assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            assert (await _next(ws, f"gone-{i}"))["type"] == "complete"
        # The sockets stay usable.
        for i, ws in enumerate(sockets):
            await _subscribe(ws, f"ok-{i}", {"c": world.campaign})
            assert await _count_reaches(ws, f"ok-{i}", 0) == [0]
        for ws in sockets:
            await ws.close()
    assert executions["open"] == 0


async def test_a_closed_socket_does_not_stop_the_others(world, db_url):
    async with serving(db_url) as host:
        sockets = [await _connect(host) for _ in range(4)]
        for ws in sockets:
            await _acked(ws)
            await _subscribe(ws, "1", {"c": world.campaign})
            assert await _count_reaches(ws, "1", 0) == [0]
        await sockets[0].close()
        with contextlib.suppress(websockets.ConnectionClosed):
            sockets[1].transport.abort()  # gone without a close frame
        await world.donate(amount="2.00", campaignId=world.campaign)
        for ws in sockets[2:]:
            assert await _count_reaches(ws, "1", 1) == [1]
            await ws.close()


async def test_variables_too_deep_to_share_are_answered_alone(world, db_url, executions):
    """Variables nested past what the shared key can encode run alone, and get the
    usual answer: here the variable's own error, not a crash or a closed socket."""
    deep: object = "x"
    for _ in range(300):
        deep = [deep]
    async with serving(db_url) as host:
        ws = await _connect(host)
        await _acked(ws)
        await _subscribe(ws, "deep", {"c": deep})
        message = await _next(ws, "deep")
        assert message["type"] == "error", message
        await _subscribe(ws, "ok", {"c": world.campaign})
        assert await _count_reaches(ws, "ok", 0) == [0]
        await ws.close()
    assert executions["started"] == 1
