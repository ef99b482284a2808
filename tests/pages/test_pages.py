"""The festival live board and the disclosure page, in headless Chromium against a
real server process: live updates, reconnecting, figures equal to the API's."""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import time
from dataclasses import dataclass

import asyncpg

try:
    from playwright.async_api import expect
except ImportError:  # skipped by conftest outside CI when playwright is missing
    expect = None

from db.announce import CAMPAIGN_CHANNEL, JOURNAL_CHANNEL
from resolvers.ids import parse_global_id
from tests.faults.harness import asyncpg_dsn
from tests.pages.conftest import ROOT, Api

_keys = itertools.count()
RECORD = """mutation($i: RecordDonationInput!) { recordDonation(input: $i) {
  donation { id } errors { code message } } }"""
REPORT = """query($code: String!, $from: Date!, $to: Date!) { publicFundReport(code: $code) {
  code name host
  balances { total { amount } cashOnHand { amount } bank { amount } onlineClearing { amount }
             inKind { amount } available { amount } }
  statement(from: $from, to: $to) { opening { amount } donationsOnline { amount }
    donationsOffline { amount } donationsInKind { amount } refunds { amount }
    disbursements { amount } fees { amount } otherCosts { amount } closing { amount } }
  recentDonations(first: 10) { donorName amount { amount } } } }"""
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
SIZES = {"desktop": (1920, 1080), "phone": (390, 844)}


def key(prefix: str = "k") -> str:
    return f"{prefix}-{time.time_ns()}-{next(_keys)}"


@dataclass
class Festival:
    api: Api
    admin: str
    fin: str
    fin2: str
    fund: str
    code: str
    campaign: str

    async def donate(self, amount: str, channel: str = "CASH", **extra) -> str:
        inp = {
            "fundId": self.fund,
            "campaignId": self.campaign,
            "channel": channel,
            "amount": {"amount": amount, "currency": "CNY"},
            "idempotencyKey": key("don"),
            **extra,
        }
        if channel == "ONLINE":
            inp.setdefault("externalRef", key("WX"))
        if channel == "IN_KIND":
            inp.setdefault("description", "大米 10 袋")
        d = await self.api.data(RECORD, {"i": inp}, token=self.fin)
        assert d["recordDonation"]["errors"] == [], d
        return d["recordDonation"]["donation"]["id"]


async def festival(api: Api) -> Festival:
    admin, fin, fin2 = [await api.login(u) for u in ("admin", "fin", "fin2")]
    d = await api.data(
        'mutation{createSubdistrict(input:{name:"建设路街道",district:"中原区"}){subdistrict{id}}}',
        token=admin,
    )
    d = await api.data(
        'mutation($s:ID!){createCommunity(input:{subdistrictId:$s,name:"儿童公园社区",grids:["一网格"]}){community{id}}}',
        {"s": d["createSubdistrict"]["subdistrict"]["id"]},
        token=admin,
    )
    d = await api.data(
        'mutation($c:ID!){openFund(input:{code:"ETGY",name:"儿童公园社区慈善基金",level:COMMUNITY,host:"郑州市慈善总会",communityId:$c}){fund{id code} errors{code}}}',
        {"c": d["createCommunity"]["community"]["id"]},
        token=admin,
    )
    fund = d["openFund"]["fund"]
    d = await api.data(
        'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"2025 儿童公园邻居节",startsAt:"2024-01-01T08:00:00+08:00",goal:{amount:"20000.00",currency:"CNY"}}){campaign{id} errors{code message}}}',
        {"f": fund["id"]},
        token=admin,
    )
    assert d["createCampaign"]["errors"] == [], d
    return Festival(
        api, admin, fin, fin2, fund["id"], fund["code"], d["createCampaign"]["campaign"]["id"]
    )


def plain(text: str) -> str:
    """'¥1,234.50' -> '1234.50': what a person reads, back as the API's Decimal string."""
    return text.replace("¥", "").replace(",", "").strip()


