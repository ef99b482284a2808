"""A fund's donation pages, read with one hand-written statement on a bare connection
(db/reads.py), give the same pages as the generic keyset pager (paginate_many) they
replaced: same rows, cursors and page flags, for every way of paging and filtering."""

from __future__ import annotations

import itertools
from datetime import datetime

from db.models import CampaignRow, DonationRow
from db.uow import read_session
from resolvers.donations import DonationQuery
from resolvers.loaders import DONATION_ORDER, Loaders
from resolvers.pagination import PageArgs, paginate_many
from schema.types import funds as funds_module
from tests.api.world import pk

# Several donations share an instant, so that the id breaks ties.
INSTANTS = ["2025-01-01T10:00:00+08:00"] * 3 + [
    f"2025-01-0{d}T10:00:00+08:00" for d in (2, 3, 3, 4, 5, 5, 6)
]


async def _fill(world) -> None:
    for i, at in enumerate(INSTANTS):
        extra = {"receivedAt": at}
        if i % 3 == 0:
            extra["campaignId"] = world.campaign
        if i % 4 == 1:
            extra["partnerId"] = world.partner_id
        await world.donate("ONLINE" if i % 2 else "CASH", f"{i + 1}.00", **extra)
    await world.donate("CASH", "9.00", fund=world.other_fund, receivedAt=INSTANTS[0])


def _queries(world) -> list[DonationQuery | None]:
    instant = datetime.fromisoformat("2025-01-03T10:00:00+08:00")
    return [
        None,
        DonationQuery(channel="ONLINE"),
        DonationQuery(status="SETTLED"),
        DonationQuery(campaign_id=pk(world.campaign)),
        DonationQuery(partner_id=pk(world.partner_id)),
        DonationQuery(received_from=instant),
        DonationQuery(received_to=instant, channel="CASH"),
    ]


def _conditions(q: DonationQuery) -> list:
    """The filter as SQLAlchemy conditions: the reference db/reads.py's SQL is checked
    against, written apart from it."""
    c = []
    if q.channel:
        c.append(DonationRow.channel == q.channel)
    if q.status:
        c.append(DonationRow.status == q.status)
    if q.campaign_id is not None:
        c.append(DonationRow.campaign_id == q.campaign_id)
    if q.partner_id is not None:
        c.append(DonationRow.partner_id == q.partner_id)
    if q.received_from is not None:
        c.append(DonationRow.received_at >= q.received_from)
    if q.received_to is not None:
        c.append(DonationRow.received_at <= q.received_to)
    return c


async def _generic(engine, fund_ids, args, query):
    where = _conditions(query) if query is not None else ()
    async with read_session(engine) as session:
        return await paginate_many(
            session, DonationRow, DonationRow.fund_id, fund_ids, DONATION_ORDER, args,
            where=where, plain=True,
        )  # fmt: skip


def _shape(page):
    return [r.id for r in page.rows], page.cursors, page.has_next, page.has_previous


async def test_bare_pages_match_the_generic_pager(world):
    await _fill(world)
    engine = world.api.state.engine
    funds = [pk(world.fund), pk(world.other_fund)]
    everything = (await _generic(engine, funds, PageArgs(first=100), None))[funds[0]]
    assert len(everything.rows) == len(INSTANTS)
    cursors = [None, everything.cursors[2], everything.cursors[-2]]
    sizes = [(None, None), (3, None), (None, 3), (0, None), (100, None)]
    checked = 0
    for query, (first, last), after, before in itertools.product(
        _queries(world), sizes, cursors, cursors
    ):
        args = PageArgs(first=first, last=last, after=after, before=before)
        expected = await _generic(engine, funds, args, query)
        with_campaigns = bool(checked % 2)  # the join changes no page
        keys = [(f, args, query, with_campaigns) for f in funds]
        got = await Loaders(engine).donation_pages.load_many(keys)
        for fund, page in zip(funds, got, strict=True):
            assert _shape(page) == _shape(expected[fund]), (args, query, fund)
            checked += bool(page.rows)
    assert checked > 100


