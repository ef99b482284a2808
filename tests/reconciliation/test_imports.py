"""importStatement and resolveStatementLine: refusals, idempotency, duplicates, roles."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from db.reconciliation_models import StatementImportRow, StatementLineRow
from tests.api.client import new_key
from tests.reconciliation.conftest import RECON, Books

SETTLEMENT = "date,reference,amount,fee\n2023-06-10,WX1,100.00,0.60\n2023-06-10,WX2,50.00,0.30\n"


async def _rows(books: Books) -> tuple[int, int]:
    engine = books.api.state.engine
    async with engine.connect() as conn:
        imports = await conn.scalar(select(func.count()).select_from(StatementImportRow))
        lines = await conn.scalar(select(func.count()).select_from(StatementLineRow))
    return imports, lines


async def test_refusals_write_nothing(books: Books):
    await books.donate("ONLINE", "100.00", "WX1")
    size = await books.journal_size()

    d = await books.import_("PAYMENT_CHANNEL", SETTLEMENT)
    assert d["statementImport"] is None
    assert d["errors"] == [
        {
            "code": "INVALID_INPUT",
            "message": d["errors"][0]["message"],
            "field": ["input", "payoutRef"],
        }
    ]
    d = await books.import_("PAYMENT_CHANNEL", SETTLEMENT, "  ")
    assert d["errors"][0]["field"] == ["input", "payoutRef"]
    d = await books.import_("BANK", "date,reference,amount,balance\n2023-06-10,X,1,1\n", "PO")
    assert d["errors"][0]["code"] == "INVALID_INPUT"

    bad = "date,reference,amount,fee\n2023-06-10,WX1,100.00,0.60\n2023-06-10,WX2,abc,0.30\n"
    d = await books.import_("PAYMENT_CHANNEL", bad, "PO-1")
    assert d["errors"][0]["code"] == "INVALID_STATEMENT"
    assert d["errors"][0]["message"].startswith("line 2:")
    assert d["errors"][0]["field"] == ["input", "csv"]
    # A stray quote in an unquoted field, in the four-column format and a bank's own.
    stray = 'date,reference,amount,fee\n2023-06-10,WX1,100.00,0.60\n2023-06-10,WX"2,5.00,0\n'
    d = await books.import_("PAYMENT_CHANNEL", stray, "PO-1")
    assert d["errors"][0]["code"] == "INVALID_STATEMENT"
    assert d["errors"][0]["message"].startswith("line 2: malformed CSV: a stray quote")
    icbc = '交易时间,借方发生额,贷方发生额,余额,用途\n2023-06-10,,1.00,1.00,R1\n2023-06-11,,1.00,2.00,R"2\n'
    d = await books.import_("BANK", icbc)
    assert d["errors"][0]["code"] == "INVALID_STATEMENT"
    assert d["errors"][0]["message"].startswith("line 2 (file line 3): malformed CSV: a stray")
    for text in ("", "date,reference,amount,fee\n", "date,ref\n1,2\n"):
        d = await books.import_("PAYMENT_CHANNEL", text, "PO-1")
        assert d["errors"][0]["code"] == "INVALID_STATEMENT", text

    # A key used for another request.
    key = new_key()
    assert (await books.import_("PAYMENT_CHANNEL", SETTLEMENT, "PO-1", key=key))["errors"] == []
    d = await books.import_("PAYMENT_CHANNEL", SETTLEMENT, "PO-2", key=key)
    assert d["errors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert await _rows(books) == (1, 2)
    assert await books.journal_size() == size + 1

    # Roles: community staff and anonymous callers.
    staff = await books.api.user("staff", "COMMUNITY_STAFF", community_id=_pk(books.community))
    d = await books.import_(
        "BANK", "date,reference,amount,balance\n2023-06-10,X,1,1\n", token=staff
    )
    assert d["errors"][0]["code"] == "FORBIDDEN"
    d = await books.import_("BANK", "date,reference,amount,balance\n2023-06-10,X,1,1\n", token=None)
    assert d["errors"][0]["code"] == "UNAUTHENTICATED"
    d = await books.import_(
        "BANK", "date,reference,amount,balance\n2023-06-10,X,1,1\n", fund="RnVuZDo5OTk"
    )  # Fund:999
    assert d["errors"][0]["code"] == "NOT_FOUND"
    assert await _rows(books) == (1, 2)


def _pk(global_id: str) -> int:
    import base64

    return int(base64.urlsafe_b64decode(global_id + "==").decode().split(":")[1])


async def test_idempotent_reimport_and_duplicate_payout(books: Books):
    await books.donate("ONLINE", "100.00", "WX1")
    await books.donate("ONLINE", "50.00", "WX2")
    await books.donate("ONLINE", "20.00", "WX3")
    key = new_key()
    first = await books.import_("PAYMENT_CHANNEL", SETTLEMENT, "PO-1", key=key)
    size = await books.journal_size()
    again = await books.import_("PAYMENT_CHANNEL", SETTLEMENT, "PO-1", key=key)
    assert again["statementImport"]["id"] == first["statementImport"]["id"]
    assert await books.journal_size() == size
    assert await _rows(books) == (1, 2)

    # The same payout with a fresh key: recorded, all DUPLICATE, nothing posted.
    dup = (await books.import_("PAYMENT_CHANNEL", SETTLEMENT, "PO-1"))["statementImport"]
    assert [line["status"] for line in dup["lines"]] == ["DUPLICATE", "DUPLICATE"]
    assert dup["journalEntry"] is None and dup["duplicateCount"] == 2
    assert await books.journal_size() == size

    # A later payout listing a donation settled before: that line is DUPLICATE and not
    # counted in the payout; the new one settles.
    csv = "date,reference,amount,fee\n2023-06-11,WX1,100.00,0.60\n2023-06-11,WX3,20.00,0.12\n"
    later = (await books.import_("PAYMENT_CHANNEL", csv, "PO-2"))["statementImport"]
    assert [line["status"] for line in later["lines"]] == ["DUPLICATE", "MATCHED"]
    assert later["lines"][0]["matchedEntry"]["reference"] == "PO-1"
    posted = {
        p["account"]["code"]: p["amount"]["amount"] for p in later["journalEntry"]["postings"]
    }
    assert posted == {"1002": "19.88", "5301": "0.12", "1009.01": "20.00"}
    balances = await books.balances()
    assert balances["1009.01"] == Decimal("0.00")
    assert balances["1002"] == Decimal("149.10") + Decimal("19.88")


async def test_refunded_and_repeated_references_are_discrepancies(books: Books):
    d = await books.donate("ONLINE", "100.00", "WX1")
    await books.donate("ONLINE", "50.00", "WX2")
    q = "mutation($i:RefundDonationInput!){refundDonation(input:$i){errors{code}}}"
    i = {"donationId": d["id"], "reason": "donor asked", "idempotencyKey": new_key()}
    assert (await books.api.data(q, {"i": i}, token=books.fin))["refundDonation"]["errors"] == []
    csv = (
        "date,reference,amount,fee\n2023-06-10,WX1,100.00,0.60\n"
        "2023-06-10,WX2,50.00,0.30\n2023-06-10,WX2,50.00,0.30\n"
    )
    imp = (await books.import_("PAYMENT_CHANNEL", csv, "PO-1"))["statementImport"]
    assert [line["status"] for line in imp["lines"]] == ["DISCREPANCY", "MATCHED", "DISCREPANCY"]
    assert "refunded" in imp["lines"][0]["note"]
    assert "line 2" in imp["lines"][2]["note"]
    posted = {p["account"]["code"]: p["amount"]["amount"] for p in imp["journalEntry"]["postings"]}
    # bank 99.40 + 49.70 + 49.70; suspense 99.40 + 49.70
    assert posted == {"1002": "198.80", "5301": "0.30", "1009.01": "50.00", "2209.02": "149.10"}

    # SUSPENSE is for bank lines only; IGNORE needs a note; MATCHED lines are not open.
    d = await books.resolve(imp["id"], 1, "SUSPENSE", "x")
    assert d["errors"][0]["code"] == "INVALID_INPUT" and d["errors"][0]["field"] == [
        "input",
        "resolution",
    ]
    d = await books.resolve(imp["id"], 1, "IGNORE", "   ")
    assert d["errors"][0]["code"] == "INVALID_INPUT" and d["errors"][0]["field"] == [
        "input",
        "note",
    ]
    d = await books.resolve(imp["id"], 2, "IGNORE", "fine")
    assert d["errors"][0]["code"] == "INVALID_STATE"
    d = await books.resolve(imp["id"], 9, "IGNORE", "fine")
    assert d["errors"][0]["code"] == "NOT_FOUND"
    key = new_key()
    d = await books.resolve(imp["id"], 1, "IGNORE", "refund paid back by the channel", key=key)
    assert d["line"]["status"] == "RESOLVED"
    again = await books.resolve(imp["id"], 1, "IGNORE", "refund paid back by the channel", key=key)
    assert again == d
    d = await books.resolve(imp["id"], 1, "IGNORE", "again")
    assert d["errors"][0]["code"] == "INVALID_STATE"


async def test_bank_matching_ambiguity_duplicates_and_suspense(books: Books):
    await books.donate("CASH", "300.00")
    await books.count_cash("300.00")
    await books.deposit("100.00", "DEP-1")
    await books.deposit("100.00", "DEP-1")
    await books.deposit("50.00", "DEP-2")
    csv = (
        "date,reference,amount,balance\n"
        "2023/06/11,DEP-1,100.00,100.00\n"
        "2023/06/11,DEP-2,50.00,150.00\n"
        "2023/06/12,GIFT-9,66.00,216.00\n"
        "2023/06/12,DEP-X,-10.00,206.00\n"
    )
    imp = (await books.import_("BANK", csv))["statementImport"]
    statuses = [(line["status"], line["note"]) for line in imp["lines"]]
    assert statuses[0][0] == "UNMATCHED" and "not guessed" in statuses[0][1]
    assert statuses[1][0] == "MATCHED"
    assert statuses[2][0] == "UNMATCHED" and statuses[3][0] == "UNMATCHED"
    assert imp["closingBalance"]["amount"] == "206.00"

    # The same statement again: the matched deposit is DUPLICATE.
    again = (await books.import_("BANK", csv))["statementImport"]
    assert [line["status"] for line in again["lines"]][1] == "DUPLICATE"

    # Unknown money in goes to suspense; money out cannot.
    before = await books.balances()
    d = await books.resolve(imp["id"], 3, "SUSPENSE", "unknown transfer, asking the bank")
    assert d["errors"] == [] and d["line"]["resolution"] == "SUSPENSE"
    assert d["line"]["matchedEntry"]["reference"] == "GIFT-9"
    after = await books.balances()
    assert after["1002"] - before["1002"] == Decimal("66.00")
    assert after["2209.02"] - before["2209.02"] == Decimal("66.00")
    d = await books.resolve(imp["id"], 4, "SUSPENSE", "x")
    assert d["errors"][0]["code"] == "INVALID_INPUT"
    # A statement listing GIFT-9 again finds the suspense entry already matched.
    third = await books.import_(
        "BANK", "date,reference,amount,balance\n2023/06/12,GIFT-9,66.00,1\n"
    )
    assert third["statementImport"]["lines"][0]["status"] == "DUPLICATE"


async def test_who_may_see_reconciliation(books: Books):
    api = books.api
    imp = (await books.import_("BANK", "date,reference,amount,balance\n2023/06/12,X,1.00,1.00\n"))[
        "statementImport"
    ]
    staff = await api.user("staff", "COMMUNITY_STAFF", community_id=_pk(books.community))
    for token, code in ((staff, "FORBIDDEN"), (None, "UNAUTHENTICATED")):
        body = await api.execute(RECON, {"f": books.fund, "at": None}, token=token)
        assert body["data"]["reconciliation"] is None
        assert body["errors"][0]["extensions"]["code"] == code
        body = await api.execute("query($i:ID!){node(id:$i){id}}", {"i": imp["id"]}, token=token)
        assert body["data"]["node"] is None
        d = await books.resolve(imp["id"], 1, "IGNORE", "x", token=token)
        assert d["errors"][0]["code"] == code
    body = await api.data(
        "query($i:ID!){node(id:$i){... on StatementImport{id source lines{status}}}}",
        {"i": imp["id"]},
        token=books.admin,
    )
    assert body["node"] == {"id": imp["id"], "source": "BANK", "lines": [{"status": "UNMATCHED"}]}