async def open_board(new_page, base: str, campaign: str, size=(1920, 1080)):
    page = await new_page(*size)
    await page.goto(f"{base}/board/{campaign}")
    await expect(page.locator("#live")).to_have_attribute("data-state", "live")
    return page


async def test_board_follows_donations_live(server, api, new_page, screenshots):
    f = await festival(api)
    await f.donate("1234.50", donorName="张三丰")
    await f.donate("500.00", "IN_KIND", donorName="百花超市", description="矿泉水 20 箱")
    page = await open_board(new_page, server.base, f.campaign)
    await expect(page.locator("#campaign-name")).to_have_text("2025 儿童公园邻居节")
    await expect(page.locator("#goal")).to_have_text("¥20,000.00")
    await expect(page.locator("#total")).to_have_text("1,734.50")
    await expect(page.locator("#count")).to_have_text("2")

    await f.donate("88.88", "ONLINE", donorName="李小龙")
    started = time.monotonic()
    await expect(page.locator("#total")).to_have_text("1,823.38", timeout=2000)
    assert time.monotonic() - started < 2
    await expect(page.locator("#online")).to_have_text("88.88")
    await expect(page.locator("#offline")).to_have_text("1,234.50")
    await expect(page.locator("#in-kind")).to_have_text("500.00")
    await expect(page.locator("#count")).to_have_text("3")
    await expect(page.locator("#percent")).to_have_text("9.1%")
    # The newest gift tops the list, its donor masked by the server, never in full.
    await expect(page.locator("#recent li").first).to_contain_text("李*", timeout=2000)
    assert "李小龙" not in await page.content()
    assert "百花**" in await page.locator("#recent").inner_text()
    width = await page.locator("#bar-fill").evaluate("el => parseFloat(el.style.width)")
    assert 9.0 < width < 9.2

    # A few more gifts so the screenshots show a board in full swing.
    for amount, extra in [
        ("2000.00", {"donorName": "浦发银行百花路支行", "channel": "BANK_TRANSFER"}),
        ("66.00", {"anonymous": True, "channel": "ONLINE"}),
        ("520.00", {"donorName": "王芳", "channel": "CHARITY_SALE"}),
        ("3600.00", {"donorName": "郑州爱心物业公司", "channel": "ONLINE"}),
    ]:
        await f.donate(amount, **extra)
    await expect(page.locator("#count")).to_have_text("7", timeout=2000)
    await expect(page.locator("#recent li").first).to_contain_text("郑州**")
    await shoot(page, screenshots, "board", size_name="desktop")
    phone = await open_board(new_page, server.base, f.campaign, SIZES["phone"])
    await expect(phone.locator("#total")).to_have_text("8,009.38")
    await shoot(phone, screenshots, "board", size_name="phone")


async def test_board_reconnects_after_server_restart(server, api, new_page):
    f = await festival(api)
    await f.donate("100.00", donorName="张三丰")
    page = await open_board(new_page, server.base, f.campaign)
    await expect(page.locator("#total")).to_have_text("100.00")

    # While the server is away the browser logs refused connections: expected here.
    # A request cut off by the kill may also end short (ERR_CONTENT_LENGTH_MISMATCH).
    new_page.errors.tolerate = (
        "WebSocket connection to",
        "ERR_CONNECTION_REFUSED",
        "ERR_CONNECTION_RESET",
        "ERR_EMPTY_RESPONSE",
        "ERR_CONTENT_LENGTH_MISMATCH",
    )
    server.kill()
    await expect(page.locator("#live")).to_have_attribute("data-state", "reconnecting")
    await asyncio.to_thread(server.start)
    await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=10000)
    new_page.errors.tolerate = ()

    await f.donate("50.00", "ONLINE", donorName="李四")
    await expect(page.locator("#total")).to_have_text("150.00", timeout=2000)
    await expect(page.locator("#count")).to_have_text("2")


