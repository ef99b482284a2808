"""Owned entries are undone only by their owner (issue 13): reverseJournalEntry refuses
them, naming the operation; each record's own undo changes the record and posts the
reversal together; the audit agrees afterwards. Each case failed on the main of
2026-12-01, where a reversed donation could still be refunded (money removed twice)."""

from __future__ import annotations

from tests.api.client import new_key
from tests.api.world import World, pk
from tests.trust.helpers import audit_findings, entry_of, journal_size

REVERSE = "mutation($i:ReverseJournalEntryInput!){reverseJournalEntry(input:$i){journalEntry{id} errors{code message field}}}"
VOID = "mutation($i:VoidDonationInput!){voidDonation(input:$i){donation{id status} errors{code message field}}}"
REFUND = "mutation($i:RefundDonationInput!){refundDonation(input:$i){donation{status} errors{code message}}}"
CANCEL = "mutation($i:CancelDisbursementInput!){cancelDisbursement(input:$i){disbursement{status} errors{code message}}}"
COUNT = "mutation($i:RecordCashCountInput!){recordCashCount(input:$i){cashCount{id} errors{code message field}}}"
UNCOUNT = "mutation($i:ReverseCashCountInput!){reverseCashCount(input:$i){cashCount{id} errors{code message field}}}"
DEPOSIT = (
    "mutation($i:DepositCashInput!){depositCash(input:$i){journalEntry{id} errors{code message}}}"
)


async def _do(world: World, query: str, i: dict, token: str | None = None) -> dict:
    data = await world.api.data(
        query, {"i": i | {"idempotencyKey": new_key()}}, token=token or world.fin
    )
    return next(iter(data.values()))


async def test_a_donations_entry_is_undone_by_voiding_it_only_once(world: World):
    gift = (await world.donate("CASH", "100.00"))["donation"]
    entry = await entry_of(world, gift["id"])
    size = await journal_size(world)
    refused = await _do(world, REVERSE, {"entryId": entry, "reason": "错了"})
    assert refused["errors"][0]["code"] == "INVALID_STATE"
    assert "voidDonation" in refused["errors"][0]["message"]
    assert await journal_size(world) == size

    voided = await _do(world, VOID, {"donationId": gift["id"], "reason": "录错了"})
    assert voided["errors"] == [] and voided["donation"]["status"] == "VOIDED"
    assert (await world.balances())["cashOnHand"] == "0.00"
    # Voided: not refunded too, not voided twice.
    for query in (REFUND, VOID):
        again = await _do(world, query, {"donationId": gift["id"], "reason": "再来"})
        assert again["errors"][0]["code"] == "INVALID_STATE", again
    assert await audit_findings(world) == []


async def test_a_settled_or_refunded_donation_is_not_voided(world: World):
    gift = (await world.donate("BANK_TRANSFER", "50.00"))["donation"]
    assert (await _do(world, REFUND, {"donationId": gift["id"], "reason": "退回"}))["errors"] == []
    size = await journal_size(world)
    refused = await _do(world, VOID, {"donationId": gift["id"], "reason": "x"})
    assert refused["errors"][0]["code"] == "INVALID_STATE"
    assert await journal_size(world) == size
    assert await audit_findings(world) == []


