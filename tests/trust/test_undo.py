"""Owned entries are undone only by their owner (issue 13): reverseJournalEntry refuses
them, naming the operation; each record's own undo changes the record and posts the
reversal together; the audit agrees afterwards. Each case failed on the main of
2026-12-01, where a reversed donation could still be refunded (money removed twice)."""

from __future__ import annotations

from tests.api.client import new_key
from tests.api.world import World, pk
from tests.trust.helpers import audit_findings, entry_of, import_bank_statement, journal_size

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


UNDEPOSIT = (
    "mutation($i:ReverseCashDepositInput!){reverseCashDeposit(input:$i)"
    "{journalEntry{id memo reverses{id reversedBy{id}}} errors{code message field}}}"
)


async def _counted_and_deposited(world: World, amount: str) -> str:
    """Cash given, counted and deposited: the deposit's journal entry."""
    await world.donate("CASH", amount)
    count = {"fundId": world.fund, "counted": {"amount": amount, "currency": "CNY"}}
    assert (await _do(world, COUNT, count | {"countedBy": ["王芳", "李强"]}))["errors"] == []
    money = {"amount": amount, "currency": "CNY"}
    deposit = await _do(world, DEPOSIT, {"fundId": world.fund, "amount": money})
    assert deposit["errors"] == [], deposit
    return deposit["journalEntry"]["id"]


async def test_a_deposit_is_taken_back_by_its_own_operation_once(world: World):
    entry = await _counted_and_deposited(world, "300.00")
    assert (await world.balances())["bank"] == "300.00"
    # Not by hand: the refusal names the operation that owns it.
    by_hand = await _do(world, REVERSE, {"entryId": entry, "reason": "存错"})
    assert by_hand["errors"][0]["code"] == "INVALID_STATE"
    assert "reverseCashDeposit" in by_hand["errors"][0]["message"]
    # Not by staff of another community (to whom the fund is not there), and not an
    # entry that is no deposit.
    size = await journal_size(world)
    other = await _do(world, UNDEPOSIT, {"journalEntryId": entry, "reason": "x"}, world.other_staff)
    assert other["errors"][0]["code"] == "NOT_FOUND", other
    gift = (await world.donate("CASH", "1.00"))["donation"]
    not_one = await _do(
        world, UNDEPOSIT, {"journalEntryId": await entry_of(world, gift["id"]), "reason": "x"}
    )
    assert not_one["errors"][0]["code"] == "NOT_FOUND"
    assert not_one["errors"][0]["field"] == ["input", "journalEntryId"]
    assert await journal_size(world) == size + 1  # the gift only

    taken = await _do(world, UNDEPOSIT, {"journalEntryId": entry, "reason": "存错了账户"})
    assert taken["errors"] == [], taken
    reversal = taken["journalEntry"]
    assert reversal["reverses"] == {"id": entry, "reversedBy": {"id": reversal["id"]}}
    assert "存错了账户" in reversal["memo"]
    balances = await world.balances()
    # The deposit's 300.00 is cash on hand again, beside the later 1.00 gift.
    assert (balances["bank"], balances["cashOnHand"]) == ("0.00", "301.00")
    again = await _do(world, UNDEPOSIT, {"journalEntryId": entry, "reason": "再来"})
    assert again["errors"][0]["code"] == "INVALID_STATE", again
    assert await audit_findings(world) == []


async def test_a_deposit_the_bank_no_longer_holds_is_not_taken_back(world: World):
    entry = await _counted_and_deposited(world, "200.00")
    post = "mutation($i:PostJournalEntryInput!){postJournalEntry(input:$i){errors{code message}}}"
    out = [
        {"accountCode": "5101", "side": "DEBIT", "amount": {"amount": "150.00", "currency": "CNY"}},
        {
            "accountCode": "1002",
            "side": "CREDIT",
            "amount": {"amount": "150.00", "currency": "CNY"},
        },
    ]
    spent = await _do(world, post, {"fundId": world.fund, "memo": "付款", "postings": out})
    assert spent["errors"] == [], spent
    size = await journal_size(world)
    refused = await _do(world, UNDEPOSIT, {"journalEntryId": entry, "reason": "x"})
    assert refused["errors"][0]["code"] == "INSUFFICIENT_FUNDS", refused
    assert await journal_size(world) == size


async def test_a_deposit_a_bank_line_matched_is_not_taken_back(world: World):
    await world.donate("CASH", "80.00")
    count = {"fundId": world.fund, "counted": {"amount": "80.00", "currency": "CNY"}}
    assert (await _do(world, COUNT, count | {"countedBy": ["王芳", "李强"]}))["errors"] == []
    money = {"amount": "80.00", "currency": "CNY"}
    deposit = await _do(world, DEPOSIT, {"fundId": world.fund, "amount": money, "bankRef": "DEP-9"})
    entry = deposit["journalEntry"]["id"]
    csv = "date,reference,amount,balance\n2026-12-01,DEP-9,80.00,80.00\n"
    imported = await import_bank_statement(world, csv)
    assert imported == {"statementImport": {"matchedCount": 1}, "errors": []}, imported
    size = await journal_size(world)
    refused = await _do(world, UNDEPOSIT, {"journalEntryId": entry, "reason": "x"})
    assert refused["errors"][0]["code"] == "INVALID_STATE"
    assert "bank statement line" in refused["errors"][0]["message"]
    assert await journal_size(world) == size
