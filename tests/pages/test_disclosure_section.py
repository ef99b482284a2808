"""The quarterly disclosure by campaign on /funds/{code}, in headless Chromium against a
real server: the table equals the public fundDisclosure query, no script runs (the
page's CSP would report it), it fits a phone, and its XLSX link downloads the same
figures without signing in."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

try:
    from playwright.async_api import expect
except ImportError:  # skipped by conftest outside CI when playwright is missing
    expect = None

from tests.pages.test_pages import SIZES, festival, key, plain

DISCLOSURE = """query($code: String!, $from: Date, $to: Date) {
  fundDisclosure(code: $code, from: $from, to: $to) { from to
    lines { project income { amount } spending { amount } balance { amount } }
    income { amount } spending { amount } balance { amount } } }"""
PAY = """mutation($d: ID!, $k: String!) { %s(input: {disbursementId: $d, idempotencyKey: $k}) {
  errors { code message } } }"""


async def _spend(f, amount: str) -> None:
    d = await f.api.data(
        'mutation($f:ID!,$a:Decimal!,$k:String!){requestDisbursement(input:{fundId:$f,amount:{amount:$a,currency:"CNY"},payee:"社区老年食堂",purpose:"重阳节慰问",idempotencyKey:$k}){disbursement{id} errors{code}}}',
        {"f": f.fund, "a": amount, "k": key("req")},
        token=f.fin,
    )
    disbursement = d["requestDisbursement"]["disbursement"]["id"]
    for step in ("approveDisbursement", "payDisbursement"):
        d = await f.api.data(PAY % step, {"d": disbursement, "k": key(step)}, token=f.fin2)
        assert d[step]["errors"] == [], d


async def test_disclosure_section_equals_the_public_query(server, api, new_page, screenshots):
    f = await festival(api)
    await f.donate("1234.56", "BANK_TRANSFER", donorName="张三丰")
    await f.donate("88.88", "ONLINE", donorName="浦发银行百花路支行")
    await f.donate("300.00", "IN_KIND", donorName="王芳", description="棉被 6 床")
    await _spend(f, "456.78")

    page = await new_page(*SIZES["desktop"])
    assert (await page.goto(f"{server.base}/funds/{f.code}")).status == 200
    start = await page.locator("input[name=from]").input_value()
    end = await page.locator("input[name=to]").input_value()
    got = (await api.data(DISCLOSURE, {"code": f.code}))["fundDisclosure"]
    assert (got["from"], got["to"]) == (start, end)  # the same default quarter

    section = page.locator("#disclosure")
    await expect(section.locator("h2")).to_contain_text("募捐活动收支公示")
    rows = await section.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.children].map(c => c.innerText))"
    )
    expected = [
        [line["project"], *(line[k]["amount"] for k in ("income", "spending", "balance"))]
        for line in got["lines"]
    ]
    assert [[r[0], *map(plain, r[1:])] for r in rows] == expected
    campaign = next(r for r in expected if r[0] == "2025 儿童公园邻居节")
    assert campaign[1] == "1623.44"  # every gift of the festival, in every channel
    totals = {
        name: plain(await section.locator(f"[data-disclosure={name}]").inner_text())
        for name in ("income", "spending", "balance")
    }
    assert totals == {k: got[k]["amount"] for k in totals}
    assert totals["spending"] == "456.78"

    href = await section.locator("#disclosure-xlsx").get_attribute("href")
    assert href == f"/exports/{f.code}/disclosure.xlsx?from={start}&to={end}"
    r = await api.http.get(href)  # no token: public, like the page
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    by_project = {row[0]: row[1:] for row in sheet.iter_rows(min_row=5, values_only=True)}
    cents = Decimal("0.01")
    assert Decimal(str(by_project["合计"][2])).quantize(cents) == Decimal(totals["balance"])

    phone = await new_page(*SIZES["phone"])
    await phone.goto(f"{server.base}/funds/{f.code}")
    overflow = await phone.locator("#disclosure").evaluate("el => el.scrollWidth - el.clientWidth")
    assert overflow <= 0
    await expect(phone.locator("#disclosure tfoot")).to_contain_text("合计")
    await section.screenshot(
        path=str(screenshots / "disclosure-desktop.png"), animations="disabled"
    )
    await phone.locator("#disclosure").screenshot(path=str(screenshots / "disclosure-phone.png"))
