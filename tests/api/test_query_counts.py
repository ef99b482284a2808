"""No N+1: nested queries cost the same number of SQL statements whatever the row count."""

from __future__ import annotations

import asyncio

from tests.api.client import new_key
from tests.api.world import RECORD
from tests.conftest import count_round_trips, count_statements

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


async def test_record_donation_sends_a_fixed_short_list_of_statements(world):
    """The write hot path. Into a fund this process has seen: ONE round trip, no BEGIN
    or COMMIT (a statement that checks the key and ONLINE ref are new, locks the book,
    applies the rule book and writes the entry, the donation and its key, committing
    on its own). Into a fund not seen yet: a read first (the fund, key and ONLINE ref),
    in a read-only transaction of its own. After either, one announcement of the new
    head (db/announce.py), on a connection of its own."""
    engine = world.api.state.engine
    mutation = (
        "mutation($i:RecordDonationInput!){recordDonation(input:$i)"
        "{donation{id status} errors{code}}}"
    )

    def online(fund: str) -> dict:
        return {
            "fundId": fund,
            "channel": "ONLINE",
            "amount": {"amount": "9.00", "currency": "CNY"},
            "donorName": "王五",
            "externalRef": new_key("WX"),
            "idempotencyKey": new_key("don"),
        }

    async def sent_by(inp: dict) -> list[str]:
        with count_round_trips(engine) as counter:
            # What a payment callback asks for back: no field that needs another read.
            data = await world.api.data(mutation, {"i": inp}, token=world.fin)
        await asyncio.sleep(0)  # asyncpg hands logged queries over with call_soon
        result = data["recordDonation"]
        assert result["errors"] == [] and result["donation"]["status"] == "RECEIVED"
        sent = [" ".join(s.split())[:60] for s in counter.statements]
        told = [s for s in sent if s.startswith("SET LOCAL synchronous_commit TO off")]
        assert len(told) == 1 and sent[-1] == told[0], sent  # after the write
        return sent[:-1]

    other = await world.open_fund("QC-NEW")
    await world.donate("ONLINE")  # the viewer is now cached, as for any busy client
    first = await sent_by(online(other))  # a fund this process has not seen yet
    again = await sent_by(online(other))
    work = [s for s in first if s.split()[0].rstrip(";") not in ("BEGIN", "COMMIT", "ROLLBACK")]
    assert len(first) <= 4 and len(work) == 2, "\n".join(first)
    assert work[0].startswith("SELECT f.id") and "ledger_post(" in work[1], first
    assert len(again) == 1 and "ledger_post(" in again[0], again
    # A campaign's donation: the campaign is read the first time only.
    in_campaign = await sent_by(online(world.fund) | {"campaignId": world.campaign})
    in_campaign_again = await sent_by(online(world.fund) | {"campaignId": world.campaign})
    assert len(in_campaign) <= 5, "\n".join(in_campaign)
    assert any(s.startswith("SELECT campaigns") for s in in_campaign), in_campaign
    assert len(in_campaign_again) == 1, in_campaign_again

    # A replay with the same key writes nothing.
    key = new_key("replay")
    inp = {
        "fundId": world.fund,
        "channel": "CASH",
        "amount": {"amount": "5.00", "currency": "CNY"},
        "donorName": "李四",
        "idempotencyKey": key,
    }
    first = await world.api.data(RECORD, {"i": inp}, token=world.fin)
    before = await world.balances()
    with count_round_trips(engine) as counter:
        replayed = await world.api.data(RECORD, {"i": inp}, token=world.fin)
    await asyncio.sleep(0)
    assert replayed == first
    assert await world.balances() == before
    writes = [s for s in counter.statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == [], writes
    # The one-statement write finds the key taken and calls nothing; the careful path
    # then reads the key and the donation it names, in one read-only transaction.
    assert len(counter.statements) <= 5, counter.statements


async def test_a_page_of_donations_reads_its_campaigns_with_it(world):
    """A page of donations reads their campaigns in its own statement (a join): asking
    for campaigns (through a fragment too) costs no statement more than not asking."""
    for _ in range(3):
        assert (await world.donate("CASH", campaignId=world.campaign))["errors"] == []
    await world.donate("CASH")  # one without a campaign
    plain = "query($f:ID!){node(id:$f){... on Fund{donations(first:10){edges{node{id}}}}}}"
    with_campaign = (
        "query($f:ID!){node(id:$f){... on Fund{donations(first:10){edges{node{id ...D}}}}}}"
        " fragment D on Donation { campaign { id name } }"
    )
    engine = world.api.state.engine
    await world.api.data(plain, {"f": world.fund}, token=world.fin)  # warm the viewer
    with count_statements(engine) as without:
        await world.api.data(plain, {"f": world.fund}, token=world.fin)
    with count_statements(engine) as counted:
        data = await world.api.data(with_campaign, {"f": world.fund}, token=world.fin)
    assert counted.count == without.count, counted.statements
    assert any("JOIN campaigns" in statement for statement in counted.statements)
    campaigns = [e["node"]["campaign"] for e in data["node"]["donations"]["edges"]]
    assert campaigns.count(None) == 1
    assert {c["id"] for c in campaigns if c} == {world.campaign}


async def test_donation_fields_outside_a_fund_list_still_load_what_they_need(world):
    """Reached by node(id) rather than through its fund's list, a donation's campaign and
    donor name take the awaited path: the campaign is loaded, the donor name checked."""
    gift = await world.donate("CASH", campaignId=world.campaign, donorName="赵六")
    q = "query($d:ID!){node(id:$d){... on Donation{donorName campaign{id}}}}"
    node = (await world.api.data(q, {"d": gift["donation"]["id"]}, token=world.fin))["node"]
    assert node == {"donorName": "赵六", "campaign": {"id": world.campaign}}
    # Staff of another community may not see the fund: the donation is not there at all.
    other = await world.api.data(q, {"d": gift["donation"]["id"]}, token=world.other_staff)
    assert other["node"] is None
