"""The demo's festival running now, as `make run` loads it: its board takes a donation at
once (docs/walkthrough.md section 6, run here as written), its partners have several
contributions each, and at 1920×1080, 1366×768 and 390×844 no figure is cut off."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

try:
    from playwright.async_api import expect
except ImportError:  # skipped by conftest outside CI when playwright is missing
    expect = None

from db.engine import make_engine
from db.models import ContributionRow, PartnerRow
from db.uow import read_session
from demo import LIVE_GOAL, running_campaigns, seed_demo
from resolvers.ids import to_global_id
from tests.pages.conftest import ROOT, Api, Server
from tests.pages.test_pages import plain

WALKTHROUGH = ROOT / "docs" / "walkthrough.md"
SIZES = {"desktop": (1920, 1080), "laptop": (1366, 768), "phone": (390, 844)}


def section(title: str) -> str:
    text = WALKTHROUGH.read_text()
    return text[text.index(title) :]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


@pytest.fixture
async def demo(db_url, tmp_path):
    engine = make_engine(db_url)
    try:
        report = await seed_demo(engine)
        running = await running_campaigns(engine, datetime.now(UTC))
        async with read_session(engine) as session:
            counts = dict(
                (
                    await session.execute(
                        select(PartnerRow.name, func.count(ContributionRow.id))
                        .outerjoin(ContributionRow, ContributionRow.partner_id == PartnerRow.id)
                        .group_by(PartnerRow.name)
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    passwords = dict(re.findall(r"^  (\w+)\s+(\S+)$", report, re.M))
    srv = Server(db_url, tmp_path / "server.log")
    srv.start()
    yield srv, report, running, counts, passwords
    srv.stop()


async def test_the_demo_has_a_festival_running_now(demo, db_url):
    server, report, running, counts, _ = demo
    assert len(running) == 1 and running[0].goal_fen == int(LIVE_GOAL.replace(".", ""))
    board = f"/board/{to_global_id('Campaign', running[0].id)}"
    assert board in report
    assert len(counts) == 7 and min(counts.values()) >= 3, counts
    printed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "scripts/demo_address.py", server.base],
        cwd=ROOT,
        env={"JINLIN_DATABASE_URL": db_url, "JINLIN_SECRET_KEY": "s" * 40, "PATH": ""},
        capture_output=True,
        text=True,
    )
    assert printed.returncode == 0, printed.stderr
    assert f"live board:  {server.base}{board}" in printed.stdout


async def test_walkthrough_donation_moves_the_board(demo, new_page, screenshots):
    server, _, running, _, passwords = demo
    doc = section("## 6. Watch the live board move")
    find, record = blocks(doc, "graphql")
    (variables,) = blocks(doc, "json")
    api = Api(server.base)
    try:
        token = (
            await api.data(
                "mutation($u:String!,$p:String!){login(input:{username:$u,password:$p}){token}}",
                {"u": "finance", "p": passwords["finance"]},
            )
        )["login"]["token"]
        fund = (await api.data(find, token=token))["fundByCode"]
        (festival,) = [e["node"] for e in fund["campaigns"]["edges"]]
        assert festival["id"] == to_global_id("Campaign", running[0].id)
        pages = {}
        for name, size in SIZES.items():
            pages[name] = page = await new_page(*size)
            await page.goto(f"{server.base}/board/{festival['id']}")
            await expect(page.locator("#live")).to_have_attribute("data-state", "live")
            await expect(page.locator("#total")).to_have_text("20,943.38")
            await expect(page.locator("#count")).to_have_text("18")
            await expect(page.locator("#percent")).to_have_text("69.8%")
        offline_before = plain(await pages["desktop"].locator("#offline").inner_text())

        inp = json.loads(variables)["i"] | {"fundId": fund["id"], "campaignId": festival["id"]}
        done = await api.data(record, {"i": inp}, token=token)
        assert done["recordDonation"]["errors"] == [], done
        for name, page in pages.items():
            await expect(page.locator("#total")).to_have_text("21,443.38", timeout=2000)
            await expect(page.locator("#count")).to_have_text("19")
            await expect(page.locator("#percent")).to_have_text("71.5%")
            top = page.locator("#recent li").first
            await expect(top).to_contain_text("刘*", timeout=2000)
            await expect(top).to_contain_text("现金")
            await expect(top).to_contain_text("¥500.00")
            assert "刘德华" not in await page.content()
            await assert_nothing_cut_off(page)
            await page.screenshot(
                path=str(screenshots / f"board-demo-{name}.png"),
                full_page=name == "phone",
                animations="disabled",
            )
        offline_after = plain(await pages["desktop"].locator("#offline").inner_text())
        assert Decimal(offline_after) - Decimal(offline_before) == Decimal("500.00")
        for figure in ("20,943.38", "21,443.38", "18 gifts", "19 gifts", "69.8%", "71.5%"):
            assert figure in doc
    finally:
        await api.http.aclose()


async def assert_nothing_cut_off(page) -> None:
    """Every figure's text fits its box: nothing overflows, so nothing is hidden."""
    overflowing = await page.locator("[data-fit], .tile .label, #recent li > span").evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1)"
        ".map(e => e.textContent + ' ' + e.scrollWidth + '>' + e.clientWidth)"
    )
    assert overflowing == []
    # and every tile's box stays inside the tile
    spill = await page.locator(".tile").evaluate_all(
        "els => els.filter(t => t.querySelector('.num').getBoundingClientRect().right >"
        " t.getBoundingClientRect().right + 1).length"
    )
    assert spill == 0
