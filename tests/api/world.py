"""A small world for API tests: two communities, a fund in each, users of every role."""

from __future__ import annotations

from dataclasses import dataclass

from resolvers.ids import parse_global_id
from tests.api.client import GraphQLClient, new_key

RECORD = """mutation($i: RecordDonationInput!) { recordDonation(input: $i) {
  donation { id status channel amount { amount currency } donorName externalRef }
  errors { code message field } } }"""
BALANCES = """query($id: ID!) { node(id: $id) { ... on Fund { balances {
  total { amount } cashOnHand { amount } bank { amount } onlineClearing { amount } inKind { amount } available { amount } } } } }"""


@dataclass
class World:
    api: GraphQLClient
    admin: str
    fin: str
    fin2: str
    staff: str
    other_staff: str
    partner: str
    subdistrict: str
    community: str
    other_community: str
    fund: str
    other_fund: str
    partner_id: str
    other_partner_id: str
    campaign: str

    async def donate(
        self,
        channel: str = "CASH",
        amount: str = "100.00",
        *,
        token: str | None = None,
        fund: str | None = None,
        **extra,
    ) -> dict:
        inp = {
            "fundId": fund or self.fund,
            "channel": channel,
            "amount": {"amount": amount, "currency": "CNY"},
            "idempotencyKey": new_key("don"),
            **extra,
        }
        if not ({"donorName", "partnerId", "anonymous"} & extra.keys()):
            inp["donorName"] = "张三丰"
        if channel == "ONLINE" and "externalRef" not in extra:
            inp["externalRef"] = new_key("WX")
        if channel == "IN_KIND" and "description" not in extra:
            inp["description"] = "大米 10 袋"
        return (await self.api.data(RECORD, {"i": inp}, token=token or self.fin))["recordDonation"]

    async def open_fund(self, code: str) -> str:
        """A new fund of the first community; its global ID."""
        d = await self.api.data(
            'mutation($c:ID!,$code:String!){openFund(input:{code:$code,name:"新基金",'
            'level:COMMUNITY,host:"郑州市慈善总会",communityId:$c}){fund{id} errors{code}}}',
            {"c": self.community, "code": code},
            token=self.admin,
        )
        assert d["openFund"]["errors"] == [], d
        return d["openFund"]["fund"]["id"]

    async def balances(self, fund: str | None = None) -> dict[str, str]:
        node = (await self.api.data(BALANCES, {"id": fund or self.fund}, token=self.fin))["node"]
        return {k: v["amount"] for k, v in node["balances"].items()}


def pk(global_id: str) -> int:
    return parse_global_id(global_id)[1]


async def build_world(api: GraphQLClient) -> World:
    admin = await api.user("admin", "ADMIN")
    d = await api.data(
        'mutation{createSubdistrict(input:{name:"建设路街道",district:"中原区"}){subdistrict{id}}}',
        token=admin,
    )
    sub = d["createSubdistrict"]["subdistrict"]["id"]
    ids = []
    for name in ("儿童公园社区", "百花社区"):
        d = await api.data(
            'mutation($s:ID!,$n:String!){createCommunity(input:{subdistrictId:$s,name:$n,grids:["第一网格"]}){community{id}}}',
            {"s": sub, "n": name},
            token=admin,
        )
        ids.append(d["createCommunity"]["community"]["id"])
    funds = []
    for code, community in (("ETGY", ids[0]), ("BH", ids[1])):
        d = await api.data(
            'mutation($c:ID!,$code:String!){openFund(input:{code:$code,name:"社区慈善基金",level:COMMUNITY,host:"郑州市慈善总会",communityId:$c}){fund{id} errors{code message}}}',
            {"c": community, "code": code},
            token=admin,
        )
        funds.append(d["openFund"]["fund"]["id"])
    partners = []
    for name, community in (("浦发银行百花路支行", ids[0]), ("爱酷体育", ids[1])):
        d = await api.data(
            'mutation($c:ID!,$n:String!){registerPartner(input:{name:$n,kind:BUSINESS,communityId:$c,signedOn:"2023-05-20"}){partner{id} errors{code}}}',
            {"c": community, "n": name},
            token=admin,
        )
        partners.append(d["registerPartner"]["partner"]["id"])
    d = await api.data(
        'mutation($f:ID!){createCampaign(input:{fundId:$f,name:"2023邻居节",startsAt:"2023-06-10T08:00:00+08:00",goal:{amount:"20000.00",currency:"CNY"}}){campaign{id} errors{code message}}}',
        {"f": funds[0]},
        token=admin,
    )
    campaign = d["createCampaign"]["campaign"]["id"]
    return World(
        api=api,
        admin=admin,
        fin=await api.user("fin", "FINANCE"),
        fin2=await api.user("fin2", "FINANCE"),
        staff=await api.user("staff", "COMMUNITY_STAFF", community_id=pk(ids[0])),
        other_staff=await api.user("staff2", "COMMUNITY_STAFF", community_id=pk(ids[1])),
        partner=await api.user("spdb", "PARTNER", partner_id=pk(partners[0])),
        subdistrict=sub,
        community=ids[0],
        other_community=ids[1],
        fund=funds[0],
        other_fund=funds[1],
        partner_id=partners[0],
        other_partner_id=partners[1],
        campaign=campaign,
    )
