"""campaignProgress over a real WebSocket (graphql-transport-ws) against a real server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import httpx
import uvicorn
import websockets

from config import load_settings
from server import create_app
from tests.api.client import new_key
from tests.api.world import RECORD, build_world

SUBSCRIBE = "subscription($c: ID!) { campaignProgress(campaignId: $c) { total { amount } online { amount } offline { amount } donationCount } }"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def running_server(db_url: str):
    port = _free_port()
    settings = load_settings({"JINLIN_DATABASE_URL": db_url, "JINLIN_SECRET_KEY": "x" * 40})
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(100):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def _next(ws) -> dict:
    while True:
        frame = await asyncio.wait_for(ws.recv(), 2)
        assert isinstance(frame, str), "graphql-transport-ws messages are text frames"
        message = json.loads(frame)
        if message["type"] == "next":
            return message["payload"]["data"]["campaignProgress"]
        assert message["type"] in ("ping", "pong", "ka"), message


async def test_progress_is_pushed_after_each_donation_and_refund(api, db_url):
    world = await build_world(api)
    async with running_server(db_url) as host:
        async with websockets.connect(
            f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await asyncio.wait_for(ws.recv(), 2))["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": {"c": world.campaign}},
                    }
                )
            )
            first = await _next(ws)
            assert first == {
                "total": {"amount": "0.00"},
                "online": {"amount": "0.00"},
                "offline": {"amount": "0.00"},
                "donationCount": 0,
            }
            async with httpx.AsyncClient(base_url=f"http://{host}") as http:
                for channel, amount in (("ONLINE", "20.00"), ("CASH", "5.50")):
                    inp = {
                        "fundId": world.fund,
                        "campaignId": world.campaign,
                        "channel": channel,
                        "amount": {"amount": amount, "currency": "CNY"},
                        "donorName": "赵敏",
                        "externalRef": new_key("WX"),
                        "idempotencyKey": new_key(),
                    }
                    r = await http.post(
                        "/graphql",
                        json={"query": RECORD, "variables": {"i": inp}},
                        headers={"Authorization": f"Bearer {world.fin}"},
                    )
                    assert r.json()["data"]["recordDonation"]["errors"] == []
                    update = await _next(ws)
                    donation_id = r.json()["data"]["recordDonation"]["donation"]["id"]
                assert update == {
                    "total": {"amount": "25.50"},
                    "online": {"amount": "20.00"},
                    "offline": {"amount": "5.50"},
                    "donationCount": 2,
                }
                refund = "mutation($i:RefundDonationInput!){refundDonation(input:$i){errors{code}}}"
                r = await http.post(
                    "/graphql",
                    json={
                        "query": refund,
                        "variables": {
                            "i": {
                                "donationId": donation_id,
                                "reason": "退款",
                                "idempotencyKey": new_key(),
                            }
                        },
                    },
                    headers={"Authorization": f"Bearer {world.fin}"},
                )
                assert r.json()["data"]["refundDonation"]["errors"] == []
                assert (await _next(ws))["total"] == {"amount": "20.00"}


async def test_token_in_connection_init_is_accepted_and_unknown_campaign_errors(api, db_url):
    world = await build_world(api)
    async with running_server(db_url) as host:
        async with websockets.connect(
            f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"]
        ) as ws:
            await ws.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {world.fin}"}}
                )
            )
            assert json.loads(await asyncio.wait_for(ws.recv(), 2))["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "9",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": {"c": "Q2FtcGFpZ246OTk5"}},
                    }
                )
            )
            message = json.loads(await asyncio.wait_for(ws.recv(), 2))
            assert message["type"] in ("error", "next")
            errors = (
                message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            )
            assert errors[0]["message"] == "campaign not found", errors
            assert errors[0]["extensions"]["code"] == "NOT_FOUND"
