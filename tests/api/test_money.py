"""Donations, refunds, cash and manual entries through the API: postings, refusals, idempotency."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from db.models import DonationRow
from db.uow import unit_of_work
from ledger.tables import EntryRow
from tests.api.client import new_key
from tests.api.world import RECORD

REFUND = "mutation($i:RefundDonationInput!){refundDonation(input:$i){donation{status} errors{code message field}}}"
ZERO = "0.00"


async def entry_count(world) -> int:
    async with unit_of_work(world.api.state.engine, write=False) as s:
        return await s.scalar(select(func.count()).select_from(EntryRow))


@pytest.mark.parametrize(
    ("channel", "position"),
    [
        ("ONLINE", "onlineClearing"),
        ("CASH", "cashOnHand"),
        ("CHARITY_SALE", "cashOnHand"),
        ("BANK_TRANSFER", "bank"),
        ("IN_KIND", "inKind"),
    ],
)
async def test_each_channel_lands_where_the_brief_says_and_refunds_from_there(
    world, channel, position
):
    d = await world.donate(channel, "88.80")
    assert d["errors"] == []
    assert d["donation"]["status"] == ("RECEIVED" if channel == "ONLINE" else "SETTLED")
    b = await world.balances()
    assert b[position] == "88.80" and b["total"] == "88.80"
    r = await world.api.data(
        REFUND,
        {"i": {"donationId": d["donation"]["id"], "reason": "捐错了", "idempotencyKey": new_key()}},
        token=world.fin,
    )
    assert r["refundDonation"] == {"donation": {"status": "REFUNDED"}, "errors": []}
    assert (await world.balances())["total"] == ZERO
    twice = await world.api.data(
        REFUND,
        {"i": {"donationId": d["donation"]["id"], "reason": "again", "idempotencyKey": new_key()}},
        token=world.fin,
    )
    assert twice["refundDonation"]["errors"][0]["code"] == "INVALID_STATE"


async def test_refund_refused_when_available_would_go_negative(world):
    gift = await world.donate("BANK_TRANSFER", "100.00")
    api = world.api
    req = await api.data(
        'mutation($f:ID!){requestDisbursement(input:{fundId:$f,amount:{amount:"80.00",currency:"CNY"},payee:"p",purpose:"q",idempotencyKey:"r"}){disbursement{id}}}',
        {"f": world.fund},
        token=world.staff,
    )
    await api.data(
        "mutation($i:DecideDisbursementInput!){approveDisbursement(input:$i){errors{code}}}",
        {
            "i": {
                "disbursementId": req["requestDisbursement"]["disbursement"]["id"],
                "idempotencyKey": "a",
            }
        },
        token=world.fin,
    )
    before = await entry_count(world)
    r = await api.data(
        REFUND,
        {"i": {"donationId": gift["donation"]["id"], "reason": "x", "idempotencyKey": new_key()}},
        token=world.fin,
    )
    assert r["refundDonation"]["errors"][0]["code"] == "INSUFFICIENT_FUNDS"
    assert await entry_count(world) == before
    assert (await world.balances())["available"] == "20.00"


@pytest.mark.parametrize(
    ("amount", "currency", "code", "field"),
    [
        ("-5", "CNY", "INVALID_AMOUNT", "amount"),
        ("0", "CNY", "INVALID_AMOUNT", "amount"),
        ("1.001", "CNY", "INVALID_AMOUNT", "amount"),
        ("100000000000.01", "CNY", "INVALID_AMOUNT", "amount"),
        ("10.00", "USD", "CURRENCY_MISMATCH", "currency"),
    ],
)
async def test_bad_amounts_are_refused_and_write_nothing(world, amount, currency, code, field):
    d = await world.api.data(
        RECORD,
        {
            "i": {
                "fundId": world.fund,
                "channel": "CASH",
                "amount": {"amount": amount, "currency": currency},
                "anonymous": True,
                "idempotencyKey": "same-key",
            }
        },
        token=world.fin,
    )
    assert d["recordDonation"]["errors"][0]["code"] == code
    assert d["recordDonation"]["errors"][0]["field"] == ["input", "amount", field]
    assert await entry_count(world) == 0
    # A refused request stores nothing under its key: a corrected retry is judged afresh.
    ok = await world.api.data(
        RECORD,
        {
            "i": {
                "fundId": world.fund,
                "channel": "CASH",
                "amount": {"amount": "1.00", "currency": "CNY"},
                "anonymous": True,
                "idempotencyKey": "same-key",
            }
        },
        token=world.fin,
    )
    assert ok["recordDonation"]["errors"] == []


async def test_bad_input_names_the_field(world):
    cases = [
        ({"channel": "ONLINE"}, "INVALID_INPUT", ["input", "externalRef"]),
        ({"channel": "IN_KIND", "description": None}, "INVALID_INPUT", ["input", "description"]),
        ({"fundId": "bm9wZTox"}, "NOT_FOUND", ["input", "fundId"]),
        ({"fundId": "garbage!!"}, "NOT_FOUND", ["input", "fundId"]),
        ({"campaignId": "Q2FtcGFpZ246OTk5"}, "NOT_FOUND", ["input", "campaignId"]),
        (
            {"receivedAt": "2023-06-09T10:00:00+08:00", "campaignId": "CAMPAIGN"},
            "INVALID_INPUT",
            ["input", "receivedAt"],
        ),
        ({"donorName": None}, "INVALID_INPUT", ["input", "donorName"]),
        ({"donorName": "x" * 101}, "INVALID_INPUT", ["input", "donorName"]),
        ({"idempotencyKey": "  "}, "INVALID_INPUT", ["input", "idempotencyKey"]),
    ]
    for extra, code, field in cases:
        inp = {
            "fundId": world.fund,
            "channel": "CASH",
            "amount": {"amount": "5.00", "currency": "CNY"},
            "donorName": "李四",
            "idempotencyKey": new_key(),
        }
        inp.update(extra)
        if inp.get("campaignId") == "CAMPAIGN":
            inp["campaignId"] = world.campaign
        if inp["channel"] == "IN_KIND" and "description" not in extra:
            inp["description"] = "米"
        inp = {k: v for k, v in inp.items() if v is not None}
        d = await world.api.data(RECORD, {"i": inp}, token=world.fin)
        errors = d["recordDonation"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [(code, field)], (extra, errors)
    assert await entry_count(world) == 0


async def test_same_key_twice_concurrently_makes_one_entry(world):
    inp = {
        "fundId": world.fund,
        "channel": "CASH",
        "amount": {"amount": "50.00", "currency": "CNY"},
        "donorName": "王芳",
        "idempotencyKey": "twice",
    }
    a, b = await asyncio.gather(
        *(world.api.data(RECORD, {"i": inp}, token=world.fin) for _ in range(2))
    )
    assert a["recordDonation"]["donation"]["id"] == b["recordDonation"]["donation"]["id"]
    assert await entry_count(world) == 1
    changed = dict(inp, amount={"amount": "51.00", "currency": "CNY"})
    c = await world.api.data(RECORD, {"i": changed}, token=world.fin)
    assert c["recordDonation"]["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"


async def test_online_callback_retried_with_a_fresh_key_returns_the_same_donation(world):
    first = await world.donate("ONLINE", "20.00", externalRef="WX-1")
    again = await world.donate("ONLINE", "20.00", externalRef="WX-1")
    assert again["donation"]["id"] == first["donation"]["id"]
    other = await world.donate("ONLINE", "21.00", externalRef="WX-1")
    assert other["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert (await world.balances())["onlineClearing"] == "20.00"


async def test_frozen_fund_refuses_new_money_and_closing_needs_an_empty_fund(world):
    api = world.api
    change = "mutation($i:ChangeFundStatusInput!){changeFundStatus(input:$i){fund{status} errors{code field}}}"
    await world.donate("CASH", "10.00")
    by_finance = await api.data(
        change, {"i": {"fundId": world.fund, "status": "FROZEN", "reason": "审计"}}, token=world.fin
    )
    assert by_finance["changeFundStatus"]["errors"] == [{"code": "FORBIDDEN", "field": None}]
    frozen = await api.data(
        change,
        {"i": {"fundId": world.fund, "status": "FROZEN", "reason": "审计"}},
        token=world.admin,
    )
    assert frozen["changeFundStatus"] == {"fund": {"status": "FROZEN"}, "errors": []}
    before = await entry_count(world)
    refused = await world.donate("CASH")
    assert refused["errors"][0]["code"] == "FUND_NOT_OPEN"
    req = await api.data(
        'mutation($f:ID!){requestDisbursement(input:{fundId:$f,amount:{amount:"1.00",currency:"CNY"},payee:"p",purpose:"q",idempotencyKey:"fz"}){errors{code}}}',
        {"f": world.fund},
        token=world.staff,
    )
    assert req["requestDisbursement"]["errors"][0]["code"] == "FUND_NOT_OPEN"
    assert await entry_count(world) == before
    not_empty = await api.data(
        change,
        {"i": {"fundId": world.fund, "status": "CLOSED", "reason": "结束"}},
        token=world.admin,
    )
    assert not_empty["changeFundStatus"]["errors"] == [
        {"code": "INVALID_STATE", "field": ["input", "status"]}
    ]
    empty = await api.data(
        change,
        {"i": {"fundId": world.other_fund, "status": "CLOSED", "reason": "结束"}},
        token=world.admin,
    )
    assert empty["changeFundStatus"]["fund"] == {"status": "CLOSED"}
    final = await api.data(
        change,
        {"i": {"fundId": world.other_fund, "status": "OPEN", "reason": "重开"}},
        token=world.admin,
    )
    assert final["changeFundStatus"]["errors"][0]["code"] == "INVALID_STATE"
    reopened = await api.data(
        change,
        {"i": {"fundId": world.fund, "status": "OPEN", "reason": "审计完毕"}},
        token=world.admin,
    )
    assert reopened["changeFundStatus"]["fund"] == {"status": "OPEN"}
    assert (await world.donate("CASH"))["errors"] == []


async def test_cash_count_and_deposit(world):
    api = world.api
    await world.donate("CASH", "100.00")
    await world.donate("CHARITY_SALE", "50.50")
    count = "mutation($i:RecordCashCountInput!){recordCashCount(input:$i){cashCount{expected{amount} counted{amount} variance{amount} countedBy} errors{code field}}}"
    one = await api.data(
        count,
        {
            "i": {
                "fundId": world.fund,
                "counted": {"amount": "150.00", "currency": "CNY"},
                "countedBy": ["刘晓红"],
                "idempotencyKey": "c0",
            }
        },
        token=world.staff,
    )
    assert one["recordCashCount"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "countedBy"]}
    ]
    ok = await api.data(
        count,
        {
            "i": {
                "fundId": world.fund,
                "counted": {"amount": "150.00", "currency": "CNY"},
                "countedBy": ["刘晓红", "陈建国"],
                "idempotencyKey": "c1",
            }
        },
        token=world.staff,
    )
    assert ok["recordCashCount"]["cashCount"]["expected"] == {"amount": "150.50"}
    assert ok["recordCashCount"]["cashCount"]["variance"] == {"amount": "-0.50"}
    deposit = "mutation($i:DepositCashInput!){depositCash(input:$i){journalEntry{sequence reference} errors{code}}}"
    too_much = await api.data(
        deposit,
        {
            "i": {
                "fundId": world.fund,
                "amount": {"amount": "150.01", "currency": "CNY"},
                "idempotencyKey": "d0",
            }
        },
        token=world.staff,
    )
    assert too_much["depositCash"]["errors"][0]["code"] == "INSUFFICIENT_FUNDS"
    done = await api.data(
        deposit,
        {
            "i": {
                "fundId": world.fund,
                "amount": {"amount": "150.00", "currency": "CNY"},
                "bankRef": "DEP-1",
                "idempotencyKey": "d1",
            }
        },
        token=world.staff,
    )
    assert done["depositCash"]["journalEntry"]["reference"] == "DEP-1"
    b = await world.balances()
    assert (b["bank"], b["cashOnHand"], b["available"]) == ("150.00", ZERO, "150.00")


async def test_statement_public_report_and_masking(world):
    api = world.api
    await world.donate("ONLINE", "200.00", donorName="张三丰")
    await world.donate(
        "BANK_TRANSFER", "1000.00", donorName="浦发银行百花路支行", partnerId=world.partner_id
    )
    await world.donate("CASH", "10.00", anonymous=True)
    report = await api.data(
        '{ publicFundReport(code:"etgy"){ name balances{total{amount}} statement(from:"2026-01-01", to:"2027-12-31"){opening{amount} donationsOnline{amount} donationsOffline{amount} closing{amount}} recentDonations(first:5){donorName amount{amount} channel} } }'
    )
    r = report["publicFundReport"]
    assert r["balances"]["total"]["amount"] == "1210.00"
    assert (
        r["statement"]["donationsOnline"]["amount"] == "200.00"
        and r["statement"]["closing"]["amount"] == "1210.00"
    )
    assert {d["donorName"] for d in r["recentDonations"]} == {"张*", "浦发**", "匿名"}
    assert "externalRef" not in str(report)
    assert (await api.data('{ publicFundReport(code:"NOPE"){ name } }'))["publicFundReport"] is None


async def test_manual_entry_reversal_and_period_close(world):
    api = world.api
    post = "mutation($i:PostJournalEntryInput!){postJournalEntry(input:$i){journalEntry{id sequence} errors{code field}}}"
    unbalanced = {
        "fundId": world.fund,
        "memo": "识别来款",
        "idempotencyKey": "m0",
        "postings": [
            {
                "accountCode": "1002",
                "side": "DEBIT",
                "amount": {"amount": "10.00", "currency": "CNY"},
            },
            {
                "accountCode": "4101.02",
                "side": "CREDIT",
                "amount": {"amount": "9.00", "currency": "CNY"},
            },
        ],
    }
    d = await api.data(post, {"i": unbalanced}, token=world.fin)
    assert d["postJournalEntry"]["errors"][0]["code"] == "UNBALANCED_ENTRY"
    good = dict(unbalanced, idempotencyKey="m1", effectiveAt="2024-01-05T10:00:00+08:00")
    good["postings"] = [
        dict(unbalanced["postings"][0]),
        dict(unbalanced["postings"][1], amount={"amount": "10.00", "currency": "CNY"}),
    ]
    entry = (await api.data(post, {"i": good}, token=world.fin))["postJournalEntry"]["journalEntry"]
    assert entry["sequence"] == 1
    close = await api.data(
        'mutation($f:ID!){closePeriod(input:{fundId:$f,through:"2024-12-31"}){fund{code} errors{code}}}',
        {"f": world.fund},
        token=world.fin,
    )
    assert close["closePeriod"]["errors"] == []
    rev = await api.data(
        "mutation($i:ReverseJournalEntryInput!){reverseJournalEntry(input:$i){journalEntry{id} errors{code}}}",
        {"i": {"entryId": entry["id"], "reason": "错账", "idempotencyKey": "rv"}},
        token=world.fin,
    )
    assert rev["reverseJournalEntry"]["errors"][0]["code"] == "PERIOD_CLOSED"
    late = dict(good, idempotencyKey="m2", effectiveAt="2024-06-01T10:00:00+08:00")
    assert (await api.data(post, {"i": late}, token=world.fin))["postJournalEntry"]["errors"][0][
        "code"
    ] == "PERIOD_CLOSED"
    v = await api.data(
        "query($f:ID!){verifyJournal(fundId:$f){ok entriesChecked} node(id:$f){... on Fund{trialBalance{balanced totalDebit{amount}}}}}",
        {"f": world.fund},
        token=world.fin,
    )
    assert v["verifyJournal"]["ok"] and v["node"]["trialBalance"]["balanced"]
    async with unit_of_work(world.api.state.engine, write=False) as s:
        assert await s.scalar(select(func.count()).select_from(DonationRow)) == 0


async def test_partner_totals_leave_refunded_gifts_out(world):
    totals = "query($p:ID!){node(id:$p){... on Partner{contributionTotals{money{amount} inKind{amount}} contributions{edges{node{kind donation{status}}}}}}}"
    kept = await world.donate("BANK_TRANSFER", "300.00", partnerId=world.partner_id)
    goods = await world.donate("IN_KIND", "80.00", partnerId=world.partner_id)
    refund = await world.api.data(
        REFUND,
        {
            "i": {
                "donationId": goods["donation"]["id"],
                "reason": "退回",
                "idempotencyKey": new_key(),
            }
        },
        token=world.fin,
    )
    assert refund["refundDonation"]["errors"] == []
    d = (await world.api.data(totals, {"p": world.partner_id}, token=world.partner))["node"]
    assert d["contributionTotals"] == {"money": {"amount": "300.00"}, "inKind": {"amount": "0.00"}}
    assert [e["node"]["donation"]["status"] for e in d["contributions"]["edges"]] == [
        "SETTLED",
        "REFUNDED",
    ]
    assert kept["errors"] == []
