"""reopenStatementLine: a resolution taken back, over the real API. The line is open
again as it was (UNMATCHED or DISCREPANCY, with the entry it was matched to), a SUSPENSE
booking is reversed by this operation and by no other, and a refusal writes nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from alembic import command
from sqlalchemy import text

from db.migrate import alembic_config
from tests.api.client import new_key
from tests.api.world import pk
from tests.reconciliation.conftest import Books

REOPEN = """mutation($i: ReopenStatementLineInput!){ reopenStatementLine(input:$i){
  line{ lineNo status resolution note matchedEntry{ id reference } }
  errors{ code message field } } }"""

COUNTS = """query($i:ID!){node(id:$i){... on StatementImport{
  unmatchedCount discrepancyCount lines{ lineNo status } }}}"""

GIFT = "date,reference,amount,balance\n2023/06/12,GIFT-9,66.00,66.00\n"


async def _reopen(books: Books, import_id: str, line_no: int, reason: str = "wrong call", *,
                  key: str | None = None, token: str | None = "fin") -> dict:  # fmt: skip
    i = {"statementImportId": import_id, "lineNo": line_no, "reason": reason,
         "idempotencyKey": key or new_key()}  # fmt: skip
    tok = books.fin if token == "fin" else token
    return (await books.api.data(REOPEN, {"i": i}, token=tok))["reopenStatementLine"]


async def _counts(books: Books, import_id: str) -> dict:
    return (await books.api.data(COUNTS, {"i": import_id}, token=books.fin))["node"]


async def test_an_ignored_line_is_open_again(books: Books):
    imp = (await books.import_("BANK", GIFT))["statementImport"]
    assert (await books.resolve(imp["id"], 1, "IGNORE", "fixed by hand"))["errors"] == []
    assert (await _counts(books, imp["id"]))["unmatchedCount"] == 0
    entries = await books.journal_size()

    key = new_key()
    d = await _reopen(books, imp["id"], 1, "not fixed after all", key=key)
    assert d["errors"] == []
    assert d["line"]["status"] == "UNMATCHED" and d["line"]["resolution"] is None
    assert d["line"]["note"] == "reopened by fin: not fixed after all"
    assert (await _counts(books, imp["id"]))["unmatchedCount"] == 1
    assert [line["lineNo"] for line in (await books.recon())["unmatchedLines"]] == [1]
    assert await books.journal_size() == entries  # an IGNORE booked nothing to take back

    # The same request again answers the same line; another is refused: it is open.
    again = await _reopen(books, imp["id"], 1, "not fixed after all", key=key)
    assert again == d
    d = await _reopen(books, imp["id"], 1)
    assert d["errors"][0]["code"] == "INVALID_STATE" and d["errors"][0]["field"] == [
        "input",
        "lineNo",
    ]
    # And it can be resolved again.
    assert (await books.resolve(imp["id"], 1, "IGNORE", "fixed now"))["errors"] == []


async def test_a_suspense_booking_is_reversed_by_reopening_only(books: Books):
    imp = (await books.import_("BANK", GIFT))["statementImport"]
    before = await books.balances()
    d = await books.resolve(imp["id"], 1, "SUSPENSE", "unknown transfer")
    suspense_entry = d["line"]["matchedEntry"]["id"]
    entries = await books.journal_size()

    # Neither a hand reversal nor undoing the import takes it back: both name the way.
    q = "mutation($i:ReverseJournalEntryInput!){reverseJournalEntry(input:$i){errors{code message}}}"
    i = {"entryId": suspense_entry, "reason": "x", "idempotencyKey": new_key()}
    refused = (await books.api.data(q, {"i": i}, token=books.fin))["reverseJournalEntry"]
    assert refused["errors"][0]["code"] == "INVALID_STATE"
    assert "reopenStatementLine" in refused["errors"][0]["message"]
    undo = "mutation($i:UndoStatementImportInput!){undoStatementImport(input:$i){errors{code message}}}"
    i = {"importId": imp["id"], "reason": "x", "idempotencyKey": new_key()}
    refused = (await books.api.data(undo, {"i": i}, token=books.fin))["undoStatementImport"]
    assert "reopenStatementLine" in refused["errors"][0]["message"]

    d = await _reopen(books, imp["id"], 1, "the bank says it is a refund of ours")
    assert d["errors"] == []
    assert d["line"]["status"] == "UNMATCHED" and d["line"]["matchedEntry"] is None
    assert await books.balances() == before  # bank and suspense as before the booking
    assert await books.journal_size() == entries + 1  # the reversal; nothing deleted
    audit = "query($f:ID!){node(id:$f){... on Fund{audit{ok findings{check message}}}}}"
    found = (await books.api.data(audit, {"f": books.fund}, token=books.fin))["node"]["audit"]
    assert found == {"ok": True, "findings": []}  # the records agree with the ledger
    # Now the import can be undone, and the line could go to suspense again.
    assert (await books.api.data(undo, {"i": {**i, "idempotencyKey": new_key()}},
                                 token=books.fin))["undoStatementImport"]["errors"] == []  # fmt: skip


async def test_a_discrepancy_gets_its_entry_back(books: Books):
    await books.donate("CASH", "100.00")
    await books.count_cash("100.00")
    await books.deposit("100.00", "DEP-1")
    csv = "date,reference,amount,balance\n2023/06/11,DEP-1,120.00,120.00\n"
    imp = (await books.import_("BANK", csv))["statementImport"]
    line = imp["lines"][0]
    assert line["status"] == "DISCREPANCY" and line["matchedEntry"]["reference"] == "DEP-1"
    deposit_entry = line["matchedEntry"]["id"]
    d = await books.resolve(imp["id"], 1, "SUSPENSE", "the extra 20 is unexplained")
    assert d["line"]["matchedEntry"]["id"] != deposit_entry

    d = await _reopen(books, imp["id"], 1)
    assert d["errors"] == []
    assert d["line"]["status"] == "DISCREPANCY"
    assert d["line"]["matchedEntry"]["id"] == deposit_entry
    counts = await _counts(books, imp["id"])
    assert (counts["discrepancyCount"], counts["unmatchedCount"]) == (1, 0)


async def test_suspense_money_moved_on_stays_booked(books: Books):
    imp = (await books.import_("BANK", GIFT))["statementImport"]
    await books.resolve(imp["id"], 1, "SUSPENSE", "unknown transfer")
    # Identified as a gift: moved from suspense to income by a manual entry.
    q = "mutation($i:PostJournalEntryInput!){postJournalEntry(input:$i){errors{code message}}}"
    posting = lambda code, side: {  # noqa: E731
        "accountCode": code, "side": side, "amount": {"amount": "66.00", "currency": "CNY"},
    }  # fmt: skip
    i = {
        "fundId": books.fund,
        "memo": "GIFT-9 was 李四's gift",
        "postings": [posting("2209.02", "DEBIT"), posting("4101.02", "CREDIT")],
        "idempotencyKey": new_key(),
    }
    assert (await books.api.data(q, {"i": i}, token=books.fin))["postJournalEntry"]["errors"] == []
    before, entries = await books.balances(), await books.journal_size()

    d = await _reopen(books, imp["id"], 1)
    assert d["line"] is None
    assert d["errors"][0]["code"] == "INVALID_STATE" and d["errors"][0]["field"] == [
        "input",
        "lineNo",
    ]
    assert "moved on" in d["errors"][0]["message"]
    assert await books.balances() == before and await books.journal_size() == entries
    assert before["2209.02"] == Decimal("0.00")


async def test_who_may_reopen_and_lines_resolved_before(books: Books):
    api = books.api
    imp = (await books.import_("BANK", GIFT + "2023/06/13,GIFT-10,1.00,67.00\n"))["statementImport"]
    await books.resolve(imp["id"], 1, "IGNORE", "x")
    await books.resolve(imp["id"], 2, "IGNORE", "y")
    # The fund's own community staff: they see the fund, but do not reconcile.
    staff = await api.user("staff", "COMMUNITY_STAFF", community_id=pk(books.community))
    for token, code in ((staff, "FORBIDDEN"), (None, "UNAUTHENTICATED")):
        d = await _reopen(books, imp["id"], 1, token=token)
        assert d["errors"][0]["code"] == code
    d = await _reopen(books, imp["id"], 99)
    assert d["errors"][0]["code"] == "NOT_FOUND" and d["errors"][0]["field"] == ["input", "lineNo"]

    # A line resolved before the former status was kept: refused, not guessed.
    async with api.state.engine.begin() as conn:
        await conn.execute(
            text("UPDATE statement_lines SET resolved_from = NULL WHERE line_no = 2")
        )
    d = await _reopen(books, imp["id"], 2)
    assert (
        d["errors"][0]["code"] == "INVALID_STATE" and "former status" in d["errors"][0]["message"]
    )
    assert [line["status"] for line in (await _counts(books, imp["id"]))["lines"]] == [
        "RESOLVED", "RESOLVED",
    ]  # fmt: skip


async def test_lines_resolved_before_migration_0013_are_reopened_where_it_can_tell(
    books: Books, db_url
):
    """Migration 0013 fills in what lines resolved before it were, where what they kept
    tells: an IGNORE (UNMATCHED, or DISCREPANCY when it names an entry or a donation), a
    SUSPENSE on a line that named a donation (a DISCREPANCY on that donation's entry).
    A SUSPENSE on a line that named nothing is left unknown, and refused."""
    await books.donate("CASH", "100.00")
    await books.count_cash("100.00")
    await books.deposit("100.00", "DEP-1")
    gift = await books.donate("BANK_TRANSFER", "50.00", "TRF-1")
    csv = (
        "date,reference,amount,balance\n"
        "2023/06/11,NOBODY,1.00,1.00\n"  # UNMATCHED, then IGNORE
        "2023/06/11,DEP-1,120.00,121.00\n"  # DISCREPANCY on the deposit, then IGNORE
        "2023/06/12,GIFT-9,66.00,187.00\n"  # UNMATCHED, then SUSPENSE
        "2023/06/12,TRF-1,55.00,242.00\n"  # DISCREPANCY on the gift, then SUSPENSE
    )
    imp = (await books.import_("BANK", csv))["statementImport"]
    trf_entry = imp["lines"][3]["matchedEntry"]["id"]
    assert imp["lines"][3]["matchedDonation"]["id"] == gift["id"]
    for line_no, resolution in ((1, "IGNORE"), (2, "IGNORE"), (3, "SUSPENSE"), (4, "SUSPENSE")):
        d = await books.resolve(imp["id"], line_no, resolution, "x")
        assert d["errors"] == [], d

    await asyncio.to_thread(command.downgrade, alembic_config(db_url), "0012")
    await asyncio.to_thread(command.upgrade, alembic_config(db_url), "head")

    statuses = {}
    for line_no in (1, 2, 4):
        d = await _reopen(books, imp["id"], line_no)
        assert d["errors"] == [], (line_no, d)
        statuses[line_no] = d["line"]["status"]
    assert statuses == {1: "UNMATCHED", 2: "DISCREPANCY", 4: "DISCREPANCY"}
    assert d["line"]["matchedEntry"]["id"] == trf_entry  # line 4's, put back
    d = await _reopen(books, imp["id"], 3)
    assert (
        d["errors"][0]["code"] == "INVALID_STATE" and "former status" in d["errors"][0]["message"]
    )