async def test_an_approved_disbursement_is_cancelled_not_reversed(world: World):
    await world.donate("BANK_TRANSFER", "1000.00")
    request = await world.api.data(
        'mutation($f:ID!,$k:String!){requestDisbursement(input:{fundId:$f,amount:{amount:"600.00",currency:"CNY"},payee:"食堂",purpose:"重阳节",idempotencyKey:$k}){disbursement{id} errors{code}}}',
        {"f": world.fund, "k": new_key()},
        token=world.fin,
    )
    disbursement = request["requestDisbursement"]["disbursement"]["id"]
    decide = "mutation($i:DecideDisbursementInput!){%s(input:$i){disbursement{status approveEntry: id} errors{code}}}"
    approved = await world.api.data(
        decide % "approveDisbursement",
        {"i": {"disbursementId": disbursement, "idempotencyKey": new_key()}},
        token=world.fin2,
    )
    assert approved["approveDisbursement"]["errors"] == []
    assert (await world.balances())["available"] == "400.00"

    cancelled = await _do(world, CANCEL, {"disbursementId": disbursement, "reason": "取消活动"})
    assert cancelled == {"disbursement": {"status": "CANCELLED"}, "errors": []}
    assert (await world.balances())["available"] == "1000.00"
    # A cancelled disbursement is not paid: payable would go below zero.
    paid = await world.api.data(
        decide % "payDisbursement",
        {"i": {"disbursementId": disbursement, "idempotencyKey": new_key()}},
        token=world.fin2,
    )
    assert paid["payDisbursement"]["errors"][0]["code"] == "INVALID_STATE"
    again = await _do(world, CANCEL, {"disbursementId": disbursement, "reason": "again"})
    assert again["errors"][0]["code"] == "INVALID_STATE"
    assert await audit_findings(world) == []


async def test_counts_count_only_what_is_there_and_are_taken_back_whole(world: World):
    await world.donate("CASH", "1000.00")
    count = {"fundId": world.fund, "counted": {"amount": "1000.00", "currency": "CNY"}}
    count["countedBy"] = ["王芳", "李强"]
    first = await _do(world, COUNT, count)
    assert first["errors"] == []
    # Nothing is uncounted now: a second count of the same box is refused.
    second = await _do(world, COUNT, count)
    assert second["errors"][0]["code"] == "INVALID_STATE"
    assert (await world.balances())["cashOnHand"] == "1000.00"

    taken_back = await _do(
        world, UNCOUNT, {"cashCountId": first["cashCount"]["id"], "reason": "数错"}
    )
    assert taken_back["errors"] == []
    assert await audit_findings(world) == []
    recount = await _do(world, COUNT, count | {"counted": {"amount": "998.50", "currency": "CNY"}})
    assert recount["errors"] == []
    deposit = await _do(
        world,
        DEPOSIT,
        {
            "fundId": world.fund,
            "amount": {"amount": "998.50", "currency": "CNY"},
            "bankRef": "DEP-1",
        },
    )
    assert deposit["errors"] == [], deposit
    # The cash is in the bank now: the count cannot be taken back.
    late = await _do(world, UNCOUNT, {"cashCountId": recount["cashCount"]["id"], "reason": "x"})
    assert late["errors"][0]["code"] == "INSUFFICIENT_FUNDS"
    # Only the latest standing count can be taken back.
    old = await _do(world, UNCOUNT, {"cashCountId": first["cashCount"]["id"], "reason": "x"})
    assert old["errors"][0]["code"] == "INVALID_STATE"
    assert await audit_findings(world) == []


async def test_concurrent_counts_of_one_box_count_it_once(world: World):
    import asyncio

    await world.donate("CASH", "1000.00")
    count = {"fundId": world.fund, "counted": {"amount": "1000.00", "currency": "CNY"}}
    count["countedBy"] = ["王芳", "李强"]
    results = await asyncio.gather(*(_do(world, COUNT, count) for _ in range(10)))
    assert sum(1 for r in results if r["errors"] == []) == 1
    assert (await world.balances())["cashOnHand"] == "1000.00"
    assert await audit_findings(world) == []


async def test_a_partner_outside_the_funds_area_is_refused(world: World):
    size = await journal_size(world)
    other = await world.donate("BANK_TRANSFER", "10.00", partnerId=world.other_partner_id)
    assert other["errors"][0]["code"] == "INVALID_INPUT"
    assert other["errors"][0]["field"] == ["input", "partnerId"]
    assert await journal_size(world) == size
    mine = await world.donate("BANK_TRANSFER", "10.00", partnerId=world.partner_id)
    assert mine["errors"] == []
    assert pk(world.partner_id) != pk(world.other_partner_id)
