"""Every money mutation sent twice at once with one key writes once and answers alike."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from db.uow import read_session
from ledger.tables import EntryRow
from tests.api.client import new_key

CASES = {
    "refundDonation": "mutation($i:RefundDonationInput!){refundDonation(input:$i){donation{id status} errors{code}}}",
    "depositCash": "mutation($i:DepositCashInput!){depositCash(input:$i){journalEntry{id} errors{code}}}",
    "recordCashCount": "mutation($i:RecordCashCountInput!){recordCashCount(input:$i){cashCount{id} errors{code}}}",
    "requestDisbursement": "mutation($i:RequestDisbursementInput!){requestDisbursement(input:$i){disbursement{id status} errors{code}}}",
    "approveDisbursement": "mutation($i:DecideDisbursementInput!){approveDisbursement(input:$i){disbursement{id status} errors{code}}}",
    "payDisbursement": "mutation($i:DecideDisbursementInput!){payDisbursement(input:$i){disbursement{id status} errors{code}}}",
    "postJournalEntry": "mutation($i:PostJournalEntryInput!){postJournalEntry(input:$i){journalEntry{id} errors{code}}}",
    "reverseJournalEntry": "mutation($i:ReverseJournalEntryInput!){reverseJournalEntry(input:$i){journalEntry{id} errors{code}}}",
    "recordService": "mutation($i:RecordServiceInput!){recordService(input:$i){contribution{id} errors{code}}}",
}


def money(amount: str) -> dict:
    return {"amount": amount, "currency": "CNY"}


async def entries(world) -> int:
    async with read_session(world.api.state.engine) as s:
        return await s.scalar(select(func.count()).select_from(EntryRow))


async def twice(world, name: str, inp: dict, token: str) -> dict:
    """Send the same request twice concurrently; both answers must be the same success."""
    before = await entries(world)
    a, b = await asyncio.gather(
        *(world.api.data(CASES[name], {"i": inp}, token=token) for _ in range(2))
    )
    assert a == b, (a, b)
    assert a[name]["errors"] == [], a
    return {"answer": a[name], "new_entries": await entries(world) - before}


async def test_each_money_mutation_writes_once_under_a_double_send(world):
    fin, fin2 = world.fin, world.fin2
    await world.donate("CASH", "500.00")
    gift = await world.donate("BANK_TRANSFER", "2000.00")

    count = await twice(
        world,
        "recordCashCount",
        {
            "fundId": world.fund,
            "counted": money("500.00"),
            "countedBy": ["甲", "乙"],
            "idempotencyKey": new_key(),
        },
        world.staff,
    )
    assert count["new_entries"] == 1
    deposit = await twice(
        world,
        "depositCash",
        {"fundId": world.fund, "amount": money("200.00"), "idempotencyKey": new_key()},
        world.staff,
    )
    assert deposit["new_entries"] == 1
    refund = await twice(
        world,
        "refundDonation",
        {"donationId": gift["donation"]["id"], "reason": "重复捐款", "idempotencyKey": new_key()},
        fin,
    )
    assert refund["new_entries"] == 1 and refund["answer"]["donation"]["status"] == "REFUNDED"

    request = await twice(
        world,
        "requestDisbursement",
        {
            "fundId": world.fund,
            "amount": money("100.00"),
            "payee": "居委会",
            "purpose": "慰问",
            "idempotencyKey": new_key(),
        },
        world.staff,
    )
    assert request["new_entries"] == 0
    disbursement = request["answer"]["disbursement"]["id"]
    approve = await twice(
        world,
        "approveDisbursement",
        {"disbursementId": disbursement, "idempotencyKey": new_key()},
        fin,
    )
    assert approve["new_entries"] == 1 and approve["answer"]["disbursement"]["status"] == "APPROVED"
    pay = await twice(
        world,
        "payDisbursement",
        {"disbursementId": disbursement, "idempotencyKey": new_key(), "note": "PAY-9"},
        fin2,
    )
    assert pay["new_entries"] == 1 and pay["answer"]["disbursement"]["status"] == "PAID"

    manual = await twice(
        world,
        "postJournalEntry",
        {
            "fundId": world.fund,
            "memo": "利息收入",
            "idempotencyKey": new_key(),
            "postings": [
                {"accountCode": "1002", "side": "DEBIT", "amount": money("1.23")},
                {"accountCode": "4101.02", "side": "CREDIT", "amount": money("1.23")},
            ],
        },
        fin,
    )
    assert manual["new_entries"] == 1
    reverse = await twice(
        world,
        "reverseJournalEntry",
        {
            "entryId": manual["answer"]["journalEntry"]["id"],
            "reason": "误记",
            "idempotencyKey": new_key(),
        },
        fin,
    )
    assert reverse["new_entries"] == 1
    service = await twice(
        world,
        "recordService",
        {
            "partnerId": world.partner_id,
            "hours": "2.5",
            "description": "义诊",
            "idempotencyKey": new_key(),
        },
        world.admin,
    )
    assert service["new_entries"] == 0

    b = await world.balances()
    # Bank: 2000 in, 200 deposited, 2000 refunded, 100 paid (the manual entry was reversed).
    assert (b["bank"], b["cashOnHand"], b["available"]) == ("100.00", "300.00", "400.00")
