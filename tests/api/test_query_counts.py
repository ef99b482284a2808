"""No N+1: nested queries cost the same number of SQL statements whatever the row count."""

from __future__ import annotations

from tests.api.client import new_key
from tests.api.world import RECORD
from tests.conftest import count_statements

DASHBOARD = """{ funds(first: 100) { edges { node { code balances { total { amount } available { amount } }
  community { name subdistrict { name } }
  donations(first: 10) { edges { node { amount { amount } donorName partner { name } campaign { name progress { total { amount } } } } } }
  ledgerAccounts { code balance { amount } } trialBalance { at balanced totalDebit { amount } } } } } }"""
PLACES = """{ communities(first: 100) { edges { node { name subdistrict { name } grids { name }
  partners(first: 10) { edges { node { name partnerships { community { name } } contributionTotals { volunteerHours }
  contributions(first: 5) { edges { node { kind hours } } } } } } } } } }"""


async def _grow(api, admin, fin, sub, n: int, start: int) -> None:
    for i in range(start, start + n):
        c = await api.data(
            'mutation($s:ID!,$n:String!){createCommunity(input:{subdistrictId:$s,name:$n,grids:["一","二"]}){community{id}}}',
            {"s": sub, "n": f"社区{i}"},
            token=admin,
        )
        cid = c["createCommunity"]["community"]["id"]
        p = await api.data(
            'mutation($c:ID!,$n:String!){registerPartner(input:{name:$n,kind:RESIDENT,communityId:$c,signedOn:"2023-05-01"}){partner{id}}}',
            {"c": cid, "n": f"居民{i}"},
            token=admin,
        )
        await api.data(
            'mutation($p:ID!,$k:String!){recordService(input:{partnerId:$p,hours:"1.5",description:"巡逻",idempotencyKey:$k}){errors{code}}}',
            {"p": p["registerPartner"]["partner"]["id"], "k": new_key()},
            token=admin,
        )
        f = await api.data(
            'mutation($c:ID!,$code:String!){openFund(input:{code:$code,name:"基金",level:COMMUNITY,host:"郑州市慈善总会",communityId:$c}){fund{id}}}',
            {"c": cid, "code": f"F{i}"},
            token=admin,
        )
        fid = f["openFund"]["fund"]["id"]
        camp = await api.data(
            'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"邻居节",startsAt:"2023-01-01T00:00:00+08:00"}){campaign{id}}}',
            {"f": fid},
            token=admin,
        )
        for j in range(3):
            inp = {
                "fundId": fid,
                "campaignId": camp["createCampaign"]["campaign"]["id"],
                "channel": "CASH",
                "amount": {"amount": f"{j + 1}.00", "currency": "CNY"},
                "donorName": "王五",
                "idempotencyKey": new_key(),
            }
            await api.data(RECORD, {"i": inp}, token=fin)


async def _count(api, query: str, token: str) -> int:
    with count_statements(api.state.engine) as counter:
        await api.data(query, token=token)
    return counter.count


async def test_nested_reads_cost_a_constant_number_of_statements(api):
    admin = await api.user("admin", "ADMIN")
    fin = await api.user("fin", "FINANCE")
    d = await api.data(
        'mutation{createSubdistrict(input:{name:"须水街道",district:"中原区"}){subdistrict{id}}}',
        token=admin,
    )
    sub = d["createSubdistrict"]["subdistrict"]["id"]
    await _grow(api, admin, fin, sub, 2, 0)
    small = (await _count(api, DASHBOARD, fin), await _count(api, PLACES, fin))
    await _grow(api, admin, fin, sub, 6, 2)
    large = (await _count(api, DASHBOARD, fin), await _count(api, PLACES, fin))
    assert large == small, f"statements grew with rows: {small} -> {large}"
    assert small[0] <= 12 and small[1] <= 12, small
