"""Every role boundary, for queries (null + error code) and mutations (payload errors)."""

from __future__ import annotations

from tests.api.world import RECORD

FUND_NODE = "query($id:ID!){ node(id:$id){ id ... on Fund { code } ... on Partner { name } } }"


def codes(body: dict) -> set[str]:
    return {e["extensions"]["code"] for e in body.get("errors") or []}


async def test_login_gives_a_token_and_wrong_password_is_refused(world):
    api = world.api
    ok = await api.data(
        'mutation{login(input:{username:"fin",password:"correct horse battery staple"}){token user{username roles} errors{code}}}'
    )
    assert ok["login"]["token"] and ok["login"]["user"] == {"username": "fin", "roles": ["FINANCE"]}
    bad = await api.data(
        'mutation{login(input:{username:"fin",password:"wrong password!!"}){token errors{code message}}}'
    )
    assert bad["login"]["token"] is None and bad["login"]["errors"][0]["code"] == "UNAUTHENTICATED"
    nobody = await api.data(
        'mutation{login(input:{username:"nobody",password:"wrong password!!"}){token errors{code message}}}'
    )
    assert nobody["login"]["errors"][0]["message"] == bad["login"]["errors"][0]["message"]
    viewer = await api.data("{ viewer { username partner { name } } }", token=world.partner)
    assert viewer["viewer"] == {"username": "spdb", "partner": {"name": "浦发银行百花路支行"}}


async def test_anonymous_sees_places_but_not_partners_or_funds(world):
    api = world.api
    places = await api.data(
        "{ subdistricts { edges { node { name communities { edges { node { name grids { name } } } } } } } }"
    )
    assert places["subdistricts"]["edges"][0]["node"]["communities"]["edges"][0]["node"][
        "grids"
    ] == [{"name": "第一网格"}]
    # Lists a caller may see nothing of are empty (issue 14), not an error nulling the answer.
    assert (await api.data("{ partners { edges { node { name } } } }"))["partners"]["edges"] == []
    assert (await api.data("{ funds { edges { node { code } } } }"))["funds"]["edges"] == []
    bad_token = await api.execute("{ funds { edges { node { code } } } }", token="not-a-token")
    assert bad_token["data"]["funds"]["edges"] == []
    assert (await api.data(FUND_NODE, {"id": world.fund}))["node"] is None
    d = await api.data(
        RECORD,
        {
            "i": {
                "fundId": world.fund,
                "channel": "CASH",
                "amount": {"amount": "1.00", "currency": "CNY"},
                "anonymous": True,
                "idempotencyKey": "a1",
            }
        },
    )
    assert d["recordDonation"]["errors"][0]["code"] == "UNAUTHENTICATED"
    assert await world.balances() == {
        k: "0.00" for k in ("total", "cashOnHand", "bank", "onlineClearing", "inKind", "available")
    }


async def test_community_staff_is_held_to_its_community(world):
    api = world.api
    funds = await api.data("{ funds { edges { node { code } } } }", token=world.staff)
    assert [e["node"]["code"] for e in funds["funds"]["edges"]] == ["ETGY"]
    assert (await api.data(FUND_NODE, {"id": world.other_fund}, token=world.staff))["node"] is None
    own = await world.donate("CASH", token=world.staff)
    assert own["errors"] == [] and own["donation"]["status"] == "SETTLED"
    other = await world.donate("CASH", token=world.staff, fund=world.other_fund)
    assert other["errors"][0]["code"] == "NOT_FOUND" and other["errors"][0]["field"] == [
        "input",
        "fundId",
    ]
    online = await world.donate("ONLINE", token=world.staff)
    assert online["errors"][0]["code"] == "FORBIDDEN"
    partners = await api.data("{ partners { edges { node { name } } } }", token=world.staff)
    assert [e["node"]["name"] for e in partners["partners"]["edges"]] == ["浦发银行百花路支行"]
    assert (await api.data(FUND_NODE, {"id": world.other_partner_id}, token=world.staff))[
        "node"
    ] is None
    d = await api.data(
        'mutation($f:ID!){postJournalEntry(input:{fundId:$f,memo:"x",postings:[{accountCode:"1002",side:DEBIT,amount:{amount:"1",currency:"CNY"}},{accountCode:"4101.02",side:CREDIT,amount:{amount:"1",currency:"CNY"}}],idempotencyKey:"s1"}){errors{code}}}',
        {"f": world.fund},
        token=world.staff,
    )
    assert d["postJournalEntry"]["errors"][0]["code"] == "FORBIDDEN"
    created = await api.data(
        'mutation{createSubdistrict(input:{name:"x街道",district:"中原区"}){subdistrict{id} errors{code}}}',
        token=world.staff,
    )
    assert created["createSubdistrict"] == {"subdistrict": None, "errors": [{"code": "FORBIDDEN"}]}


