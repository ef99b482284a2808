"""Apollo Client 4 (Node) normalises what the API answers and a `campaignUpdated`
subscription refreshes the `Campaign.progress` it holds, so a view that reads only the
cache follows every donation."""

from __future__ import annotations

import asyncio
import json
import os
from decimal import Decimal

from tests.pages.test_pages import festival


async def _line(proc, event: str) -> dict:
    raw = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
    assert raw, (await proc.stderr.read()).decode()[-3000:]
    message = json.loads(raw)
    assert message["event"] == event, message
    return message


async def test_a_subscription_update_refreshes_the_cached_campaign(
    server, api, node, client_libraries
):
    f = await festival(api)
    await f.donate("1234.50", donorName="张三丰")
    await f.donate("500.00", "IN_KIND", donorName="百花超市")
    proc = await asyncio.create_subprocess_exec(
        node,
        str(client_libraries / "apollo_cache.mjs"),
        cwd=client_libraries,
        env={
            **os.environ,
            "API": f"{server.base}/graphql",
            "TOKEN": f.fin,
            "CAMPAIGN": f.campaign,
            "EXPECT_COUNT": "3",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        cached = await _line(proc, "cached")
        # The campaign is one normalised record, and the query's node field points at it.
        assert f"Campaign:{f.campaign}" in cached["keys"]
        assert cached["nodeRef"] == f"Campaign:{f.campaign}"
        assert (cached["total"], cached["count"]) == ("1734.50", 2)
        subscribed = await _line(proc, "subscribed")
        assert subscribed["total"] == "1734.50"

        await f.donate("88.88", "ONLINE", donorName="李小龙")
        updated = await _line(proc, "updated")
        expected = str(Decimal("1734.50") + Decimal("88.88"))
        assert (updated["total"], updated["count"]) == (expected, 3)
        # The cache-only view saw the old total, then the new one, from the subscription alone.
        assert updated["seen"][0] == "1734.50" and updated["seen"][-1] == expected
        assert updated["emissions"] >= 2
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
