"""Receipts and daily roots through the API and HTTP: numbering without gaps, who may
download the PDF, publishing, and the public proof (PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import re

from resolvers.cli_receipts import check_proof
from tests.receipts.conftest import publish, receipt_of, today

NUMBER = re.compile(r"^(ETGY|BH)-(\d{4})-(\d{6})$")


async def test_numbers_run_per_fund_without_gaps(world):
    first = [(await world.donate())["donation"]["id"] for _ in range(2)]
    other = (await world.donate(fund=world.other_fund))["donation"]["id"]
    racing = await asyncio.gather(*(world.donate(amount=f"{i + 1}.00") for i in range(12)))
    ids = first + [r["donation"]["id"] for r in racing]
    numbers = [(await receipt_of(world.api, i, world.fin))["number"] for i in ids]
    parsed = [NUMBER.match(n).groups() for n in numbers]
    assert {p[0] for p in parsed} == {"ETGY"}
    assert sorted(int(p[2]) for p in parsed) == list(range(1, len(ids) + 1))
    assert NUMBER.match((await receipt_of(world.api, other, world.fin))["number"])[3] == "000001"


async def test_the_pdf_link_is_for_the_donor_finance_and_the_giving_partner(world):
    own = (await world.donate(partnerId=world.partner_id))["donation"]["id"]
    plain = (await world.donate())["donation"]["id"]
    by_fin = await receipt_of(world.api, own, world.fin)
    assert by_fin["url"].startswith(f"/receipts/{by_fin['number']}.pdf?key=")
    assert (await receipt_of(world.api, own, world.partner))["url"] == by_fin["url"]
    assert (await receipt_of(world.api, own, world.staff))["url"] is None
    assert by_fin["verifyUrl"] == f"/verify/{by_fin['number']}"
    http = world.api.http
    pdf = await http.get(by_fin["url"])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    bare = f"/receipts/{by_fin['number']}.pdf"
    assert (await http.get(bare + "?key=" + "0" * 64)).status_code == 404
    assert (await http.get(bare)).status_code == 404

    def bearer(token):
        return {"Authorization": f"Bearer {token}"}

    assert (await http.get(bare, headers=bearer(world.fin))).status_code == 200
    assert (await http.get(bare, headers=bearer(world.partner))).status_code == 200
    assert (await http.get(bare, headers=bearer(world.staff))).status_code == 404
    plain_number = (await receipt_of(world.api, plain, world.fin))["number"]
    other_bare = f"/receipts/{plain_number}.pdf"
    assert (await http.get(other_bare, headers=bearer(world.partner))).status_code == 404
    # One receipt's secret opens no other receipt.
    key = by_fin["url"].split("key=")[1]
    assert (await http.get(f"{other_bare}?key={key}")).status_code == 404


async def test_publishing_is_for_finance_and_only_for_days_that_ended(world):
    await world.donate()
    d = await publish(world.api, world.fund, today(world.api), world.fin)
    assert d["root"] is None
    assert d["errors"][0]["code"] == "INVALID_INPUT"
    assert d["errors"][0]["field"] == ["input", "day"]
    body = await world.api.execute(
        """mutation($f: ID!, $d: Date!) { publishDailyRoots(input: {fundId: $f, day: $d}) {
        root { day } errors { code } } }""",
        {"f": world.fund, "d": "2020-01-01"},
        token=world.staff,
    )
    assert body["data"]["publishDailyRoots"]["errors"][0]["code"] == "FORBIDDEN"


async def test_a_published_day_holds_its_entries_and_never_changes(world, tomorrow):
    gifts = [(await world.donate(amount=f"{i}.00"))["donation"]["id"] for i in (5, 6, 7)]
    day = today(world.api)
    first = await publish(world.api, world.fund, day, world.fin)
    assert first["errors"] == []
    root = first["root"]
    assert root["day"] == day and root["treeSize"] == 3 and root["firstSequence"] == 1
    await world.donate(amount="8.00")  # after publishing: the next day's run
    again = await publish(world.api, world.fund, day, world.fin2)
    assert again["root"] == root
    report = await world.api.data(
        'query { publicFundReport(code: "ETGY") { roots { day treeSize root } } }'
    )
    assert report["publicFundReport"]["roots"][0] == {
        "day": day,
        "treeSize": 3,
        "root": root["root"],
    }
    page = await world.api.http.get("/funds/ETGY")
    assert root["root"] in page.text
    number = (await receipt_of(world.api, gifts[1], world.fin))["number"]
    doc = (await world.api.http.get(f"/verify/{number}.json")).json()
    assert doc["proof"]["root"] == root["root"] and doc["proof"]["leafIndex"] == 1
    assert check_proof(doc) == []
    html = (await world.api.http.get(f"/verify/{number}")).text
    assert doc["entry"]["hash"] in html and root["root"] in html
    assert "/static/verify.js" in html and "<script>" not in html


async def test_a_proof_shows_nothing_of_other_gifts(world, tomorrow):
    mine = (await world.donate(amount="123.45", donorName="李四光"))["donation"]["id"]
    await world.donate(amount="98765.43", donorName="王五福")
    await world.donate(amount="4444.44", partnerId=world.partner_id)
    await publish(world.api, world.fund, today(world.api), world.fin)
    number = (await receipt_of(world.api, mine, world.fin))["number"]
    doc = (await world.api.http.get(f"/verify/{number}.json")).json()
    text = json.dumps(doc, ensure_ascii=False)
    assert doc["donor"] == "李*" and doc["amount"] == "123.45" and "李四光" not in text
    for secret in ("王五福", "98765", "4444", "浦发", "王*"):
        assert secret not in text
    html = (await world.api.http.get(f"/verify/{number}")).text
    for secret in ("王五福", "98765", "4444", "李四光"):
        assert secret not in html
    assert check_proof(doc) == []


async def test_before_publishing_the_proof_is_pending(world):
    gift = (await world.donate())["donation"]["id"]
    number = (await receipt_of(world.api, gift, world.fin))["number"]
    doc = (await world.api.http.get(f"/verify/{number}.json")).json()
    assert doc["proof"] is None and check_proof(doc) != []
    assert (await world.api.http.get("/verify/NOPE-2026-000001")).status_code == 404
    assert (await world.api.http.get("/verify/NOPE-2026-000001.json")).status_code == 404
