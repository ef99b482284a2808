"""reverseDisbursementPayment: a payment recorded by mistake is taken back by its own
operation (the rule book refuses it by hand and names it), the disbursement is APPROVED
again and can be paid again, and the audit agrees after each step. Refused once a bank
statement line matched the payment, for a disbursement that is not PAID, and for callers
who do not decide disbursements; a refusal writes nothing."""

from __future__ import annotations

from tests.api.client import new_key
from tests.api.world import World
from tests.trust.helpers import audit_findings, import_bank_statement, journal_size

REQUEST = (
    "mutation($f:ID!,$k:String!){requestDisbursement(input:{fundId:$f,"
    'amount:{amount:"600.00",currency:"CNY"},payee:"食堂",purpose:"重阳节",'
    "idempotencyKey:$k}){disbursement{id} errors{code}}}"
)
DECIDE = (
    "mutation($i:DecideDisbursementInput!){%s(input:$i){"
    "disbursement{status journalEntry{id reference}} errors{code message}}}"
)
UNPAY = (
    "mutation($i:ReverseDisbursementPaymentInput!){reverseDisbursementPayment(input:$i){"
    "disbursement{status journalEntry{id}} errors{code message field}}}"
)
REVERSE = (
    "mutation($i:ReverseJournalEntryInput!){reverseJournalEntry(input:$i){errors{code message}}}"
)


async def _do(world: World, query: str, i: dict, token: str | None = None) -> dict:
    data = await world.api.data(
        query, {"i": i | {"idempotencyKey": new_key()}}, token=token or world.fin
    )
    return next(iter(data.values()))


async def _approved(world: World) -> str:
    """1,000.00 in the bank; a 600.00 disbursement requested and approved."""
    await world.donate("BANK_TRANSFER", "1000.00")
    request = await world.api.data(REQUEST, {"f": world.fund, "k": new_key()}, token=world.fin)
    disbursement = request["requestDisbursement"]["disbursement"]["id"]
    approved = await _do(world, DECIDE % "approveDisbursement", {"disbursementId": disbursement},
                         world.fin2)  # fmt: skip
    assert approved["errors"] == [], approved
    return disbursement


async def _pay(world: World, disbursement: str, reference: str) -> str:
    paid = await _do(world, DECIDE % "payDisbursement",
                     {"disbursementId": disbursement, "note": reference}, world.fin2)  # fmt: skip
    assert paid["errors"] == [] and paid["disbursement"]["status"] == "PAID", paid
    return paid["disbursement"]["journalEntry"]["id"]


async def _positions(world: World) -> tuple[str, str]:
    balances = await world.balances()
    return balances["bank"], balances["available"]


async def test_a_payment_is_taken_back_by_its_own_operation_and_paid_again(world: World):
    disbursement = await _approved(world)
    payment = await _pay(world, disbursement, "PAY-1")
    assert await _positions(world) == ("400.00", "400.00")

    by_hand = await _do(world, REVERSE, {"entryId": payment, "reason": "付错"})
    assert by_hand["errors"][0]["code"] == "INVALID_STATE"
    assert "reverseDisbursementPayment" in by_hand["errors"][0]["message"]

    size = await journal_size(world)
    taken = await _do(world, UNPAY, {"disbursementId": disbursement, "reason": "付错了账户"})
    assert taken["errors"] == [], taken
    # APPROVED again: its entry is the approval; the money is in the bank and still owed.
    assert taken["disbursement"]["status"] == "APPROVED"
    assert taken["disbursement"]["journalEntry"]["id"] != payment
    assert await _positions(world) == ("1000.00", "400.00")
    assert await journal_size(world) == size + 1
    assert await audit_findings(world) == []
    again = await _do(world, UNPAY, {"disbursementId": disbursement, "reason": "再来"})
    assert again["errors"][0]["code"] == "INVALID_STATE", again

    # Paid again (the right way this time), and even taken back a second time.
    await _pay(world, disbursement, "PAY-2")
    assert await _positions(world) == ("400.00", "400.00")
    assert await audit_findings(world) == []
    second = await _do(world, UNPAY, {"disbursementId": disbursement, "reason": "又错了"})
    assert second["errors"] == [] and second["disbursement"]["status"] == "APPROVED"
    assert await audit_findings(world) == []


async def test_a_payment_the_bank_statement_shows_is_not_taken_back(world: World):
    disbursement = await _approved(world)
    await _pay(world, disbursement, "PAY-9")
    csv = "date,reference,amount,balance\n2026-12-01,PAY-9,-600.00,400.00\n"
    imported = await import_bank_statement(world, csv)
    assert imported == {"statementImport": {"matchedCount": 1}, "errors": []}, imported
    size = await journal_size(world)
    refused = await _do(world, UNPAY, {"disbursementId": disbursement, "reason": "x"})
    assert refused["errors"][0]["code"] == "INVALID_STATE"
    assert "bank statement" in refused["errors"][0]["message"]
    assert await journal_size(world) == size
    assert await _positions(world) == ("400.00", "400.00")


async def test_who_may_take_a_payment_back(world: World):
    disbursement = await _approved(world)
    refused = await _do(world, UNPAY, {"disbursementId": disbursement, "reason": "x"})
    assert refused["errors"][0]["code"] == "INVALID_STATE"  # APPROVED, not PAID
    await _pay(world, disbursement, "PAY-3")
    size = await journal_size(world)
    for token, code in ((world.staff, "FORBIDDEN"), (world.other_staff, "FORBIDDEN")):
        d = await _do(world, UNPAY, {"disbursementId": disbursement, "reason": "x"}, token)
        assert d["errors"][0]["code"] == code, d
    body = await world.api.execute(
        UNPAY, {"i": {"disbursementId": disbursement, "reason": "x", "idempotencyKey": "k-1"}}
    )
    assert body["data"]["reverseDisbursementPayment"]["errors"][0]["code"] == "UNAUTHENTICATED"
    assert await journal_size(world) == size
