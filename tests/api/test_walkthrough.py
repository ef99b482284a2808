"""Runs docs/walkthrough.md's festival day and checks the figures it shows."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.api.world import RECORD

DOC = Path(__file__).resolve().parents[2] / "docs" / "walkthrough.md"


async def test_walkthrough_figures_hold(world):
    api, fin, staff = world.api, world.fin, world.staff
    doc = DOC.read_text()
    # The doc shows 2026 dates; the test takes the year up to today so it never ages.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    period = {"from": str(today - timedelta(days=365)), "to": str(today)}
    for figure in (
        "200.00",
        "356.00",
        "56.00",
        "356.50",
        "300.00",
        "0.50",
        "256.00",
        "张*",
        "匿名",
    ):
        assert figure in doc
    c = await api.data(
        'mutation($fund:ID!){createCampaign(input:{fundId:$fund,name:"邻居节 2026",startsAt:"2026-01-01T08:00:00+08:00",goal:{amount:"5000.00",currency:"CNY"}}){campaign{id} errors{code}}}',
        {"fund": world.fund},
        token=fin,
    )
    campaign = c["createCampaign"]["campaign"]["id"]
    online = await api.data(
        RECORD,
        {
            "i": {
                "fundId": world.fund,
                "campaignId": campaign,
                "channel": "ONLINE",
                "amount": {"amount": "200.00", "currency": "CNY"},
                "donorName": "张三丰",
                "externalRef": "WX202606100001",
                "idempotencyKey": "wx-0001",
            }
        },
        token=fin,
    )
    assert online["recordDonation"]["donation"]["status"] == "RECEIVED"
    box = await api.data(
        RECORD,
        {
            "i": {
                "fundId": world.fund,
                "campaignId": campaign,
                "channel": "CASH",
                "amount": {"amount": "356.50", "currency": "CNY"},
                "anonymous": True,
                "idempotencyKey": "box-1",
            }
        },
        token=staff,
    )
    assert box["recordDonation"]["donation"]["status"] == "SETTLED"
    count = await api.data(
        'mutation($f:ID!){recordCashCount(input:{fundId:$f,counted:{amount:"356.00",currency:"CNY"},countedBy:["刘晓红","陈建国"],idempotencyKey:"count-1"}){cashCount{expected{amount} variance{amount}} errors{code}}}',
        {"f": world.fund},
        token=staff,
    )
    assert count["recordCashCount"]["cashCount"] == {
        "expected": {"amount": "356.50"},
        "variance": {"amount": "-0.50"},
    }
    dep = await api.data(
        'mutation($f:ID!){depositCash(input:{fundId:$f,amount:{amount:"356.00",currency:"CNY"},bankRef:"DEP-0001",idempotencyKey:"deposit-1"}){journalEntry{sequence} errors{code}}}',
        {"f": world.fund},
        token=staff,
    )
    assert dep["depositCash"]["errors"] == []
    req = await api.data(
        'mutation($f:ID!){requestDisbursement(input:{fundId:$f,amount:{amount:"300.00",currency:"CNY"},payee:"儿童公园社区居委会",purpose:"困难家庭慰问",idempotencyKey:"req-1"}){disbursement{id} errors{code}}}',
        {"f": world.fund},
        token=staff,
    )
    ok = await api.data(
        'mutation($d:ID!){approveDisbursement(input:{disbursementId:$d,idempotencyKey:"approve-1"}){disbursement{status} errors{code}}}',
        {"d": req["requestDisbursement"]["disbursement"]["id"]},
        token=fin,
    )
    assert ok["approveDisbursement"]["disbursement"]["status"] == "APPROVED"
    d = await api.data(
        "query($f:ID!,$from:Date!,$to:Date!){node(id:$f){... on Fund{code balances{bank{amount} onlineClearing{amount} available{amount}} statement(from:$from,to:$to){donationsOnline{amount} donationsOffline{amount} disbursements{amount} otherCosts{amount} closing{amount}}}}}",
        {"f": world.fund, **period},
        token=fin,
    )
    fund = d["node"]
    assert {k: v["amount"] for k, v in fund["balances"].items()} == {
        "bank": "356.00",
        "onlineClearing": "200.00",
        "available": "56.00",
    }
    assert {k: v["amount"] for k, v in fund["statement"].items()} == {
        "donationsOnline": "200.00",
        "donationsOffline": "356.50",
        "disbursements": "300.00",
        "otherCosts": "0.50",
        "closing": "256.00",
    }
    public = await api.data(
        "query($c:String!,$from:Date!,$to:Date!){publicFundReport(code:$c){balances{available{amount}} statement(from:$from,to:$to){closing{amount}} recentDonations{donorName}}}",
        {"c": fund["code"], **period},
    )
    report = public["publicFundReport"]
    assert (
        report["balances"]["available"]["amount"] == "56.00"
        and report["statement"]["closing"]["amount"] == "256.00"
    )
    assert sorted(x["donorName"] for x in report["recentDonations"]) == ["匿名", "张*"]
