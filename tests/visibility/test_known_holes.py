"""The holes issue 14 names, each closed: visibility follows the object, not the path."""

from __future__ import annotations

from tests.visibility.seed import seed

OWN_GIFT = """query($id: ID!) { node(id: $id) { ... on Donation { amount { amount }
  publicFund { code name host } journalEntry { postings { account { fund { code
  balances { total { amount } } donations(first: 5) { edges { node { donorName } } } } } } } } } }"""
PARTNER_OF_GIFT = """query($id: ID!) { node(id: $id) { ... on Donation { donorName
  partner { name partnerships { certificateNo } contributionTotals { money { amount } } } } } }"""
GIFTS_OF_PARTNER = """query($id: ID!) { node(id: $id) { ... on Partner {
  contributions(first: 10) { edges { node { kind donation { id } } } } } } }"""
EMPTY_LISTS = """{ funds { edges { node { id } } } partners { edges { node { id } } }
  subdistricts { edges { node { name funds { edges { node { id } } }
  communities { edges { node { name partners { edges { node { id } } } } } } } } } }"""


def codes(body: dict) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors") or []}


async def test_a_partner_reads_its_gift_and_the_funds_public_face_not_the_ledger(world):
    seeded = await seed(world)
    gift = seeded.donations["partnerOwn"]
    face = (
        "query($id:ID!){node(id:$id){... on Donation{amount{amount} publicFund{code name host}}}}"
    )
    seen = await world.api.data(face, {"id": gift}, token=world.partner)
    assert seen["node"] == {
        "amount": {"amount": "500.00"},
        "publicFund": {"code": "ETGY", "name": "社区慈善基金", "host": "郑州市慈善总会"},
    }
    body = await world.api.execute(OWN_GIFT, {"id": gift}, token=world.partner)
    assert body["data"] == {"node": None} and codes(body) == {"NOT_FOUND"}
    # FINANCE, who may read the fund, follows the same path to the end.
    fin = await world.api.data(OWN_GIFT, {"id": gift}, token=world.fin)
    funds = {p["account"]["fund"]["code"] for p in fin["node"]["journalEntry"]["postings"]}
    assert funds == {"ETGY"}


async def test_staff_see_a_partner_and_its_gifts_only_within_their_community(world):
    seeded = await seed(world)
    # 爱酷体育 signed with both communities and gave to both funds.
    here, there = seeded.donations["otherPartner"], seeded.donations["otherPartnerHome"]
    for staff, mine, theirs in ((world.staff, here, there), (world.other_staff, there, here)):
        seen = await world.api.data(PARTNER_OF_GIFT, {"id": mine}, token=staff)
        assert seen["node"]["partner"]["name"] == "爱酷体育"
        assert (await world.api.data(PARTNER_OF_GIFT, {"id": theirs}, token=staff))["node"] is None
        gifts = await world.api.data(GIFTS_OF_PARTNER, {"id": world.other_partner_id}, token=staff)
        edges = gifts["node"]["contributions"]["edges"]
        found = sorted(
            ((e["node"]["kind"], (e["node"]["donation"] or {}).get("id")) for e in edges), key=str
        )
        # Its gift to the other community's fund is a contribution they see; the donation not.
        expected = [("MONEY", mine), ("MONEY", None), ("VOLUNTEER_SERVICE", None)]
        assert found == sorted(expected, key=str)


async def test_lists_a_viewer_may_see_nothing_of_are_empty(world):
    for token in (None, world.partner):
        body = await world.api.execute(EMPTY_LISTS, token=token)
        assert "errors" not in body, body
        data = body["data"]
        assert data["funds"]["edges"] == []
        subdistrict = data["subdistricts"]["edges"][0]["node"]
        assert subdistrict["funds"]["edges"] == []
        communities = [e["node"] for e in subdistrict["communities"]["edges"]]
        assert [c["name"] for c in communities] == ["儿童公园社区", "百花社区"]
        partners = [len(c["partners"]["edges"]) for c in communities]
        assert partners == ([0, 0] if token is None else [1, 0])
        assert len(data["partners"]["edges"]) == (0 if token is None else 1)


async def test_anonymous_node_answers_a_public_campaign_and_nothing_private(world):
    query = """query($id: ID!) { node(id: $id) { id ... on Campaign { name
      progress { donationCount } publicFund { code } } } }"""
    seen = await world.api.data(query, {"id": world.campaign})
    assert seen["node"] == {
        "id": world.campaign,
        "name": "2023邻居节",
        "progress": {"donationCount": 0},
        "publicFund": {"code": "ETGY"},
    }
    fund = await world.api.execute(
        "query($id:ID!){node(id:$id){... on Campaign{fund{code}}}}", {"id": world.campaign}
    )
    assert fund["data"] == {"node": None} and codes(fund) == {"NOT_FOUND"}
    for private in (world.fund, world.partner_id):
        assert (await world.api.data("query($id:ID!){node(id:$id){id}}", {"id": private}))[
            "node"
        ] is None
