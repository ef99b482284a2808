"""A whole month of a fund, reconciled through the GraphQL API (issue 5's "done when")."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.reconciliation.conftest import Books


# The payout entry is dated by the file (its last line's day): today, so that it follows
# the donations it settles, as it does in life.
# Read when the test runs, not at import: a run may cross midnight in Asia/Shanghai.
def _settlement() -> str:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    return f"""date,reference,amount,fee
{today},WX001,100.00,0.60
{today},WX002,50.00,0.30
{today},WX003,210.00,1.26
{today},ALI-UNKNOWN,20.00,0.12
"""


# net 99.40 + 49.70 + 208.74 + 19.88 = 377.72
BANK = """date,reference,amount,balance
2023/06/10,TRF-0231,500.00,500.00
2023/06/11,DEP-0611,300.00,800.00
2023/06/12,PO-0612,377.72,1177.72
"""


async def _clearing_matches_unsettled(books: Books, at: str | None = None) -> dict:
    r = await books.recon(at)
    unsettled = sum(Decimal(d["amount"]["amount"]) for d in r["unsettledDonations"])
    assert Decimal(r["onlineUnsettled"]["amount"]) == unsettled, r
    return r


async def test_a_month_reconciles(books: Books):
    r = await _clearing_matches_unsettled(books)
    assert r["statementBank"] is None and r["balanced"] is False

    # Online donations through the mini program.
    for ref, amount in [
        ("WX001", "100.00"),
        ("WX002", "50.00"),
        ("WX003", "200.00"),
        ("WX004", "30.00"),
        ("WX005", "88.00"),
    ]:
        await books.donate("ONLINE", amount, ref)
    r = await _clearing_matches_unsettled(books)
    assert r["onlineUnsettled"]["amount"] == "468.00"
    assert len(r["unsettledDonations"]) == 5
    before_settlement = datetime.now(UTC).isoformat()

    # The donation box, counted by two and deposited; a partner's bank transfer.
    await books.donate("CASH", "300.00")
    r = await _clearing_matches_unsettled(books)
    assert r["cashUndeposited"]["amount"] == "300.00"
    await books.count_cash("300.00")
    await books.deposit("300.00", "DEP-0611")
    await books.donate("BANK_TRANSFER", "500.00", "TRF-0231")
    r = await _clearing_matches_unsettled(books)
    assert r["cashUndeposited"]["amount"] == "0.00"
    assert r["ledgerBank"]["amount"] == "800.00"

    # The channel's settlement file: two settle, one discrepancy, one unknown.
    d = await books.import_("PAYMENT_CHANNEL", _settlement(), "PO-0612")
    assert d["errors"] == []
    imp = d["statementImport"]
    assert [line["status"] for line in imp["lines"]] == [
        "MATCHED",
        "MATCHED",
        "DISCREPANCY",
        "UNMATCHED",
    ]
    assert (imp["matchedCount"], imp["discrepancyCount"], imp["unmatchedCount"]) == (1 + 1, 1, 1)
    assert imp["lines"][0]["matchedDonation"]["status"] == "SETTLED"
    assert imp["lines"][2]["matchedDonation"]["status"] == "RECEIVED"
    assert "200.00" in imp["lines"][2]["note"]
    entry = imp["journalEntry"]
    assert entry["reference"] == "PO-0612"
    assert imp["lines"][0]["matchedEntry"]["id"] == entry["id"]
    posted = {(p["account"]["code"], p["side"]): p["amount"]["amount"] for p in entry["postings"]}
    assert posted == {
        ("1002", "DEBIT"): "377.72",
        ("5301", "DEBIT"): "0.90",
        ("1009.01", "CREDIT"): "150.00",
        ("2209.02", "CREDIT"): "228.62",
    }
    r = await _clearing_matches_unsettled(books)
    assert r["onlineUnsettled"]["amount"] == "318.00"
    assert sorted(d["externalRef"] for d in r["unsettledDonations"]) == ["WX003", "WX004", "WX005"]
    assert r["ledgerBank"]["amount"] == "1177.72"
    assert r["balanced"] is False  # no bank statement yet

    # The bank statement: every line matches.
    d = await books.import_("BANK", BANK)
    assert d["errors"] == []
    imp_bank = d["statementImport"]
    assert [line["status"] for line in imp_bank["lines"]] == ["MATCHED"] * 3
    assert imp_bank["closingBalance"]["amount"] == "1177.72"
    assert imp_bank["lines"][0]["matchedDonation"] is not None  # the bank transfer
    assert imp_bank["lines"][2]["matchedEntry"]["id"] == entry["id"]  # the payout
    r = await _clearing_matches_unsettled(books)
    assert r["statementBank"]["amount"] == r["ledgerBank"]["amount"] == "1177.72"
    assert [(line["reference"], line["status"]) for line in r["unmatchedLines"]] == [
        ("WX003", "DISCREPANCY"),
        ("ALI-UNKNOWN", "UNMATCHED"),
    ]
    assert r["balanced"] is False  # two lines still open
    before_resolving = datetime.now(UTC).isoformat()

    # Finance staff sort the two lines out.
    d = await books.resolve(
        imp["id"], 3, "IGNORE", "channel charged 210; corrected by manual entry"
    )
    assert d["errors"] == [] and d["line"]["status"] == "RESOLVED"
    r = await books.recon()
    assert r["balanced"] is False
    d = await books.resolve(imp["id"], 4, "IGNORE", "belongs to the subdistrict fund")
    assert d["line"]["resolution"] == "IGNORE"
    r = await _clearing_matches_unsettled(books)
    assert r["unmatchedLines"] == [] and r["balanced"] is True

    # As it stood earlier: the view at an instant.
    r = await _clearing_matches_unsettled(books, before_settlement)
    assert r["onlineUnsettled"]["amount"] == "468.00" and r["statementBank"] is None
    r = await _clearing_matches_unsettled(books, before_resolving)
    assert len(r["unmatchedLines"]) == 2 and r["balanced"] is False

    # A disbursement paid that the bank has not reported yet breaks the balance again.
    await books.donate("BANK_TRANSFER", "1.00", "TRF-late")
    r = await books.recon()
    assert r["balanced"] is False and r["ledgerBank"]["amount"] == "1178.72"
