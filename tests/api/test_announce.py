"""Journal heads and campaign changes are announced after the commit, not inside the
writing transaction (db/announce.py): nothing for a rolled-back write, one statement for
writes that commit together, and the listener's own check of the heads when an
announcement was lost."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest

from db.announce import (
    CAMPAIGN_CHANNEL,
    JOURNAL_CHANNEL,
    MAX_PAYLOAD,
    Announcer,
    announcer,
    told_of,
)
from db.engine import driver_connection, make_engine
from db.uow import unit_of_work
from ledger import store
from ledger.entries import PostingSpec
from resolvers.live import CHECK_EVERY, CampaignFeed, listen_dsn
from tests.api.test_public_reads import heard, listening
from tests.api.world import World, pk

CASH = [PostingSpec("1001", "DEBIT", 500, "CNY"), PostingSpec("4101.01", "CREDIT", 500, "CNY")]


@contextlib.asynccontextmanager
async def notifications(world: World):
    """(channel, payload) of every NOTIFY on the two channels, in the order heard."""
    dsn, hosts = listen_dsn(world.api.state.engine.url)
    conn = await asyncpg.connect(dsn, **hosts)
    heard: list[tuple[str, str]] = []

    def on(_conn, _pid, channel, payload):
        heard.append((channel, payload))

    await conn.add_listener(JOURNAL_CHANNEL, on)
    await conn.add_listener(CAMPAIGN_CHANNEL, on)
    try:
        yield heard
    finally:
        await conn.close()


async def settle(conn_heard: list, count: int) -> None:
    for _ in range(200):
        if len(conn_heard) >= count:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # and nothing more


async def post_without_announcing(world: World) -> int:
    """An entry written by the rule book alone, on a connection of its own (as psql
    would, or a worker killed after its commit): its sequence."""
    dsn, hosts = listen_dsn(world.api.state.engine.url)
    conn = await asyncpg.connect(dsn, **hosts)
    try:
        return await conn.fetchval(
            "SELECT entry_sequence FROM ledger_post($1, 'manual', NULL, 'raw', 'fin', NULL,"
            " $2, $3, $4, $5)",
            pk(world.fund),
            [p.account_code for p in CASH],
            [p.side for p in CASH],
            [p.amount_fen for p in CASH],
            [p.currency for p in CASH],
        )
    finally:
        await conn.close()


async def test_the_rule_book_itself_notifies_nothing(world: World):
    async with notifications(world) as heard:
        await post_without_announcing(world)
        await settle(heard, 1)
    assert heard == []


async def test_a_committed_unit_of_work_announces_its_heads_after_the_commit(world: World):
    engine = world.api.state.engine
    fund = pk(world.fund)
    async with notifications(world) as heard:
        with pytest.raises(RuntimeError):
            async with unit_of_work(engine) as session:
                await store.post_entry(session, fund, CASH, memo="undone", recorded_by="fin")
                raise RuntimeError("rolled back")
        async with unit_of_work(engine) as session:
            first = await store.post_entry(session, fund, CASH, memo="kept", recorded_by="fin")
            second = await store.post_entry(session, fund, CASH, memo="kept", recorded_by="fin")
            # Not yet: the transaction is open.
            await asyncio.sleep(0.1)
            assert heard == []
        await settle(heard, 1)
    # The rolled-back write told no one; the two kept ones, one head, the later.
    assert second.sequence == first.sequence + 1
    assert heard == [(JOURNAL_CHANNEL, f"{fund}:{second.sequence}")]


async def test_a_donation_announces_its_head_then_its_campaign(world: World):
    async with notifications(world) as heard:
        done = await world.donate("CASH", campaignId=world.campaign)
        assert done["errors"] == []
        await settle(heard, 2)
    fund = pk(world.fund)
    assert [c for c, _ in heard] == [JOURNAL_CHANNEL, CAMPAIGN_CHANNEL], heard
    assert heard[0][1].startswith(f"{fund}:") and heard[1][1] == str(pk(world.campaign))


async def test_writes_that_commit_together_share_one_send(world: World):
    told = Announcer(world.api.state.engine)  # its own, so that its count is this test's
    async with notifications(world) as heard:
        results = await asyncio.gather(
            *(told.announce({900_000 + i: i + 1}, [800_000 + i % 3]) for i in range(50))
        )
        await settle(heard, 2)
        # One more, alone: a send of its own.
        assert await told.announce({900_050: 51}) is True
        await settle(heard, 3)
    assert results == [True] * 50
    assert told.sends == 2
    # One payload per channel, the heads before the campaigns.
    heads = ",".join(f"{900_000 + i}:{i + 1}" for i in range(50))
    campaigns = ",".join(str(800_000 + i) for i in range(3))
    assert heard == [
        (JOURNAL_CHANNEL, heads),
        (CAMPAIGN_CHANNEL, campaigns),
        (JOURNAL_CHANNEL, "900050:51"),
    ]


async def test_a_send_of_many_heads_splits_them_into_payloads_notify_takes(world: World):
    many = {fund: 10**12 + fund for fund in range(10**11, 10**11 + 2_000)}
    async with notifications(world) as heard:
        assert await Announcer(world.api.state.engine).announce(many) is True
        await settle(heard, 6)
    assert {c for c, _ in heard} == {JOURNAL_CHANNEL}
    assert all(len(p.encode()) <= MAX_PAYLOAD for _, p in heard) and len(heard) > 1
    items = [item for _, p in heard for item in told_of(p)]
    assert items == [f"{fund}:{seq}" for fund, seq in sorted(many.items())]


async def test_a_send_leaves_the_writers_connection_durable(world: World):
    async with driver_connection(world.api.state.engine) as conn:
        assert await Announcer(world.api.state.engine).announce({900_200: 1}, via=conn)
        # The send's own transaction waits for no flush; the next write on this
        # pooled connection must.
        assert await conn.fetchval("SHOW synchronous_commit") == "on"


async def test_a_failed_send_fails_no_write_and_wakes_local_subscribers():
    # Nothing listens on port 1: the connection is refused at once.
    engine = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    try:
        assert await announcer(engine).announce({1: 1}) is False
        feed = CampaignFeed(engine)
        async with feed.subscribe(7) as queue:
            await feed.publish(7)
            assert queue.get_nowait() == 7
    finally:
        await engine.dispose()


async def test_a_lost_announcement_is_heard_by_the_listeners_own_check(world: World):
    async with listening(world) as reads:
        assert (await world.donate("CASH"))["errors"] == []
        await heard(reads, world.fund, 1)
        known = reads.heads.known(pk(world.fund))
        # A write that announces nothing (as if its worker died after the commit).
        assert await post_without_announcing(world) == known + 1
        for _ in range(300):  # the check runs every CHECK_EVERY seconds
            if reads.heads.known(pk(world.fund)) == known + 1:
                break
            await asyncio.sleep(0.01)
        assert reads.heads.known(pk(world.fund)) == known + 1


async def test_a_lost_announcement_wakes_the_funds_subscribed_campaigns(world: World):
    """A write whose announcement was lost (its worker died after the commit) moves its
    fund's head unannounced: the listener's check wakes the subscribers of that fund's
    campaigns within two checks, once. An announced write wakes them once, by its
    announcement, and the check adds nothing."""
    feed = world.api.state.events
    campaign = pk(world.campaign)
    woken: list[float] = []
    dispatch = feed._dispatch

    def counting(campaign_id: int) -> None:
        woken.append(asyncio.get_running_loop().time())
        dispatch(campaign_id)

    feed._dispatch = counting
    async with listening(world), feed.subscribe(campaign) as queue:
        await asyncio.sleep(CHECK_EVERY * 1.5)  # the first check sees where the fund stands
        woken.clear()
        assert (await world.donate("CASH", campaignId=world.campaign))["errors"] == []
        assert await asyncio.wait_for(queue.get(), 5) == campaign
        await asyncio.sleep(CHECK_EVERY * 2.5)
        assert len(woken) == 1, woken  # the announcement only

        woken.clear()
        written = asyncio.get_running_loop().time()
        await post_without_announcing(world)
        assert await asyncio.wait_for(queue.get(), CHECK_EVERY * 4) == campaign
        await asyncio.sleep(CHECK_EVERY * 1.5)
        assert len(woken) == 1 and woken[0] - written <= CHECK_EVERY * 2.5, woken


async def test_a_connection_a_failed_send_closed_does_not_go_back_to_the_pool(world: World):
    url = world.api.state.engine.url.render_as_string(hide_password=False)
    engine = make_engine(url, pool_size=1)  # the next checkout gets the same connection
    try:
        async with driver_connection(engine) as conn:
            conn.terminate()  # as a send that failed on the writer's own connection does
            assert await Announcer(engine).announce({1: 1}, via=conn) is False
        async with driver_connection(engine) as conn:
            assert await conn.fetchval("SELECT 1") == 1
    finally:
        await engine.dispose()


async def test_what_another_event_loop_left_in_flight_does_not_stall_the_next(world: World):
    told = Announcer(world.api.state.engine)
    gone = asyncio.new_event_loop()
    told._in_flight = gone.create_future()  # a send that loop never finished
    gone.close()
    async with notifications(world) as heard:
        assert await asyncio.wait_for(told.announce({900_100: 1}), 5) is True
        await settle(heard, 1)
    assert heard == [(JOURNAL_CHANNEL, "900100:1")]


async def test_the_listener_hears_every_item_of_a_payload(world: World):
    async with listening(world) as reads:
        feed = world.api.state.events
        async with feed.subscribe(800_401) as first, feed.subscribe(800_402) as second:
            told = Announcer(world.api.state.engine)
            assert await told.announce({900_401: 3, 900_402: 5}, [800_401, 800_402])
            for _ in range(200):
                if reads.heads.known(900_402) == 5 and not second.empty():
                    break
                await asyncio.sleep(0.01)
            assert (reads.heads.known(900_401), reads.heads.known(900_402)) == (3, 5)
            assert (first.get_nowait(), second.get_nowait()) == (800_401, 800_402)
