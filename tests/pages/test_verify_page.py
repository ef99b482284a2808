"""/verify/{receipt} in headless Chromium against a real server: the page's own script
(static/verify.js, SubtleCrypto) checks the proof, and fails it once the entry has
been edited behind the ledger's back. Also the disclosure page's daily roots."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

try:
    from playwright.async_api import expect
except ImportError:  # skipped by conftest outside CI when playwright is missing
    expect = None

import resolvers.receipts as receipts
from db.engine import make_engine
from db.types import utcnow
from resolvers.ids import parse_global_id
from tests.pages.test_pages import festival

RECEIPT = """query($id: ID!) { node(id: $id) { ... on Donation {
  receipt { number verifyUrl } journalEntry { id } } } }"""


async def _publish_today(db_url: str, fund_global_id: str, monkeypatch) -> None:
    """As the end-of-day run would, with the clock moved past today's end."""
    monkeypatch.setattr(receipts, "now", lambda: utcnow() + timedelta(days=2))
    engine = make_engine(db_url)
    try:
        tz = ZoneInfo("Asia/Shanghai")
        day = utcnow().astimezone(tz).date()
        await receipts.publish_fund_day(engine, parse_global_id(fund_global_id)[1], day, tz)
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_the_browser_checks_a_receipts_proof(server, api, new_page, db_url, monkeypatch):
    f = await festival(api)
    await f.donate("10.00", donorName="王五")
    gift = await f.donate("123.45", donorName="张三丰")
    await f.donate("20.00", donorName="李四")
    await _publish_today(db_url, f.fund, monkeypatch)
    node = (await api.data(RECEIPT, {"id": gift}, token=f.fin))["node"]

    page = await new_page(390, 844)
    await page.goto(server.base + node["receipt"]["verifyUrl"])
    await expect(page.locator("#result")).to_have_attribute("data-state", "ok")
    await expect(page.locator("#result")).to_contain_text("校验通过")
    await expect(page.locator("#donor")).to_have_text("张*")
    await expect(page.locator("#amount")).to_have_text("123.45")
    await expect(page.locator("#receipt-number")).to_have_text(node["receipt"]["number"])
    await expect(page.locator("#audit-path li")).to_have_count(2)
    body = await page.locator("body").inner_text()
    assert "王五" not in body and "李四" not in body and "王*" not in body

    fund_page = await new_page()
    await fund_page.goto(f"{server.base}/funds/{f.code}")
    root = await page.locator("#day-root").inner_text()
    await expect(fund_page.locator("#roots")).to_contain_text(root)

    # Edit the gift's entry as a superuser would, bypassing the triggers.
    entry = parse_global_id(node["journalEntry"]["id"])[1]
    conn = await asyncpg.connect(db_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(
                "UPDATE postings SET amount_fen = amount_fen * 100 WHERE entry_id = $1", entry
            )
    finally:
        await conn.close()
    await page.reload()
    await expect(page.locator("#result")).to_have_attribute("data-state", "failed")
    await expect(page.locator("#result")).to_contain_text("校验失败")