async def test_partner_reads_only_its_own_record(world):
    api = world.api
    mine = await api.data(FUND_NODE, {"id": world.partner_id}, token=world.partner)
    assert mine["node"]["name"] == "浦发银行百花路支行"
    assert (await api.data(FUND_NODE, {"id": world.other_partner_id}, token=world.partner))[
        "node"
    ] is None
    assert (await api.data(FUND_NODE, {"id": world.fund}, token=world.partner))["node"] is None
    funds = await api.data("{ funds { edges { node { code } } } }", token=world.partner)
    assert funds["funds"]["edges"] == []
    listed = await api.data("{ partners { edges { node { name } } } }", token=world.partner)
    assert [e["node"]["name"] for e in listed["partners"]["edges"]] == ["浦发银行百花路支行"]
    gift = await world.donate("BANK_TRANSFER", "500.00", partnerId=world.partner_id)
    assert gift["errors"] == []
    seen = await api.data(
        FUND_NODE.replace(
            "... on Partner { name }", "... on Donation { amount { amount } donorName }"
        ),
        {"id": gift["donation"]["id"]},
        token=world.partner,
    )
    assert seen["node"]["amount"] == {"amount": "500.00"}
    contributions = await api.data(
        "query($id:ID!){node(id:$id){... on Partner{contributions{edges{node{kind value{amount}}}} contributionTotals{money{amount}}}}}",
        {"id": world.partner_id},
        token=world.partner,
    )
    assert contributions["node"]["contributionTotals"]["money"]["amount"] == "500.00"


async def test_approval_needs_finance_and_someone_else(world):
    api = world.api
    await world.donate("BANK_TRANSFER", "1000.00")
    req = await api.data(
        'mutation($f:ID!){requestDisbursement(input:{fundId:$f,amount:{amount:"300.00",currency:"CNY"},payee:"居委会",purpose:"慰问",idempotencyKey:"r1"}){disbursement{id status requestedBy} errors{code}}}',
        {"f": world.fund},
        token=world.staff,
    )
    disb = req["requestDisbursement"]["disbursement"]
    assert disb["status"] == "REQUESTED" and disb["requestedBy"] == "staff"
    decide = "mutation($i:DecideDisbursementInput!){%s(input:$i){disbursement{status approvedBy} errors{code}}}"
    by_staff = await api.data(
        decide % "approveDisbursement",
        {"i": {"disbursementId": disb["id"], "idempotencyKey": "a0"}},
        token=world.staff,
    )
    assert by_staff["approveDisbursement"]["errors"][0]["code"] == "FORBIDDEN"
    own = await api.data(
        'mutation($f:ID!){requestDisbursement(input:{fundId:$f,amount:{amount:"10.00",currency:"CNY"},payee:"p",purpose:"q",idempotencyKey:"r2"}){disbursement{id} errors{code}}}',
        {"f": world.fund},
        token=world.fin,
    )
    selfie = await api.data(
        decide % "approveDisbursement",
        {
            "i": {
                "disbursementId": own["requestDisbursement"]["disbursement"]["id"],
                "idempotencyKey": "a1",
            }
        },
        token=world.fin,
    )
    assert selfie["approveDisbursement"]["errors"][0]["code"] == "SELF_APPROVAL"
    ok = await api.data(
        decide % "approveDisbursement",
        {"i": {"disbursementId": disb["id"], "idempotencyKey": "a2"}},
        token=world.fin,
    )
    assert ok["approveDisbursement"] == {
        "disbursement": {"status": "APPROVED", "approvedBy": "fin"},
        "errors": [],
    }
    paid = await api.data(
        decide % "payDisbursement",
        {"i": {"disbursementId": disb["id"], "idempotencyKey": "p1", "note": "PAY-1"}},
        token=world.fin,
    )
    assert paid["payDisbursement"]["disbursement"]["status"] == "PAID"
    again = await api.data(
        decide % "rejectDisbursement",
        {"i": {"disbursementId": disb["id"], "idempotencyKey": "x1"}},
        token=world.fin,
    )
    assert again["rejectDisbursement"]["errors"][0]["code"] == "INVALID_STATE"
    assert (await world.balances())["bank"] == "700.00"


