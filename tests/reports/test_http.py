"""Where reports are fetched: /exports/… with a bearer token or a signed link from the
fundReport query, and the public disclosure (fundDisclosure and disclosure.xlsx)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from openpyxl import load_workbook

from reports.disclosure import quarter_of
from reports.links import LinkFile, sign_link
from resolvers.ids import to_global_id
from tests.api.client import new_key
from tests.reports.conftest import TZ, build_book

REPORT = """query($f: ID!, $k: ReportKind!, $from: Date!, $to: Date!, $fmt: ReportFormat) {
  fundReport(fundId: $f, kind: $k, from: $from, to: $to, format: $fmt) { url expiresAt } }"""
MARCH = {"from": "2025-03-01", "to": "2025-03-31"}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _book_and_finance(api):
    book = await build_book(api.state.engine)
    fin = await api.user("fin", "FINANCE")
    return book, fin, to_global_id("Fund", book.fund.id)


async def test_a_signed_link_downloads_without_a_header(api):
    book, fin, fund = await _book_and_finance(api)
    variables = {"f": fund, "k": "BALANCE_SHEET", **MARCH}
    link = (await api.data(REPORT, variables, token=fin))["fundReport"]
    expires = datetime.fromisoformat(link["expiresAt"])
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(minutes=5)
    assert link["url"].startswith(f"/exports/{book.fund.code}/balance-sheet.pdf?")
    r = await api.http.get(link["url"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and "no-store" in r.headers["cache-control"]

    # The token names one file: another report, period or format is refused.
    for changed in (
        link["url"].replace("balance-sheet", "journal"),
        link["url"].replace("2025-03-31", "2025-04-30"),
        link["url"].replace(".pdf?", ".xlsx?"),
        link["url"].replace("lang=zh", "lang=en"),
    ):
        assert (await api.http.get(changed)).status_code == 401, changed
    # A link is no bearer token, and a bearer token is no link.
    token = link["url"].rpartition("token=")[2]
    viewer = await api.execute("{ viewer { username } }", token=token)
    assert viewer["data"]["viewer"] is None
    forged = link["url"].replace(token, fin)
    assert (await api.http.get(forged)).status_code == 401


async def test_an_expired_link_is_refused(api):
    book, fin, fund = await _book_and_finance(api)
    link = (await api.data(REPORT, {"f": fund, "k": "JOURNAL", **MARCH}, token=fin))["fundReport"]
    assert (await api.http.get(link["url"])).status_code == 200
    file = LinkFile(book.fund.code, "journal", "pdf", date(2025, 3, 1), date(2025, 3, 31), "zh")
    old = sign_link(file, 1, 0, api.state.keys.secret, now=datetime.now(UTC) - timedelta(hours=1))
    assert (await api.http.get(old.url)).status_code == 401


async def test_fund_report_refusals(world):
    api, fin, staff = world.api, world.fin, world.staff
    book = await build_book(api.state.engine)
    fund = to_global_id("Fund", book.fund.id)
    variables = {"f": fund, "k": "CASH_FLOW", **MARCH}
    body = await api.execute(REPORT, variables)
    assert body["data"]["fundReport"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await api.execute(REPORT, variables, token=staff)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api.execute(REPORT, {**variables, "from": "2025-04-01"}, token=fin)
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": ["to"]}
    body = await api.execute(REPORT, {**variables, "f": to_global_id("Campaign", 1)}, token=fin)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    missing = to_global_id("Fund", book.fund.id + 1000)
    body = await api.execute(REPORT, {**variables, "f": missing}, token=fin)
    assert body["data"]["fundReport"] is None and "errors" not in body


async def test_statements_over_http_with_a_bearer_token(api):
    book, fin, _ = await _book_and_finance(api)
    base = f"/exports/{book.fund.code.lower()}"
    query = "?from=2025-03-01&to=2025-03-31&lang=zh"
    r = await api.http.get(f"{base}/activities.csv{query}", headers=_auth(fin))
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["项目", "非限定性", "限定性", "合计"]
    assert dict((row[0], row[3]) for row in rows[1:])["四、净资产变动额"] == "68.44"
    r = await api.http.get(f"{base}/cash-flow.xlsx{query}", headers=_auth(fin))
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet["A1"].value == "现金流量表" and sheet.freeze_panes == "A5"
    assert (await api.http.get(f"{base}/cash-flow.pdf{query}")).status_code == 401
    r = await api.http.get(f"{base}/income.pdf{query}", headers=_auth(fin))
    assert r.status_code == 404
    r = await api.http.get(f"{base}/journal.pdf?from=2025-03-31&to=2025-03-01", headers=_auth(fin))
    assert r.status_code == 400


# ---------------------------------------------------------------- public disclosure

DISCLOSURE = """query($c: String!, $from: Date, $to: Date) {
  fundDisclosure(code: $c, from: $from, to: $to) { from to
    lines { project campaignId income { amount } spending { amount } balance { amount } }
    income { amount } spending { amount } balance { amount } } }"""
STATEMENT = """query($c: String!, $from: Date!, $to: Date!) { publicFundReport(code: $c) {
  statement(from: $from, to: $to) { opening { amount } closing { amount } } } }"""


async def _mutate(api, name: str, inp: dict, token: str, returns: str = "") -> dict:
    decides = ("approveDisbursement", "payDisbursement")
    kind = "DecideDisbursement" if name in decides else name[0].upper() + name[1:]
    q = f"mutation($i: {kind}Input!) {{ {name}(input: $i) {{ {returns} errors {{ code message }} }} }}"
    d = (await api.data(q, {"i": inp}, token=token))[name]
    assert d["errors"] == [], d
    return d


async def test_disclosure_by_campaign_equals_the_statement(world):
    api, fin = world.api, world.fin
    d = await api.data(
        'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"重阳敬老",startsAt:"2026-01-01T08:00:00+08:00"}){campaign{id}}}',
        {"f": world.fund},
        token=world.admin,
    )
    second = d["createCampaign"]["campaign"]["id"]
    await world.donate("CASH", "300.00", campaignId=world.campaign)
    gift = await world.donate("BANK_TRANSFER", "500.00", campaignId=world.campaign)
    await world.donate("ONLINE", "120.00", campaignId=second)
    await world.donate("BANK_TRANSFER", "1000.00")
    refund = {
        "donationId": gift["donation"]["id"],
        "reason": "重复转账",
        "idempotencyKey": new_key(),
    }
    await _mutate(api, "refundDonation", refund, fin)
    request = {
        "fundId": world.fund,
        "amount": {"amount": "200.00", "currency": "CNY"},
        "payee": "社区老年食堂",
        "purpose": "助餐",
        "idempotencyKey": new_key(),
    }
    d = await _mutate(api, "requestDisbursement", request, fin, "disbursement { id }")
    decide = {"disbursementId": d["disbursement"]["id"]}
    for step in ("approveDisbursement", "payDisbursement"):
        await _mutate(api, step, {**decide, "idempotencyKey": new_key()}, world.fin2)

    got = (await api.data(DISCLOSURE, {"c": "etgy"}))["fundDisclosure"]  # anonymous
    start, end = quarter_of(datetime.now(TZ).date())
    assert (got["from"], got["to"]) == (start.isoformat(), end.isoformat())
    lines = {line["project"]: line for line in got["lines"]}
    assert lines["2023邻居节"]["income"]["amount"] == "300.00"  # 800 less the refund
    assert lines["2023邻居节"]["campaignId"] == world.campaign
    assert lines["重阳敬老"]["income"]["amount"] == "120.00"
    assert lines["未指定活动的捐赠及其他收入"]["income"]["amount"] == "1000.00"
    assert lines["基金统筹支出（项目支出、渠道手续费、其他费用）"]["spending"]["amount"] == "200.00"
    assert (got["income"]["amount"], got["spending"]["amount"]) == ("1420.00", "200.00")
    period = {"from": got["from"], "to": got["to"]}
    s = (await api.data(STATEMENT, {"c": "ETGY", **period}))["publicFundReport"]["statement"]
    change = Decimal(s["closing"]["amount"]) - Decimal(s["opening"]["amount"])
    assert Decimal(got["balance"]["amount"]) == change

    r = await api.http.get("/exports/ETGY/disclosure.xlsx")  # public, like the page
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet["A1"].value == "募捐活动收支公示" and sheet.freeze_panes == "A5"
    rows = {row[0]: row[1:] for row in sheet.iter_rows(min_row=5, values_only=True)}
    assert rows["2023邻居节"] == (300, 0, 300)
    assert rows["合计"] == (1420, 200, 1220)
    assert (await api.http.get("/exports/NOPE/disclosure.xlsx")).status_code == 404
    bad = await api.http.get("/exports/ETGY/disclosure.xlsx?from=2026-13-01&to=2026-12-31")
    assert bad.status_code == 400


async def test_fund_report_on_the_fund_answers_the_same_link(api):
    book, fin, fund = await _book_and_finance(api)
    q = """query($f: ID!, $from: Date!, $to: Date!) { node(id: $f) { ... on Fund {
      report(kind: ACTIVITIES, from: $from, to: $to, format: XLSX) { url } } } }"""
    link = (await api.data(q, {"f": fund, **MARCH}, token=fin))["node"]["report"]
    assert link["url"].startswith(f"/exports/{book.fund.code}/activities.xlsx?")
    r = await api.http.get(link["url"])
    assert r.status_code == 200 and r.content.startswith(b"PK")  # an XLSX (zip) file
