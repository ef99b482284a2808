"""Public reads cached per worker, invalidated across workers by the ledger write's NOTIFY.

Every request comes on a new connection, so the kernel spreads them over both workers:
after warming, both hold the page and the report in their caches; a donation taken by
either must show on every later answer, whichever worker gives it.
"""

from __future__ import annotations

from decimal import Decimal

import httpx

from pages import yuan
from tests.faults.harness import (
    ScratchDatabase,
    Server,
    create_users,
    donation_input,
    login,
    open_funds,
)

REPORT = '{publicFundReport(code:"PUB000"){balances{total{amount}}}}'
DONATE = "mutation($i:RecordDonationInput!){recordDonation(input:$i){errors{code message}}}"
ASKS, ROUNDS = 12, 3


async def _fresh(server: Server, method: str, path: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=10, headers={"connection": "close"}
    ) as http:
        return await http.request(method, path, **kwargs)


async def _answers(server: Server) -> tuple[set[str], set[str], set[str]]:
    """The report's totals, the page's ETags and bodies over ASKS new connections."""
    totals, tags, bodies = set(), set(), set()
    for _ in range(ASKS):
        r = await _fresh(server, "POST", "/graphql", json={"query": REPORT})
        totals.add(r.json()["data"]["publicFundReport"]["balances"]["total"]["amount"])
        page = await _fresh(server, "GET", "/funds/PUB000")
        assert page.status_code == 200
        tags.add(page.headers["etag"])
        bodies.add(page.text)
    return totals, tags, bodies


async def test_a_donation_on_one_worker_shows_on_every_worker_right_after(pg_url):
    async with ScratchDatabase(pg_url, prefix="jinlin_pubreads") as db:
        await create_users(db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"]})
        with Server(db.url, workers=2) as server:
            await server.start_ready()
            async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
                admin, fin = await login(http, "admin"), await login(http, "fin")
                (fund,) = await open_funds(http, admin, 1, tag="PUB")
            totals, tags, _ = await _answers(server)  # both workers now hold them
            assert totals == {"0.00"} and len(tags) == 1, (totals, tags)
            total = Decimal(0)
            for i in range(ROUNDS):
                r = await _fresh(
                    server,
                    "POST",
                    "/graphql",
                    json={
                        "query": DONATE,
                        "variables": {"i": donation_input(fund, f"p{i}", "123.45")},
                    },
                    headers={"authorization": f"Bearer {fin}"},
                )
                assert r.json()["data"]["recordDonation"]["errors"] == []
                total += Decimal("123.45")
                # No wait: the next answers, from either worker, already hold it.
                totals, new_tags, bodies = await _answers(server)
                assert totals == {f"{total:.2f}"}, totals
                assert all(yuan(total) in body for body in bodies)
                # Both workers render the same page, under one tag, a new one.
                assert len(new_tags) == 1 and new_tags != tags, (tags, new_tags)
                tags = new_tags
            (tag,) = tags
            again = await _fresh(server, "GET", "/funds/PUB000", headers={"if-none-match": tag})
            assert again.status_code == 304 and again.content == b""
