"""A fund with finance staff, over the real GraphQL API, and small helpers for its money."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.api.client import GraphQLClient, make_client, new_key

IMPORT = """mutation($i: ImportStatementInput!){ importStatement(input:$i){
  statementImport{ id source payoutRef matchedCount unmatchedCount discrepancyCount duplicateCount
    closingBalance{amount} journalEntry{ id reference postings{ side amount{amount} account{code} } }
    lines{ lineNo reference status note amount{amount} fee{amount}
           matchedDonation{ id status } matchedEntry{ id reference } } }
  errors{ code message field } } }"""

RESOLVE = """mutation($i: ResolveStatementLineInput!){ resolveStatementLine(input:$i){
  line{ lineNo status resolution note matchedEntry{ id reference } }
  errors{ code message field } } }"""

RECON = """query($f: ID!, $at: DateTime){ reconciliation(fundId:$f, at:$at){
  at onlineUnsettled{amount} cashUndeposited{amount} ledgerBank{amount} statementBank{amount}
  unmatchedLines{ lineNo reference status } unsettledDonations{ id externalRef amount{amount} }
  balanced } }"""


@dataclass
class Books:
    api: GraphQLClient
    admin: str
    fin: str
    fund: str
    community: str

    async def donate(self, channel: str, amount: str, ref: str | None = None, **extra) -> dict:
        q = "mutation($i:RecordDonationInput!){recordDonation(input:$i){donation{id status} errors{code message}}}"
        i = {
            "fundId": self.fund,
            "channel": channel,
            "amount": {"amount": amount, "currency": "CNY"},
            "donorName": "张三丰",
            "idempotencyKey": new_key(),
            # Received before the statements' days (June 2023): a payout can settle only
            # money already received by its date, and the ledger checks it.
            "receivedAt": "2023-06-01T10:00:00+08:00",
            **extra,
        }
        if ref:
            i["externalRef"] = ref
        d = (await self.api.data(q, {"i": i}, token=self.fin))["recordDonation"]
        assert d["errors"] == [], d
        return d["donation"]

    async def count_cash(self, amount: str) -> None:
        q = "mutation($i:RecordCashCountInput!){recordCashCount(input:$i){errors{code message}}}"
        i = {
            "fundId": self.fund,
            "counted": {"amount": amount, "currency": "CNY"},
            "countedBy": ["王芳", "李强"],
            "idempotencyKey": new_key(),
        }
        assert (await self.api.data(q, {"i": i}, token=self.fin))["recordCashCount"]["errors"] == []

    async def deposit(self, amount: str, bank_ref: str) -> None:
        q = "mutation($i:DepositCashInput!){depositCash(input:$i){errors{code message}}}"
        i = {
            "fundId": self.fund,
            "amount": {"amount": amount, "currency": "CNY"},
            "bankRef": bank_ref,
            "idempotencyKey": new_key(),
        }
        assert (await self.api.data(q, {"i": i}, token=self.fin))["depositCash"]["errors"] == []

    async def import_(
        self,
        source: str,
        csv: str,
        payout_ref: str | None = None,
        *,
        key: str | None = None,
        token: str | None = "fin",
        fund: str | None = None,
    ) -> dict:
        i = {
            "fundId": fund or self.fund,
            "source": source,
            "csv": csv,
            "idempotencyKey": key or new_key(),
        }
        if payout_ref is not None:
            i["payoutRef"] = payout_ref
        tok = self.fin if token == "fin" else token
        return (await self.api.data(IMPORT, {"i": i}, token=tok))["importStatement"]

    async def resolve(
        self, import_id: str, line_no: int, resolution: str, note: str, *, key=None, token="fin"
    ) -> dict:
        i = {
            "statementImportId": import_id,
            "lineNo": line_no,
            "resolution": resolution,
            "note": note,
            "idempotencyKey": key or new_key(),
        }
        tok = self.fin if token == "fin" else token
        return (await self.api.data(RESOLVE, {"i": i}, token=tok))["resolveStatementLine"]

    async def recon(self, at: str | None = None) -> dict:
        d = await self.api.data(RECON, {"f": self.fund, "at": at}, token=self.fin)
        return d["reconciliation"]

    async def journal_size(self) -> int:
        q = "query($f:ID!){node(id:$f){... on Fund{journalEntries(first:100){edges{cursor}}}}}"
        d = await self.api.data(q, {"f": self.fund}, token=self.fin)
        return len(d["node"]["journalEntries"]["edges"])

    async def balances(self) -> dict[str, Decimal]:
        q = "query($f:ID!){node(id:$f){... on Fund{ledgerAccounts{code balance{amount}}}}}"
        d = await self.api.data(q, {"f": self.fund}, token=self.fin)
        return {a["code"]: Decimal(a["balance"]["amount"]) for a in d["node"]["ledgerAccounts"]}


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """Test users sign in in milliseconds: password hashing is not what is tested here."""
    from argon2 import PasswordHasher

    import resolvers.users

    monkeypatch.setattr(
        resolvers.users, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture
async def api(db_url):
    client = make_client(db_url)
    yield client
    await client.close()


@pytest.fixture
async def books(api) -> Books:
    admin = await api.user("admin", "ADMIN")
    fin = await api.user("fin", "FINANCE")
    d = await api.data(
        'mutation{createSubdistrict(input:{name:"建设路街道",district:"中原区"}){subdistrict{id}}}',
        token=admin,
    )
    sub = d["createSubdistrict"]["subdistrict"]["id"]
    d = await api.data(
        'mutation($s:ID!){createCommunity(input:{subdistrictId:$s,name:"儿童公园社区"}){community{id}}}',
        {"s": sub},
        token=admin,
    )
    com = d["createCommunity"]["community"]["id"]
    d = await api.data(
        'mutation($c:ID!){openFund(input:{code:"etgy",name:"儿童公园社区慈善基金",level:COMMUNITY,host:"郑州市慈善总会",communityId:$c}){fund{id}}}',
        {"c": com},
        token=admin,
    )
    return Books(api, admin, fin, d["openFund"]["fund"]["id"], com)