async def test_a_page_with_campaigns_primes_them_as_stored(world):
    """A page read with its campaigns leaves each in the campaign loader, the same
    columns as a read of the campaign itself; a page read without them leaves none."""
    await _fill(world)
    engine = world.api.state.engine
    fund, args = pk(world.fund), PageArgs(first=100)
    bare = Loaders(engine)
    await bare.donation_pages.load((fund, args, None, False))
    assert bare.campaign.cache_map.get(pk(world.campaign)) is None
    loaders = Loaders(engine)
    page = await loaders.donation_pages.load((fund, args, None, True))
    assert {r.campaign_id for r in page.rows} == {pk(world.campaign), None}
    primed = loaders.campaign.cache_map.get(pk(world.campaign))
    assert primed.done()
    stored = await Loaders(engine).campaign.load(pk(world.campaign))
    for column in CampaignRow.__table__.c:
        assert getattr(primed.result(), column.name) == getattr(stored, column.name)


async def test_bare_rows_read_like_the_generic_rows(world):
    await _fill(world)
    engine = world.api.state.engine
    args = PageArgs(first=100)
    (expected,) = (await _generic(engine, [pk(world.fund)], args, None)).values()
    got = await Loaders(engine).donation_pages.load((pk(world.fund), args))
    columns = [c.name for c in DonationRow.__table__.c]
    for mine, theirs in zip(got.rows, expected.rows, strict=True):
        for name in columns:
            assert getattr(mine, name) == getattr(theirs, name), name
            assert type(getattr(mine, name)) is type(getattr(theirs, name)), name
        assert mine.received_at.utcoffset() == theirs.received_at.utcoffset()


FUND_DONATIONS = """
  a: donations(first: $n) { edges { cursor node { id amount { amount } channel
     campaign { id name } } } pageInfo { hasNextPage hasPreviousPage endCursor } }
  b: donations(last: 2) { edges { node { id donorName } } }
  ...Paged
  cash: donations(first: 3, filter: { channel: CASH }) { edges { node { id channel } } }
"""
FRAGMENT = "fragment Paged on Fund { b: donations(last: 2) { edges { node { receivedAt } } } }"


async def test_a_fund_list_answers_each_funds_donations_as_the_fund_does(world, monkeypatch):
    """A list of funds reads its funds' pages of donations in one batch, before their
    fields (Fund.preload_donations, answered by schema/executor.preloaded_by_node).
    Whatever the selection (aliases, a variable, a fragment merged into an alias,
    campaigns, a filter, which is left to the field), each fund's answer is what its
    own `donations` field gives it when the fund is reached by node(id)."""
    await _fill(world)
    preloaded = []
    keys_of = funds_module._donation_page_keys

    def recording(raw, nodes):
        keys = keys_of(raw, nodes)
        preloaded.append(sorted((n.alias.value, keys.get(id(n))) for n in nodes))
        return keys

    monkeypatch.setattr(funds_module, "_donation_page_keys", recording)
    listed = await world.api.data(
        f"query($n: Int!) {{ funds(first: 10) {{ edges {{ node {{ id {FUND_DONATIONS} }} }} }} }}"
        f" {FRAGMENT}",
        {"n": 4},
        token=world.fin,
    )
    # Preloaded: a with campaigns, b (its two nodes, one from the fragment) without;
    # the filtered page is left to the field.
    first4, last2 = PageArgs(first=4), PageArgs(last=2)
    assert preloaded == [
        [("a", (first4, None, True)), ("b", (last2, None, False)), ("b", (last2, None, False)),
         ("cash", None)]
    ]  # fmt: skip
    funds = {edge["node"]["id"]: edge["node"] for edge in listed["funds"]["edges"]}
    assert {world.fund, world.other_fund} <= funds.keys()
    for fund_id, from_list in funds.items():
        alone = await world.api.data(
            f"query($f: ID!, $n: Int!) {{ node(id: $f) {{ ... on Fund {{ id {FUND_DONATIONS} }} }} }}"
            f" {FRAGMENT}",
            {"f": fund_id, "n": 4},
            token=world.fin,
        )
        assert from_list == alone["node"], fund_id
    mine = funds[world.fund]
    assert len(mine["a"]["edges"]) == 4 and mine["a"]["pageInfo"]["hasNextPage"]
    assert any(edge["node"]["campaign"] for edge in mine["a"]["edges"])
    assert [set(edge["node"]) for edge in mine["b"]["edges"]] == [
        {"id", "donorName", "receivedAt"}
    ] * 2
    assert all(edge["node"]["channel"] == "CASH" for edge in mine["cash"]["edges"])
    assert funds[world.other_fund]["a"]["edges"], "the other fund's gift"