async def test_staff_does_not_see_a_partners_gift_to_another_community(world):
    api = world.api
    # The partner signs with the other community too, and gives to that community's fund.
    await api.data(
        'mutation($c:ID!){registerPartner(input:{name:"浦发银行百花路支行",kind:BUSINESS,communityId:$c,signedOn:"2023-06-01"}){errors{code}}}',
        {"c": world.other_community},
        token=world.admin,
    )
    gift = await world.donate(
        "BANK_TRANSFER",
        "700.00",
        fund=world.other_fund,
        partnerId=world.partner_id,
        externalRef="SPDB-9",
    )
    assert gift["errors"] == []
    q = "query($p:ID!){node(id:$p){... on Partner{contributions{edges{node{value{amount} donation{externalRef}}}}}}}"
    staff_view = await api.data(q, {"p": world.partner_id}, token=world.staff)
    assert [e["node"]["donation"] for e in staff_view["node"]["contributions"]["edges"]] == [None]
    own_view = await api.data(q, {"p": world.partner_id}, token=world.partner)
    assert [e["node"]["donation"] for e in own_view["node"]["contributions"]["edges"]] == [
        {"externalRef": "SPDB-9"}
    ]


async def test_a_communitys_partner_list_shows_the_viewer_only_partners_it_may_see(world):
    api = world.api
    q = "query($c:ID!){node(id:$c){... on Community{partners(first:1){pageInfo{hasNextPage} edges{node{name}}}}}}"
    # 爱酷体育 signs with the staff's community too; the other community now has two partners.
    await api.data(
        'mutation($c:ID!){registerPartner(input:{name:"爱酷体育",kind:BUSINESS,communityId:$c,signedOn:"2023-06-01"}){errors{code}}}',
        {"c": world.community},
        token=world.admin,
    )
    await api.data(
        'mutation($c:ID!){registerPartner(input:{name:"正商金城世家物业",kind:BUSINESS,communityId:$c,signedOn:"2023-06-01"}){errors{code}}}',
        {"c": world.other_community},
        token=world.admin,
    )
    staff = (await api.data(q, {"c": world.other_community}, token=world.staff))["node"]["partners"]
    # One visible partner fills the page of one, and nothing visible follows it.
    assert staff == {"pageInfo": {"hasNextPage": False}, "edges": [{"node": {"name": "爱酷体育"}}]}
    fin = (await api.data(q, {"c": world.other_community}, token=world.fin))["node"]["partners"]
    assert fin["pageInfo"]["hasNextPage"] and len(fin["edges"]) == 1
    partner = (await api.data(q, {"c": world.other_community}, token=world.partner))["node"][
        "partners"
    ]
    assert partner["edges"] == []
