"""graphql-transport-ws against a real server: authentication at connection_init and
again for every operation, the HTTP limits on every message, malformed messages, and
the caps on operations per socket and sockets per address."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from sqlalchemy import select, text

from db.models import UserRow
from db.uow import read_session
from resolvers.users import TokenKeys, issue_token
from tests.door.conftest import SECRET, serving
from tests.door.queries import fan_out

VIEWER = "{ viewer { username } }"
PROGRESS = "subscription($c: ID!) { campaignProgress(campaignId: $c) { donationCount } }"


async def _connect(host: str, token: str | None = None):
    ws = await websockets.connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"])
    payload = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    except websockets.ConnectionClosed:
        pass  # refused on arrival: the caller reads the close code
    return ws


async def _closed_with(ws, within: float = 3.0) -> int:
    """The close code the server sends, ignoring messages before it."""
    deadline = time.monotonic() + within
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic()))
    return closed.value.rcvd.code


async def _acked(ws) -> None:
    assert json.loads(await asyncio.wait_for(ws.recv(), 3))["type"] == "connection_ack"


async def _run(ws, op_id: str, query: str, variables: dict | None = None) -> dict:
    await ws.send(
        json.dumps(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 3))
        if message.get("id") == op_id and message["type"] in ("next", "error"):
            return message


async def _token(engine, username: str, ttl: int) -> str:
    async with read_session(engine) as session:
        user = await session.scalar(select(UserRow).where(UserRow.username == username))
    return issue_token(user, TokenKeys(SECRET, ttl))


async def test_connection_init_with_a_bad_or_expired_token_closes_with_4403(api, db_url):
    await api.user("fin", "FINANCE")
    expired = await _token(api.state.engine, "fin", -60)
    forged = issue_token(UserRow(id=1, token_version=0), TokenKeys("y" * 40, 3600))
    async with serving(db_url) as host:
        for token in ("garbage", forged, expired):
            ws = await _connect(host, token)
            assert await _closed_with(ws) == 4403, token
        anonymous = await _connect(host)  # no token at all is anonymous, not refused
        await _acked(anonymous)
        assert (await _run(anonymous, "1", VIEWER))["payload"]["data"] == {"viewer": None}
        await anonymous.close()


async def test_the_socket_closes_when_its_token_expires(api, db_url):
    await api.user("fin", "FINANCE")
    async with serving(db_url) as host:
        # Minted once the server is up: a slow start must not use up its life.
        token = await _token(api.state.engine, "fin", 3)
        ws = await _connect(host, token)
        await _acked(ws)
        assert (await _run(ws, "1", VIEWER))["payload"]["data"] == {"viewer": {"username": "fin"}}
        assert await _closed_with(ws, within=6) == 4403


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE users SET password_hash = 'changed' WHERE username = 'boss'",
        "UPDATE users SET roles = 'FINANCE' WHERE username = 'boss'",
        "DELETE FROM users WHERE username = 'boss'",
    ],
    ids=["password changed", "role removed", "user deleted"],
)
async def test_every_operation_checks_the_viewer_again(api, db_url, no_viewer_cache, change):
    token = await api.user("boss", "ADMIN", "FINANCE")
    async with serving(db_url) as host:
        ws = await _connect(host, token)
        await _acked(ws)
        first = await _run(ws, "1", VIEWER)
        assert first["payload"]["data"] == {"viewer": {"username": "boss"}}
        async with api.state.engine.begin() as conn:
            await conn.execute(text(change))
        await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": VIEWER}}))
        assert await _closed_with(ws) == 4403


async def test_adding_a_role_keeps_the_token(api, db_url, no_viewer_cache):
    token = await api.user("boss", "FINANCE")
    async with api.state.engine.begin() as conn:
        await conn.execute(text("UPDATE users SET roles = 'ADMIN,FINANCE' WHERE username = 'boss'"))
    async with serving(db_url) as host:
        ws = await _connect(host, token)
        await _acked(ws)
        assert (await _run(ws, "1", VIEWER))["payload"]["data"] == {"viewer": {"username": "boss"}}
        await ws.close()


@pytest.mark.parametrize(
    "message",
    [
        "[]",
        '{"query": 5}',
        '"connection_init"',
        "not json",
        '{"type": "subscribe", "id": "1", "payload": {"query": 5}}',
        '{"type": "subscribe", "id": 1, "payload": {"query": "{__typename}"}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{__typename}", "variables": []}}',
        '{"type": "complete"}',
    ],
)
async def test_a_malformed_message_closes_with_4400(api, db_url, message):
    async with serving(db_url) as host:
        ws = await _connect(host)
        await _acked(ws)
        await ws.send(message)
        assert await _closed_with(ws) == 4400


async def test_an_oversized_message_closes_the_socket(api, db_url):
    async with serving(db_url) as host:
        ws = await _connect(host)
        await _acked(ws)
        padding = "x" * (2 * 1024 * 1024)
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": "{__typename}", "pad": padding},
                }
            )
        )
        assert await _closed_with(ws) == 1009


async def test_messages_are_held_to_the_query_limits(api, db_url):
    async with serving(db_url) as host:
        ws = await _connect(host)
        await _acked(ws)
        started = time.monotonic()
        refused = await _run(ws, "1", fan_out())
        assert time.monotonic() - started < 1.0
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        aliases = await _run(ws, "2", "{" + " ".join(f"a{i}: __typename" for i in range(40)) + "}")
        assert aliases["type"] == "error" and "aliases" in aliases["payload"][0]["message"]
        nul = await _run(
            ws, "3", "query($c: String!) { publicFundReport(code: $c) { name } }", {"c": "E\u0000"}
        )
        assert nul["payload"][0]["extensions"]["code"] == "INVALID_INPUT"
        await ws.close()


async def test_operations_per_socket_are_capped(world, db_url):
    async with serving(db_url, JINLIN_WS_MAX_SUBSCRIPTIONS="2") as host:
        ws = await _connect(host)
        await _acked(ws)
        for op_id in ("1", "2"):
            first = await _run(ws, op_id, PROGRESS, {"c": world.campaign})
            assert first["type"] == "next"
        third = await _run(ws, "3", PROGRESS, {"c": world.campaign})
        assert third["type"] == "error" and "limit" in third["payload"][0]["message"]
        await ws.close()


async def test_sockets_per_address_are_capped(api, db_url):
    async with serving(db_url, JINLIN_WS_MAX_CONNECTIONS_PER_ADDRESS="2") as host:
        kept = [await _connect(host) for _ in range(2)]
        for ws in kept:
            await _acked(ws)
        extra = await _connect(host)
        assert await _closed_with(extra) == 4429
        await kept[0].close()
        await asyncio.sleep(0.2)
        again = await _connect(host)  # a closed socket frees its place
        await _acked(again)
        for ws in (kept[1], again):
            await ws.close()


async def test_queries_on_a_socket_have_the_time_limit_and_subscriptions_do_not(world, db_url):
    async with serving(db_url, JINLIN_REQUEST_TIMEOUT="0.000001") as host:
        ws = await _connect(host)
        await _acked(ws)
        query = '{ publicFundReport(code: "ETGY") { name } }'
        stopped = await _run(ws, "1", query)
        assert stopped["type"] == "error"
        assert stopped["payload"][0]["extensions"]["code"] == "TIMEOUT"
        live = await _run(ws, "2", PROGRESS, {"c": world.campaign})
        assert live["type"] == "next"
        assert live["payload"]["data"]["campaignProgress"] == {"donationCount": 0}
        await ws.close()
