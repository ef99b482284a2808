"""/metrics summed over two workers, and the one-line-per-request JSON log, against a
real `jinlin serve`."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from ops.caches import SYNC_EVERY
from tests.faults.harness import (
    PASSWORD,
    SECRET,
    ScratchDatabase,
    create_users,
    donation_input,
    gql,
    gql_data,
    login,
    open_funds,
)
from tests.ops.servers import ConfiguredServer

pytestmark = pytest.mark.slow

METRICS_TOKEN = "scrape-token-0123456789"
DONOR = "欧阳明月"  # a name that must never reach the log
DONATE = (
    "mutation Give($i:RecordDonationInput!){recordDonation(input:$i){"
    "donation{id} errors{code field}}}"
)
VERIFY = "query($f:ID!){verifyJournal(fundId:$f){ok}}"
AUDIT = "query($f:ID!){node(id:$f){... on Fund{audit{ok}}}}"
SUBSCRIBE = "subscription($c:ID!){campaignProgress(campaignId:$c){donationCount}}"
CAMPAIGN = (
    'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"邻居节",'
    'startsAt:"2020-01-01T00:00:00+08:00"}){campaign{id} errors{code}}}'
)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) → value."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(http: httpx.AsyncClient) -> dict:
    r = await http.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert r.status_code == 200, r.text
    return samples(r.text)


async def _donate(http, token, fund, key, amount, channel, **extra):
    inp = donation_input(fund, key, amount, channel, donorName=DONOR, **extra)
    return await gql(http, DONATE, {"i": inp}, token)


async def test_metrics_add_up_over_workers_and_logs_keep_secrets(pg_url):
    env = {"JINLIN_LOG_FORMAT": "json", "JINLIN_METRICS_TOKEN": METRICS_TOKEN}
    async with asyncio.timeout(120), ScratchDatabase(pg_url, prefix="jinlin_ops") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with ConfiguredServer(db.url, workers=2, env=env) as server:
            await server.start_ready()
            async with httpx.AsyncClient(
                base_url=server.base_url, timeout=30, headers={"connection": "close"}
            ) as http:
                # No token, or a wrong one: no metrics.
                assert (await http.get("/metrics")).status_code == 401
                wrong = await http.get("/metrics", headers={"authorization": "Bearer nope"})
                assert wrong.status_code == 401

                admin = await login(http, "admin")
                fin = await login(http, "fin")
                (fund,) = await open_funds(http, admin, 1)
                campaign = (await gql_data(http, CAMPAIGN, {"f": fund}, admin))["createCampaign"][
                    "campaign"
                ]["id"]
                before = await scrape(http)

                # New connections each time: requests land on both workers.
                gifts = [("ONLINE", "12.34"), ("ONLINE", "1.00"), ("CASH", "50.00")]
                for i, (channel, amount) in enumerate(gifts):
                    body = await _donate(http, fin, fund, f"k{i}", amount, channel)
                    assert body["data"]["recordDonation"]["errors"] == [], body
                replay = await _donate(http, fin, fund, "k0", "12.34", "ONLINE")
                assert replay["data"]["recordDonation"]["errors"] == []
                refused = await _donate(http, fin, fund, "bad", "1.234", "CASH")
                assert refused["data"]["recordDonation"]["errors"][0]["code"] == "INVALID_AMOUNT"
                unauth = await gql(http, VERIFY, {"f": fund})  # no token: UNAUTHENTICATED
                parse = await http.post("/graphql", json={"query": "{ nope"})
                assert parse.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
                assert (await gql_data(http, VERIFY, {"f": fund}, fin))["verifyJournal"]["ok"]
                assert (await gql_data(http, AUDIT, {"f": fund}, fin))["node"]["audit"]["ok"]

                async with websockets.connect(
                    server.base_url.replace("http", "ws") + "/graphql",
                    subprotocols=["graphql-transport-ws"],
                ) as ws:
                    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                    assert json.loads(await ws.recv())["type"] == "connection_ack"
                    payload = {"query": SUBSCRIBE, "variables": {"c": campaign}}
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                    assert json.loads(await ws.recv())["type"] == "next"
                    during = await scrape(http)
                # The caches' counts reach Prometheus within SYNC_EVERY of a request.
                await asyncio.sleep(SYNC_EVERY + 0.3)
                after = await _settled_scrape(http)

                given = http.headers.copy()
                given["x-request-id"] = "proxy-given-id-42"
                echoed = await http.post("/graphql", json={"query": "{__typename}"}, headers=given)
                assert echoed.headers["x-request-id"] == "proxy-given-id-42"
            server.stop()
            output = server.full_output()

    errors = unauth.get("errors") or []
    assert errors and errors[0]["extensions"]["code"] == "UNAUTHENTICATED"

    _check_metrics(before, during, after, fund)
    _check_log(output, fin)


def _check_metrics(before: dict, during: dict, after: dict, fund: str) -> None:
    def grew(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Donations: new ones only, the replay and the refusal not counted.
    assert grew("jinlin_donations_recorded_total", channel="ONLINE") == 2
    assert grew("jinlin_donations_recorded_total", channel="CASH") == 1
    assert grew("jinlin_donations_recorded_fen_total", channel="ONLINE") == 1334
    assert grew("jinlin_donations_recorded_fen_total", channel="CASH") == 5000
    # Requests by operation, over both workers; errors by code.
    assert grew("jinlin_requests_total", operation="mutation recordDonation", status="200") == 5
    assert grew("jinlin_request_duration_seconds_count", operation="mutation recordDonation") == 5
    assert grew("jinlin_graphql_errors_total", code="UNAUTHENTICATED") == 1
    assert grew("jinlin_graphql_errors_total", code="GRAPHQL_PARSE_FAILED") == 1
    # Every new donation passed the write gate, and none is waiting now.
    assert grew("jinlin_write_gate_wait_seconds_count") >= 3
    assert value(after, "jinlin_write_gate_waiting") == 0
    assert value(after, "jinlin_db_pool_in_use") == 0
    assert value(during, "jinlin_subscriptions_open") == 1
    assert value(after, "jinlin_subscriptions_open") == 0
    assert grew("jinlin_cache_lookups_total", cache="parse", result="hit") >= 1
    assert value(after, "jinlin_journal_verify_ok", fund=fund) == 1
    assert value(after, "jinlin_journal_verify_timestamp_seconds", fund=fund) > 0
    assert value(after, "jinlin_audit_ok", fund=fund) == 1
    assert value(after, "jinlin_audit_timestamp_seconds", fund=fund) > 0


async def _settled_scrape(http) -> dict:
    """A scrape once the closed socket's subscription has ended in its worker."""
    for _ in range(50):
        found = await scrape(http)
        if value(found, "jinlin_subscriptions_open") == 0:
            return found
        await asyncio.sleep(0.1)
    return found


def _check_log(output: str, fin_token: str) -> None:
    for secret in (DONOR, PASSWORD, fin_token, SECRET, METRICS_TOKEN):
        assert secret not in output, f"{secret[:8]}… is in the log"
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(lines) == len(output.strip().splitlines()), "every line is JSON"
    requests = [line for line in lines if line["message"] == "request"]
    # One line per request: uvicorn's access log stays off.
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    donations = [r for r in requests if r["operation"] == "mutation recordDonation"]
    assert len(donations) == 5
    for r in donations:
        assert r["status"] == 200
        assert r["operation_name"] == "Give"
        assert isinstance(r["viewer_id"], int)
        assert r["duration_ms"] > 0
        assert len(r["request_id"]) == 16
    assert len({r["request_id"] for r in requests}) == len(requests)
    assert any(r["request_id"] == "proxy-given-id-42" for r in requests)
    unauthenticated = [r for r in requests if r.get("errors") == ["UNAUTHENTICATED"]]
    assert unauthenticated and unauthenticated[0]["viewer_id"] is None