async def test_board_subscribes_again_after_a_failed_read(server, api, new_page):
    """The database away a moment while the socket stays up: the woken subscription's
    read fails and the server ends it. The board says so, subscribes again by itself,
    and follows donations once the database is back."""
    f = await festival(api)
    await f.donate("100.00", donorName="张三丰")
    page = await open_board(new_page, server.base, f.campaign)
    await expect(page.locator("#total")).to_have_text("100.00")

    fund, campaign = parse_global_id(f.fund)[1], parse_global_id(f.campaign)[1]
    conn = await asyncpg.connect(asyncpg_dsn(server.db_url))
    try:
        # The journal heads' table away, and a later head announced: the board's cached
        # progress is stale, so its woken subscription reads, and that read fails.
        await conn.execute("ALTER TABLE ledger_books RENAME TO ledger_books_away")
        await conn.execute(
            "SELECT pg_notify($1, $2), pg_notify($3, $4)",
            JOURNAL_CHANNEL,
            f"{fund}:999999",
            CAMPAIGN_CHANNEL,
            str(campaign),
        )
        await expect(page.locator("#live")).to_have_attribute("data-state", "error")
        await expect(page.locator("#live")).to_have_text("数据暂不可用")
    finally:
        await conn.execute("ALTER TABLE IF EXISTS ledger_books_away RENAME TO ledger_books")
        await conn.close()
    await expect(page.locator("#live")).to_have_attribute("data-state", "live", timeout=20000)
    await f.donate("50.00", "ONLINE", donorName="李四")
    await expect(page.locator("#total")).to_have_text("150.00", timeout=5000)
    await expect(page.locator("#count")).to_have_text("2")


async def test_disclosure_page_equals_the_public_report(server, api, new_page, screenshots):
    f = await festival(api)
    await f.donate("1234.56", donorName="张三丰")
    await f.donate("88.88", "ONLINE", donorName="浦发银行百花路支行")
    await f.donate("300.00", "IN_KIND", donorName="王芳", description="棉被 6 床")
    await f.donate("0.01", anonymous=True)
    refund = await f.donate("20.00", donorName="赵六")
    d = await api.data(
        'mutation($d:ID!,$k:String!){refundDonation(input:{donationId:$d,reason:"捐错了",idempotencyKey:$k}){errors{code message}}}',
        {"d": refund, "k": key("refund")},
        token=f.fin,
    )
    assert d["refundDonation"]["errors"] == [], d
    d = await api.data(
        'mutation($f:ID!,$k:String!){requestDisbursement(input:{fundId:$f,amount:{amount:"456.78",currency:"CNY"},payee:"社区老年食堂",purpose:"重阳节慰问",idempotencyKey:$k}){disbursement{id} errors{code message}}}',
        {"f": f.fund, "k": key("req")},
        token=f.fin,
    )
    assert d["requestDisbursement"]["errors"] == [], d
    d = await api.data(
        "mutation($d:ID!,$k:String!){approveDisbursement(input:{disbursementId:$d,idempotencyKey:$k}){errors{code message}}}",
        {"d": d["requestDisbursement"]["disbursement"]["id"], "k": key("ok")},
        token=f.fin2,
    )
    assert d["approveDisbursement"]["errors"] == [], d

    page = await new_page(*SIZES["desktop"])
    response = await page.goto(f"{server.base}/funds/{f.code}")
    assert response.status == 200
    start = await page.locator("input[name=from]").input_value()
    end = await page.locator("input[name=to]").input_value()
    # The default period is the current quarter, in the fund's time zone.
    assert re.fullmatch(r"\d{4}-(01|04|07|10)-01", start), start
    report = (await api.data(REPORT, {"code": f.code, "from": start, "to": end}))[
        "publicFundReport"
    ]

    await expect(page.locator("#fund-name")).to_have_text(report["name"])
    await expect(page.locator("#fund-host")).to_have_text(report["host"])
    shown = {
        await el.get_attribute("data-figure"): plain(await el.inner_text())
        for el in await page.locator("[data-figure]").all()
    }
    expected = {f"balances.{k}": v["amount"] for k, v in report["balances"].items()}
    expected |= {f"statement.{k}": v["amount"] for k, v in report["statement"].items()}
    assert shown == expected
    assert expected["statement.disbursements"] == "456.78"
    assert expected["statement.refunds"] == "20.00"
    donors = await page.locator(
        "table.donations:not(.roots) tbody tr td:first-child"
    ).all_inner_texts()
    assert donors == [d["donorName"] for d in report["recentDonations"]]
    assert "张*" in donors and "张三丰" not in await page.content()
    # The chart draws one bar per income channel and spending purpose.
    bars = await page.locator("svg.chart rect").evaluate_all(
        "els => els.map(e => parseFloat(e.getAttribute('width')))"
    )
    assert len(bars) == 7 and max(bars) == 48 and bars[4] == 0  # no fees: no bar
    await shoot(page, screenshots, "funds", size_name="desktop")
    phone = await new_page(*SIZES["phone"])
    await phone.goto(f"{server.base}/funds/{f.code}")
    await shoot(phone, screenshots, "funds", size_name="phone")

    # A chosen period, and the pages' refusals.
    other = await page.goto(f"{server.base}/funds/{f.code}?from=2020-01-01&to=2020-03-31")
    assert other.status == 200
    await expect(page.locator("[data-figure='statement.closing']")).to_have_text("0.00")
    new_page.errors.tolerate = ("status of 404",)  # the browser logs the 404s asked for below
    missing = await page.goto(f"{server.base}/funds/NOSUCHFUND")
    assert missing.status == 404
    await expect(page.locator("main")).to_contain_text("没有找到")
    assert (await page.goto(f"{server.base}/board/not-an-id")).status == 404


