"""The ledger as finance staff read it through the API, and cursor paging."""

from __future__ import annotations

from tests.api.client import new_key

FUND = """query($f: ID!, $at: DateTime!, $after: String) { node(id: $f) { ... on Fund {
  balancesAt(at: $at) { total { amount } }
  trialBalance { balanced totalDebit { amount } totalCredit { amount } lines { account { code } debit { amount } credit { amount } } }
  ledgerAccounts { code type balance { amount } balanceAt(at: $at) { amount } postings(first: 5) { edges { node { side amount { amount } entry { sequence } } } } }
  journalEntries(first: 2, after: $after) { pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { sequence memo hash previousHash reversedBy { sequence } reverses { sequence } postings { side account { code } amount { amount } } } } } } } }"""


async def test_journal_accounts_and_history_read_back(world):
    api = world.api
    gift = await world.donate("BANK_TRANSFER", "100.00", receivedAt="2024-03-01T10:00:00+08:00")
    assert gift["errors"] == []
    await world.donate("CASH", "30.00")
    entry_id = (
        await api.data(
            "query($d:ID!){node(id:$d){... on Donation{journalEntry{id}}}}",
            {"d": gift["donation"]["id"]},
            token=world.fin,
        )
    )["node"]["journalEntry"]["id"]
    reverse = "mutation($i:ReverseJournalEntryInput!){reverseJournalEntry(input:$i){journalEntry{sequence} errors{code message}}}"
    # A donation's entry is the donation's: undone only through the donation.
    owned = await api.data(
        reverse,
        {"i": {"entryId": entry_id, "reason": "重复入账", "idempotencyKey": new_key()}},
        token=world.fin,
    )
    assert owned["reverseJournalEntry"]["journalEntry"] is None
    (error,) = owned["reverseJournalEntry"]["errors"]
    assert error["code"] == "INVALID_STATE" and "voidDonation" in error["message"]
    # A manual entry (here: the bank's interest, booked by hand in error) is undone by hand.
    manual = await api.data(
        "mutation($i:PostJournalEntryInput!){postJournalEntry(input:$i){journalEntry{id} errors{code}}}",
        {
            "i": {
                "fundId": world.fund,
                "memo": "利息",
                "effectiveAt": "2024-03-02T10:00:00+08:00",
                "postings": [
                    {
                        "accountCode": "1002",
                        "side": "DEBIT",
                        "amount": {"amount": "1.00", "currency": "CNY"},
                    },
                    {
                        "accountCode": "4101.02",
                        "side": "CREDIT",
                        "amount": {"amount": "1.00", "currency": "CNY"},
                    },
                ],
                "idempotencyKey": new_key(),
            }
        },
        token=world.fin,
    )
    rev = await api.data(
        reverse,
        {
            "i": {
                "entryId": manual["postJournalEntry"]["journalEntry"]["id"],
                "reason": "记错",
                "idempotencyKey": new_key(),
            }
        },
        token=world.fin,
    )
    assert rev["reverseJournalEntry"] == {"journalEntry": {"sequence": 4}, "errors": []}

    page1 = (
        await api.data(FUND, {"f": world.fund, "at": "2024-12-31T00:00:00+08:00"}, token=world.fin)
    )["node"]
    assert page1["balancesAt"]["total"]["amount"] == "101.00"  # the reversal came later
    tb = page1["trialBalance"]
    assert tb["balanced"] and tb["totalDebit"] == tb["totalCredit"] == {"amount": "130.00"}
    accounts = {a["code"]: a for a in page1["ledgerAccounts"]}
    assert len(accounts) == 16 and accounts["1002"]["type"] == "ASSET"
    assert (
        accounts["1002"]["balance"]["amount"] == "100.00"
        and accounts["1002"]["balanceAt"]["amount"] == "101.00"
    )
    sides = [p["node"]["side"] for p in accounts["1002"]["postings"]["edges"]]
    assert sides == ["DEBIT", "DEBIT", "CREDIT"]
    entries = page1["journalEntries"]
    assert [e["node"]["sequence"] for e in entries["edges"]] == [1, 2]
    assert entries["pageInfo"]["hasNextPage"] and not entries["pageInfo"]["hasPreviousPage"]
    one = entries["edges"][0]["node"]
    assert one["reversedBy"] is None and one["previousHash"] is None and len(one["hash"]) == 64
    assert entries["edges"][1]["node"]["previousHash"] == one["hash"]

    page2 = (
        await api.data(
            FUND,
            {
                "f": world.fund,
                "at": "2024-12-31T00:00:00+08:00",
                "after": entries["pageInfo"]["endCursor"],
            },
            token=world.fin,
        )
    )["node"]["journalEntries"]
    assert [e["node"]["sequence"] for e in page2["edges"]] == [3, 4]
    assert page2["edges"][0]["node"]["reversedBy"] == {"sequence": 4}
    assert page2["edges"][1]["node"]["reverses"] == {"sequence": 3}
    assert not page2["pageInfo"]["hasNextPage"] and page2["pageInfo"]["hasPreviousPage"]


async def test_donations_page_newest_first_backwards_and_filtered(world):
    api = world.api
    for i in range(5):
        await world.donate(
            "CASH" if i % 2 else "ONLINE",
            f"{i + 1}.00",
            receivedAt=f"2025-01-0{i + 1}T10:00:00+08:00",
        )
    q = """query($f:ID!,$first:Int,$last:Int,$before:String,$filter:DonationFilter){node(id:$f){... on Fund{
      donations(first:$first,last:$last,before:$before,filter:$filter){pageInfo{hasNextPage hasPreviousPage startCursor} edges{node{amount{amount}}}}}}}"""
    newest = (await api.data(q, {"f": world.fund, "first": 2}, token=world.fin))["node"][
        "donations"
    ]
    assert [e["node"]["amount"]["amount"] for e in newest["edges"]] == ["5.00", "4.00"]
    oldest = (await api.data(q, {"f": world.fund, "last": 2}, token=world.fin))["node"]["donations"]
    assert [e["node"]["amount"]["amount"] for e in oldest["edges"]] == ["2.00", "1.00"]
    assert oldest["pageInfo"]["hasPreviousPage"]
    before = (
        await api.data(
            q,
            {"f": world.fund, "last": 1, "before": oldest["pageInfo"]["startCursor"]},
            token=world.fin,
        )
    )["node"]["donations"]
    assert [e["node"]["amount"]["amount"] for e in before["edges"]] == ["3.00"]
    online = (
        await api.data(
            q,
            {
                "f": world.fund,
                "filter": {"channel": "ONLINE", "receivedFrom": "2025-01-02T00:00:00+08:00"},
            },
            token=world.fin,
        )
    )["node"]["donations"]
    assert [e["node"]["amount"]["amount"] for e in online["edges"]] == ["5.00", "3.00"]
    too_many = await api.execute(q, {"f": world.fund, "first": 101}, token=world.fin)
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    bad_cursor = await api.execute(
        q, {"f": world.fund, "last": 1, "before": "not-a-cursor"}, token=world.fin
    )
    assert bad_cursor["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_production_hides_the_schema_and_suggestions(db_url):
    from tests.api.client import make_client

    prod = make_client(db_url, env="production")
    try:
        intro = await prod.execute("{ __schema { types { name } } }")
        assert (intro["errors"] and "data" not in intro) or intro.get("data") is None
        typo = await prod.execute("{ subdistrictz { edges { node { name } } } }")
        assert "Did you mean" not in typo["errors"][0]["message"]
        page = await prod.http.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 405
    finally:
        await prod.close()
