"""Two workers: a storm of donations and disbursements (request, approve, pay, and
racing duplicates) across `--workers 2` keeps every ledger invariant, straight to
PostgreSQL and through PgBouncer in transaction mode (the `route` fixture)."""

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
    audit_cli,
    create_users,
    donation_input,
    fen,
    gql,
    gql_data,
    login,
    open_funds,
    verify_journal_cli,
)

pytestmark = pytest.mark.slow

FUNDS = 3
SEED = "1000.00"
DONORS, DONATIONS_EACH = 6, 25
SPENDERS, CYCLES = 4, 10

REQUEST = (
    "mutation($i:RequestDisbursementInput!){requestDisbursement(input:$i){"
    "disbursement{id status} errors{code message}}}"
)
DECIDE = "mutation($i:DecideDisbursementInput!){%s(input:$i){disbursement{id status} errors{code message}}}"


async def test_storm_across_two_workers_keeps_invariants(pg_url, route):
    async with asyncio.timeout(180), ScratchDatabase(pg_url) as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin1": ["FINANCE"], "fin2": ["FINANCE"]})
        with route.server(db, workers=2) as server:
            await server.start_ready()
            assert len(server.worker_processes()) == 2
            limits = httpx.Limits(max_keepalive_connections=0)  # spread over both workers
            async with httpx.AsyncClient(
                base_url=server.base_url, timeout=30, limits=limits
            ) as http:
                admin = await login(http, "admin")
                fin1 = await login(http, "fin1")
                fin2 = await login(http, "fin2")
                funds = await open_funds(http, admin, FUNDS)
                received: dict[str, int] = defaultdict(int)
                paid: dict[str, int] = defaultdict(int)
                outcomes: dict[str, int] = defaultdict(int)
                for fund in funds:
                    inp = donation_input(fund, f"seed-{fund}", SEED, "BANK_TRANSFER")
                    assert (await gql_data(http, DONATE, {"i": inp}, fin1))["recordDonation"][
                        "donation"
                    ]
                    received[fund] += fen(SEED)

                async def donor(c: int) -> None:
                    rng = random.Random(c)
                    for i in range(DONATIONS_EACH):
                        fund = funds[rng.randrange(FUNDS)]
                        amount = f"{rng.randint(1, 50)}.{rng.randint(0, 99):02d}"
                        inp = donation_input(fund, f"don-{c}-{i}", amount, "BANK_TRANSFER")
                        d = await gql_data(http, DONATE, {"i": inp}, fin1)
                        assert d["recordDonation"]["errors"] == [], d
                        received[fund] += fen(amount)

                async def decide(op: str, key: str, disbursement: str, token: str) -> dict:
                    inp = {"disbursementId": disbursement, "idempotencyKey": key, "note": op}
                    return (await gql_data(http, DECIDE % op, {"i": inp}, token))[op]

                async def spender(c: int) -> None:
                    rng = random.Random(100 + c)
                    for i in range(CYCLES):
                        fund = funds[rng.randrange(FUNDS)]
                        amount = f"{rng.randint(100, 400)}.00"
                        inp = {
                            "fundId": fund,
                            "amount": {"amount": amount, "currency": "CNY"},
                            "payee": "社区食堂",
                            "purpose": "老人午餐",
                            "idempotencyKey": f"req-{c}-{i}",
                        }
                        d = await gql_data(http, REQUEST, {"i": inp}, fin1)
                        disbursement = d["requestDisbursement"]["disbursement"]["id"]
                        # Two approvals race with different keys: at most one may succeed.
                        a, b = await asyncio.gather(
                            decide("approveDisbursement", f"ap-{c}-{i}", disbursement, fin2),
                            decide("approveDisbursement", f"ap2-{c}-{i}", disbursement, fin2),
                        )
                        won = [x for x in (a, b) if not x["errors"]]
                        codes = {e["code"] for x in (a, b) for e in x["errors"]}
                        assert len(won) <= 1, (a, b)
                        assert codes <= {"INSUFFICIENT_FUNDS", "INVALID_STATE"}, (a, b)
                        if not won:
                            assert codes == {"INSUFFICIENT_FUNDS"}, (a, b)
                            outcomes["refused"] += 1
                            continue
                        # Two payments race, plus a retry of the first with its own key.
                        p1, p2 = await asyncio.gather(
                            decide("payDisbursement", f"pay-{c}-{i}", disbursement, fin1),
                            decide("payDisbursement", f"pay2-{c}-{i}", disbursement, fin2),
                        )
                        retry = await decide("payDisbursement", f"pay-{c}-{i}", disbursement, fin1)
                        won = [x for x in (p1, p2) if not x["errors"]]
                        assert len(won) == 1, (p1, p2)
                        assert {e["code"] for x in (p1, p2) for e in x["errors"]} == {
                            "INVALID_STATE"
                        }
                        if not p1["errors"]:
                            assert retry == p1
                        assert won[0]["disbursement"]["status"] == "PAID"
                        paid[fund] += fen(amount)
                        outcomes["paid"] += 1

                await asyncio.gather(
                    *(donor(c) for c in range(DONORS)), *(spender(c) for c in range(SPENDERS))
                )
                assert outcomes["paid"] > 0 and outcomes["refused"] > 0, outcomes

                for fund in funds:
                    node = (await gql_data(http, BALANCES, {"f": fund}, fin1))["node"]
                    b = {k: fen(v["amount"]) for k, v in node["balances"].items()}
                    assert min(b["bank"], b["cashOnHand"], b["available"]) >= 0, node
                    assert b["bank"] == received[fund] - paid[fund], node
                    assert node["trialBalance"]["balanced"], node
                    check = await gql(
                        http, "query($f:ID!){verifyJournal(fundId:$f){ok}}", {"f": fund}, fin1
                    )
                    assert check["data"]["verifyJournal"]["ok"], check
            assert server.alive()
        route.check(db)

        conn = await asyncpg.connect(db.dsn)
        try:
            donations = await conn.fetchval("SELECT count(*) FROM donations")
            double_paid = await conn.fetchval(
                "SELECT count(*) FROM journal_entries WHERE kind = 'disbursement_payment'"
                " GROUP BY memo HAVING count(*) > 1 LIMIT 1"  # memo: "disbursement <id> paid to ..."
            )
            payments = await conn.fetchval(
                "SELECT count(*) FROM journal_entries WHERE kind = 'disbursement_payment'"
            )
            paid_rows = await conn.fetchval(
                "SELECT count(*) FROM disbursements WHERE status = 'PAID'"
            )
            approvals = await conn.fetchval(
                "SELECT count(*) FROM journal_entries WHERE kind = 'disbursement_approval'"
            )
            approved_rows = await conn.fetchval(
                "SELECT count(*) FROM disbursements WHERE approve_entry_id IS NOT NULL"
            )
        finally:
            await conn.close()
        assert donations == FUNDS + DONORS * DONATIONS_EACH
        assert double_paid is None
        assert payments == paid_rows == outcomes["paid"]
        assert approvals == approved_rows
        verified = verify_journal_cli(db.url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # The records beside the journal agree with it too (jinlin audit).
        audited = audit_cli(db.url)
        assert audited.returncode == 0, audited.stdout + audited.stderr
