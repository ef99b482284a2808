"""Failover drill: donations under load while the primary dies and its synchronous
standby is promoted. Jinlin follows a multi-host URL (target_session_attrs=read-write)
without a restart of its own; clients retry with the same idempotency keys. Every
acknowledged donation must exist exactly once on the new primary, and the journal
must verify. Prints the downtime.

It builds two PostgreSQL servers of its own and takes about 20 s. It runs in
`make test`; `make drills` runs it alone (with -s, so the downtime shows).
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import asyncpg
import httpx
import pytest
import websockets

from db.migrate import upgrade_async
from tests.faults.harness import (
    asyncpg_dsn,
    create_users,
    donation_input,
    fen,
    gql,
    login,
    open_funds,
    verify_journal_cli,
)
from tests.ops.replication import ReplicatedPair, debian_bin_dir
from tests.ops.servers import ConfiguredServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.drill,
    pytest.mark.skipif(debian_bin_dir() is None, reason="Debian's PostgreSQL is not installed"),
]

SUBSCRIBE = "subscription($c:ID!){campaignProgress(campaignId:$c){donationCount}}"
CAMPAIGN = (
    'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"邻居节",'
    'startsAt:"2023-01-01T00:00:00+08:00"}){campaign{id}}}'
)
DONATE = "mutation($i:RecordDonationInput!){recordDonation(input:$i){errors{code message}}}"
CLIENTS = 6
BEFORE, AFTER = 4.0, 4.0  # seconds of load before the kill, and after recovery
PROMOTE_AFTER = 1.0  # seconds from the primary's death to the promotion (detection)
RECOVER_WITHIN = 60.0


class Donors:
    """Clients that record donations one after another, each retried with its key
    until acknowledged, and remember what was acknowledged and when."""

    def __init__(self, base_url: str, token: str, funds: list[str], campaign: str):
        self.base_url, self.token, self.funds, self.campaign = base_url, token, funds, campaign
        self.acknowledged: dict[str, int] = {}  # externalRef → fen
        self.acks: list[tuple[float, float]] = []  # (attempt sent, acknowledged)
        self.stop_at: float | None = None
        self.failures = 0

    async def client(self, n: int) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=15) as http:
            i = 0
            while self.stop_at is None or time.monotonic() < self.stop_at:
                fund = self.funds[i % 2]
                extra = {"campaignId": self.campaign} if fund == self.funds[0] else {}
                inp = donation_input(fund, f"c{n}-{i}", f"{n + 1}.{i % 100:02d}", **extra)
                await self.until_acknowledged(http, inp)
                i += 1

    async def until_acknowledged(self, http, inp) -> None:
        while True:
            sent = time.monotonic()
            try:
                body = await gql(http, DONATE, {"i": inp}, self.token)
                if not body.get("errors") and body["data"]["recordDonation"]["errors"] == []:
                    self.acknowledged[inp["externalRef"]] = fen(inp["amount"]["amount"])
                    self.acks.append((sent, time.monotonic()))
                    return
                codes = {e["extensions"]["code"] for e in body.get("errors") or []}
                assert codes <= {"DATABASE_UNAVAILABLE"}, body
            except httpx.TransportError:
                pass
            self.failures += 1
            await asyncio.sleep(0.1)


async def _watch(base_url: str, campaign: str, seen: list[tuple[float, int, int]]) -> None:
    """One live board: (when, donation count, which subscription). It subscribes again
    when its socket drops or its subscription ends: a read the outage made fail ends
    it with an error."""
    url = base_url.replace("http", "ws") + "/graphql"
    subscription = 0
    while True:
        subscription += 1
        try:
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                await ws.recv()
                payload = {"query": SUBSCRIBE, "variables": {"c": campaign}}
                await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                async for message in ws:
                    parsed = json.loads(message)
                    if parsed["type"] in ("error", "complete"):
                        break
                    data = (parsed.get("payload") or {}).get("data")
                    if data:
                        count = data["campaignProgress"]["donationCount"]
                        seen.append((time.monotonic(), count, subscription))
        except (OSError, websockets.WebSocketException):
            pass
        await asyncio.sleep(0.2)


async def _board_hears_after_failover(donors: Donors, fund, campaign, board) -> None:
    """A donation after the failover reaches a board already subscribed, so through
    NOTIFY: the LISTEN connection followed the multi-host URL to the new primary
    (reconnecting with a back-off of up to 5 s). The donation is retried with its key
    like any client's: the other worker may still hold a connection to the dead primary
    and answer DATABASE_UNAVAILABLE once."""
    deadline = time.monotonic() + 30
    while not board or time.monotonic() - board[-1][0] < 1:  # the board settled
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    _, count, subscription = board[-1]
    async with httpx.AsyncClient(base_url=donors.base_url, timeout=15) as http:
        inp = donation_input(fund, "after-failover", "1.00", campaignId=campaign)
        await asyncio.wait_for(donors.until_acknowledged(http, inp), 30)
    while not any(c == count + 1 and s == subscription for _, c, s in board):
        assert time.monotonic() < deadline, f"the board stopped at {board[-3:]}"
        await asyncio.sleep(0.2)


def _log_about(exc: AssertionError, server) -> str:
    """The server's log where it mentions the request the assertion names (its
    traceback), else its end."""
    log = server.full_output()
    match = re.search(r"'requestId': '([0-9a-f]+)'", str(exc))
    at = log.find(match.group(1)) if match else -1
    if at < 0:
        return log[-6000:]
    lines = [line for line in log[max(0, at - 4000) :].splitlines() if "unavailable in" not in line]
    return "\n".join(lines)[:12000]


async def test_primary_dies_and_the_standby_takes_over():
    pair = ReplicatedPair(debian_bin_dir())
    try:
        pair.start()
        pair.wait_synchronous()
        await _run_drill(pair)
    finally:
        pair.stop()


async def _run_drill(pair: ReplicatedPair) -> None:
    admin_conn = await asyncpg.connect(asyncpg_dsn(pair.primary.url()))
    await admin_conn.execute("CREATE DATABASE jinlin")
    await admin_conn.close()
    await upgrade_async(pair.primary.url("jinlin"))
    await create_users(pair.primary.url("jinlin"), {"admin": ["ADMIN"], "fin": ["FINANCE"]})
    url = pair.multi_host_url("jinlin")
    with ConfiguredServer(url, workers=2, env={}) as server:
        await server.start_ready()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            admin, fin = await login(http, "admin"), await login(http, "fin")
            funds = await open_funds(http, admin, 2, tag="HA")
            d = await gql(http, CAMPAIGN, {"f": funds[0]}, admin)
            campaign = d["data"]["createCampaign"]["campaign"]["id"]
        board: list[tuple[float, int, int]] = []
        watching = asyncio.create_task(_watch(server.base_url, campaign, board))
        donors = Donors(server.base_url, fin, funds, campaign)
        clients = [asyncio.create_task(donors.client(n)) for n in range(CLIENTS)]
        await asyncio.sleep(BEFORE)
        before = len(donors.acknowledged)
        killed_at = time.monotonic()
        pair.primary.kill9()
        await asyncio.sleep(PROMOTE_AFTER)
        await asyncio.to_thread(pair.standby.promote)
        deadline = killed_at + RECOVER_WITHIN
        # Downtime: until the first write sent after the kill is acknowledged (one sent
        # before may still be acknowledged after it, its commit done before).
        while not (after_kill := [ack for sent, ack in donors.acks if sent > killed_at]):
            assert time.monotonic() < deadline, server.output()
            await asyncio.sleep(0.05)
        downtime = min(after_kill) - killed_at
        donors.stop_at = time.monotonic() + AFTER
        try:
            await asyncio.wait_for(asyncio.gather(*clients), AFTER + 30)
        except AssertionError as exc:  # an unexpected answer: the server's log says why
            raise AssertionError(f"{exc}\n--- server log:\n{_log_about(exc, server)}") from None
        assert any(count > 0 for at, count, _ in board if at < killed_at), board[:5]
        try:
            await _board_hears_after_failover(donors, funds[0], campaign, board)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- server log:\n{_log_about(exc, server)}") from None
        watching.cancel()
        assert server.alive()
    print(
        f"\nfailover: {before} donations before the kill, {len(donors.acknowledged)} in all;"
        f" writes resumed {downtime:.2f} s after the primary died"
        f" (promotion after {PROMOTE_AFTER:.1f} s); {donors.failures} attempts retried"
    )
    assert before > 0 and len(donors.acknowledged) > before
    new_primary = pair.standby.url("jinlin")
    conn = await asyncpg.connect(asyncpg_dsn(new_primary))
    try:
        rows = await conn.fetch(
            "SELECT external_ref, count(*) AS n, sum(amount_fen) AS fen FROM donations"
            " GROUP BY external_ref"
        )
    finally:
        await conn.close()
    stored = {r["external_ref"]: (r["n"], r["fen"]) for r in rows}
    assert stored == {ref: (1, amount) for ref, amount in donors.acknowledged.items()}
    verified = verify_journal_cli(new_primary)
    assert verified.returncode == 0, verified.stdout + verified.stderr