async def shoot(page, folder, name: str, *, size_name: str) -> None:
    path = folder / f"{name}-{size_name}.png"
    # animations="disabled" fast-forwards the highlights and the bar's transition.
    await page.screenshot(path=str(path), full_page=size_name == "phone", animations="disabled")
    # docs/screenshots is filled once, for the README; later runs leave it alone.
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if not (DOCS_SCREENSHOTS / path.name).exists():
        shutil.copy(path, DOCS_SCREENSHOTS / path.name)


async def test_board_lists_only_its_campaigns_donations_masked(server, api, new_page):
    f = await festival(api)
    d = await api.data(
        'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"重阳敬老",startsAt:"2024-01-01T08:00:00+08:00"}){campaign{id} errors{code}}}',
        {"f": f.fund},
        token=f.admin,
    )
    other = Festival(**{**f.__dict__, "campaign": d["createCampaign"]["campaign"]["id"]})
    await f.donate("100.00", donorName="张三丰")
    await other.donate("999.00", donorName="王二小")
    await f.donate("20.00", "ONLINE", donorName="浦发银行百花路支行")
    page = await open_board(new_page, server.base, f.campaign)
    shown = await page.locator("#recent li .who").all_inner_texts()
    assert shown == ["浦发**", "张*"]
    # Masked exactly as the public report masks the same gifts (which lists the whole fund).
    public = await api.data(
        "query($c:String!){publicFundReport(code:$c){recentDonations{donorName amount{amount}}}}",
        {"c": f.code},
    )
    masked = {
        d["amount"]["amount"]: d["donorName"] for d in public["publicFundReport"]["recentDonations"]
    }
    assert masked == {"20.00": "浦发**", "999.00": "王*", "100.00": "张*"}

    # A gift to the other campaign does not reach this board; one to this campaign does.
    await other.donate("5.00", donorName="李四")
    await f.donate("66.00", "CHARITY_SALE", donorName="赵六")
    await expect(page.locator("#recent li .who")).to_have_text(
        ["赵*", "浦发**", "张*"], timeout=2000
    )
    assert "999" not in await page.locator("#recent").inner_text()
