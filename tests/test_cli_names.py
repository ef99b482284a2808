"""`jinlin create-user` names the community and the partner as people do."""

from __future__ import annotations

import asyncio
import io

from sqlalchemy import select

from cli import main
from db.engine import make_engine
from db.models import UserRow
from db.uow import read_session
from resolvers import commands as C
from resolvers import places
from tests.use_cases.world import a_fund

PASSWORD = "a long enough password\n"


async def _world(db_url: str, twin: bool = False):
    engine = make_engine(db_url)
    try:
        place = await a_fund(engine)
        if twin:  # another 儿童公园社区, in another subdistrict
            sub = await places.create_subdistrict(
                C.CreateSubdistrict("林山寨街道", "中原区"), place.uow
            )
            await places.create_community(C.CreateCommunity(sub.id, "儿童公园社区"), place.uow)
        return place.community, place.partner
    finally:
        await engine.dispose()


async def _user(db_url: str, username: str) -> UserRow | None:
    engine = make_engine(db_url)
    try:
        async with read_session(engine) as session:
            return await session.scalar(select(UserRow).where(UserRow.username == username))
    finally:
        await engine.dispose()


def _create(monkeypatch, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    return main(["create-user", *args, "--password-stdin"])


def test_staff_and_partner_users_by_name(db_url, monkeypatch, capsys):
    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    community, partner = asyncio.run(_world(db_url))
    assert (
        _create(monkeypatch, "staff", "--role", "COMMUNITY_STAFF", "--community", "儿童公园社区")
        == 0
    )
    assert _create(monkeypatch, "weaver", "--role", "PARTNER", "--partner", "百花编织队") == 0
    staff, weaver = asyncio.run(_user(db_url, "staff")), asyncio.run(_user(db_url, "weaver"))
    assert (staff.community_id, staff.partner_id) == (community, None)
    assert (weaver.community_id, weaver.partner_id) == (None, partner)
    assert _create(monkeypatch, "nobody", "--role", "PARTNER", "--partner", "无名队") == 2
    assert "no partner named 无名队" in capsys.readouterr().err
    assert asyncio.run(_user(db_url, "nobody")) is None


def test_a_community_name_two_subdistricts_share_needs_the_subdistrict(db_url, monkeypatch, capsys):
    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    community, _partner = asyncio.run(_world(db_url, twin=True))
    role = ["--role", "COMMUNITY_STAFF"]
    assert _create(monkeypatch, "staff", *role, "--community", "儿童公园社区") == 2
    err = capsys.readouterr().err
    assert "建设路街道/儿童公园社区" in err and "林山寨街道/儿童公园社区" in err
    assert _create(monkeypatch, "staff", *role, "--community", "建设路街道/儿童公园社区") == 0
    assert asyncio.run(_user(db_url, "staff")).community_id == community
