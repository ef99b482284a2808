"""Crash in the middle: kill -9 the server while many clients donate, restart it,
and let the clients retry unanswered requests with the same idempotency key."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

import asyncpg
import httpx
import pytest

from tests.faults.harness import (
    BALANCES,
    DONATE,
    ScratchDatabase,
    Server,
    audit_cli,
    create_users,
    donation_input,
    fen,
    gql_data,
    login,
    open_funds,
    verify_journal_cli,
)

pytestmark = pytest.mark.slow

CLIENTS = 12
PER_CLIENT = 25
FUNDS = 3
KILLS = 3


async def test_kill_9_mid_stream_loses_and_duplicates_nothing(pg_url):
    async with asyncio.timeout(90), ScratchDatabase(pg_url) as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with Server(db.url, workers=2) as server:
            await server.start_ready()
            async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
                admin = await login(http, "admin")
                fin = await login(http, "fin")
                funds = await open_funds(http, admin, FUNDS)

            acked: dict[str, tuple[str, str, str]] = {}  # key -> (donation id, fund, amount)
            retries = 0
            done = asyncio.Event()

            async def client(c: int) -> None:
                nonlocal retries
                rng = random.Random(c)
                async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as http:
                    for i in range(PER_CLIENT):
                        key = f"c{c}-d{i}"
                        fund = funds[rng.randrange(FUNDS)]
                        amount = f"{rng.randint(1, 5000)}.{rng.randint(0, 99):02d}"
                        inp = donation_input(fund, key, amount)
                        while True:  # retry with the same key until answered
                            try:
                                r = await http.post(
                                    "/graphql",
                                    json={"query": DONATE, "variables": {"i": inp}},
                                    headers={"authorization": f"Bearer {fin}"},
                                )
                            except httpx.TransportError:
                                retries += 1
                                await asyncio.sleep(0.05)
                                continue
                            assert r.status_code == 200, r.text
                            body = r.json()
                            assert not body.get("errors"), body
                            payload = body["data"]["recordDonation"]
                            assert payload["errors"] == [], payload
                            donation = payload["donation"]
                            assert donation["amount"]["amount"] == amount
                            acked[key] = (donation["id"], fund, amount)
                            break

            async def killer() -> None:
                rng = random.Random(99)
                for _ in range(KILLS):
                    await asyncio.sleep(rng.uniform(0.4, 1.0))
                    if done.is_set():
                        return
                    server.kill9()
                    await asyncio.sleep(rng.uniform(0.0, 0.3))  # clients meet a dead port
                    await server.start_ready()

            async def clients() -> None:
                await asyncio.gather(*(client(c) for c in range(CLIENTS)))
                done.set()

            kills = asyncio.create_task(killer())
            await clients()
            await kills
            assert server.alive()
            assert retries > 0, "no request was cut off: the kills came too late"

            # A replay of acknowledged requests answers the same donation.
            async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
                for key in list(acked)[:: len(acked) // 10]:
                    donation_id, fund, amount = acked[key]
                    d = await gql_data(http, DONATE, {"i": donation_input(fund, key, amount)}, fin)
                    assert d["recordDonation"]["donation"]["id"] == donation_id

                told: dict[str, int] = defaultdict(int)
                for _id, fund, amount in acked.values():
                    told[fund] += fen(amount)
                for fund in funds:
                    node = (await gql_data(http, BALANCES, {"f": fund}, fin))["node"]
                    assert node["trialBalance"]["balanced"], node
                    assert fen(node["balances"]["total"]["amount"]) == told[fund], node
                    assert fen(node["balances"]["onlineClearing"]["amount"]) == told[fund]

        assert len(acked) == CLIENTS * PER_CLIENT
        assert len({v[0] for v in acked.values()}) == len(acked), "two keys, one donation"
        conn = await asyncpg.connect(db.dsn)
        try:
            rows = await conn.fetch(
                "SELECT external_ref, count(*) AS n, sum(amount_fen) AS fen FROM donations"
                " GROUP BY external_ref"
            )
            entries = await conn.fetchval(
                "SELECT count(*) FROM journal_entries WHERE kind = 'donation'"
            )
        finally:
            await conn.close()
        stored = {r["external_ref"]: r for r in rows}
        assert {r["n"] for r in rows} == {1}, "a donation was stored twice"
        assert set(stored) == {f"ref-{key}" for key in acked}
        for key, (_id, _fund, amount) in acked.items():
            assert stored[f"ref-{key}"]["fen"] == fen(amount)
        assert entries == len(acked)
        verified = verify_journal_cli(db.url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # The records beside the journal agree with it too (jinlin audit).
        audited = audit_cli(db.url)
        assert audited.returncode == 0, audited.stdout + audited.stderr
