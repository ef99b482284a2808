"""The cache of public reads in one process: keyed by the fund's journal head, emptied by
the ledger write's NOTIFY, with ETags on the pages and one progress read per change
shared by every subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import orjson

from db.uow import unit_of_work
from resolvers.public_reads import PublicReads, announce_change
from schema import build_schema
from schema.context import Context
from schema.public_report_cache import MAX_KEPT_SIZE
from server import JinlinGraphQL
from tests.api.world import World, pk

REPORT = '{publicFundReport(code:"ETGY"){code balances{total{amount}}}}'
PROGRESS = "subscription($c:ID!){campaignProgress(campaignId:$c){total{amount} donationCount}}"
SUBSCRIBERS = 40


@contextlib.asynccontextmanager
async def listening(world: World):
    """The change feed's listener, as the server's lifespan starts it."""
    feed = world.api.state.events
    await feed.start()
    try:
        for _ in range(200):
            if feed.reads.heads.live:
                break
            await asyncio.sleep(0.02)
        assert feed.reads.heads.live
        yield feed.reads
    finally:
        await feed.stop()


async def heard(reads: PublicReads, fund: str, sequence: int) -> None:
    for _ in range(200):
        if (reads.heads.known(pk(fund)) or 0) >= sequence:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no NOTIFY of sequence {sequence}")


async def _total(world: World) -> str:
    data = await world.api.data(REPORT)
    return data["publicFundReport"]["balances"]["total"]["amount"]


async def test_the_report_is_read_once_per_journal_head(world: World):
    async with listening(world) as reads:
        assert await _total(world) == "0.00"
        assert await _total(world) == "0.00"
        assert reads.loads["report"] == 1
        await world.donate(amount="12.34")
        await heard(reads, world.fund, 1)
        assert await _total(world) == "12.34"
        assert await _total(world) == "12.34"
        assert reads.loads["report"] == 2
        # Another fund's writes leave this fund's entry alone.
        await world.donate(amount="1.00", fund=world.other_fund)
        await heard(reads, world.other_fund, 1)
        assert await _total(world) == "12.34"
        assert reads.loads["report"] == 2


async def test_a_change_outside_the_journal_drops_the_funds_entries(world: World):
    async with listening(world) as reads:
        await _total(world)
        epoch = reads.heads.epoch(pk(world.fund))
        async with unit_of_work(world.api.state.engine) as session:
            await announce_change(session, pk(world.fund))
        for _ in range(200):
            if reads.heads.epoch(pk(world.fund)) > epoch:
                break
            await asyncio.sleep(0.01)
        await _total(world)
        assert reads.loads["report"] == 2


async def test_without_the_listener_every_read_goes_to_the_database(world: World):
    reads = world.api.state.events.reads
    assert not reads.heads.live
    await world.donate(amount="5.00")
    assert await _total(world) == "5.00"
    await world.donate(amount="5.00")
    assert await _total(world) == "10.00"
    assert reads.loads["report"] == 2


async def test_an_anonymous_body_once_answered_is_answered_before_the_view(
    world: World, monkeypatch, caplog
):
    views = []
    execute = JinlinGraphQL._execute  # where every request the view runs passes

    async def counted(self, context, *args, **kwargs):
        views.append(context.authorization)
        return await execute(self, context, *args, **kwargs)

    monkeypatch.setattr(JinlinGraphQL, "_execute", counted)
    caplog.set_level(logging.INFO, "jinlin.request")
    http = world.api.http
    body = orjson.dumps({"query": REPORT, "operationName": None})

    async def post(content: bytes = body, **headers: str):
        answer = await http.post(
            "/graphql", content=content, headers={"content-type": "application/json", **headers}
        )
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        return answer.json()

    async with listening(world) as reads:
        first = await post()
        assert views == [None] and first["data"]["publicFundReport"]["code"] == "ETGY"
        assert await post() == first and await post() == first
        assert views == [None], "the same bytes, answered before the view"
        # Logged and counted under its operation, like an answer of the view.
        lines = [r.fields for r in caplog.records if r.name == "jinlin.request"]
        assert [(f["operation"], f["status"]) for f in lines[-3:]] == [
            ("query publicFundReport", 200)
        ] * 3
        # Another body, or any token (good or bad), meets the view.
        assert await post(body + b" ") == first
        assert await post(authorization="Bearer nonsense") == first
        assert views == [None, None, "Bearer nonsense"]
        # A body past the limit is answered by the view every time.
        padded = orjson.dumps({"query": REPORT + " " * MAX_KEPT_SIZE})
        assert await post(padded) == first and await post(padded) == first
        assert views.count(None) == 4
        # A write moves the head: the next answer is read again, then kept again.
        await world.donate(amount="2.50")
        await heard(reads, world.fund, 1)
        moved = await post()
        assert moved["data"]["publicFundReport"]["balances"]["total"]["amount"] == "2.50"
        assert views.count(None) == 5
        assert await post() == moved and views.count(None) == 5
        # The padded query was executed each time, never kept: its text is too long.
        assert reads.loads["report"] == 2


async def test_pages_answer_304_to_their_etag_until_the_fund_moves(world: World):
    http = world.api.http
    async with listening(world) as reads:
        for path in (
            "/funds/ETGY",
            f"/board/{world.campaign}",
            f"/board/{world.campaign}/recent.json",
        ):
            first = await http.get(path)
            assert first.status_code == 200, path
            tag = first.headers["etag"]
            assert first.headers["cache-control"] == "no-cache"
            same = await http.get(path, headers={"if-none-match": f'W/{tag}, "other"'})
            assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == tag
            target = (reads.heads.known(pk(world.fund)) or 0) + 1
            await world.donate(amount="7.00", campaignId=world.campaign)
            await heard(reads, world.fund, target)
            moved = await http.get(path, headers={"if-none-match": tag})
            assert moved.status_code == 200 and moved.headers["etag"] != tag, path
            assert "7.00" in moved.text
        # Unknown funds and campaigns are not cached, and still 404.
        assert (await http.get("/funds/NOPE")).status_code == 404
        assert (await http.get("/board/nope")).status_code == 404


async def _next(stream) -> dict:
    result = await asyncio.wait_for(anext(stream), 10)
    assert not result.errors, result.errors
    return result.data["campaignProgress"]


async def test_one_progress_read_per_change_whatever_the_subscribers(world: World):
    state = world.api.state
    schema = build_schema()
    async with listening(world) as reads:
        streams = [
            await schema.subscribe(
                PROGRESS, {"c": world.campaign}, context_value=Context(app=state)
            )
            for _ in range(SUBSCRIBERS)
        ]
        try:
            firsts = await asyncio.gather(*(_next(s) for s in streams))
            assert {f["donationCount"] for f in firsts} == {0}
            assert reads.loads["progress"] == 1
            for n in (1, 2, 3):
                await world.donate(amount="2.50", campaignId=world.campaign)
                updates = await asyncio.gather(*(_next(s) for s in streams))
                assert {u["donationCount"] for u in updates} == {n}
                assert {u["total"]["amount"] for u in updates} == {f"{2.5 * n:.2f}"}
                assert reads.loads["progress"] == 1 + n
        finally:
            for stream in streams:
                await stream.aclose()
