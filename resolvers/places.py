"""Subdistricts, communities and grids: public information, managed by ADMIN."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db import directory
from db.models import CommunityRow, GridRow, SubdistrictRow
from db.uow import read_session
from resolvers.auth import Action, authorize
from resolvers.commands import CreateCommunity, CreateSubdistrict
from resolvers.errors import invalid, not_found
from resolvers.pagination import OrderKey, Page, PageArgs, paginate
from resolvers.unit_of_work import UnitOfWork
from resolvers.validation import text

MAX_GRIDS = 100


async def create_subdistrict(cmd: CreateSubdistrict, uow: UnitOfWork) -> SubdistrictRow:
    authorize(uow.viewer, Action.MANAGE_PLACES)
    name = text(cmd.name, "name")
    district = text(cmd.district, "district")
    async with uow.transaction() as session:
        if await directory.subdistrict_taken(session, district, name):
            raise invalid(f"{district} already has a subdistrict named {name}", "name")
        row = SubdistrictRow(name=name, district=district)
        session.add(row)
        await session.flush()
        return row


async def create_community(cmd: CreateCommunity, uow: UnitOfWork) -> CommunityRow:
    authorize(uow.viewer, Action.MANAGE_PLACES)
    sub_pk = cmd.subdistrict_id
    name = text(cmd.name, "name")
    grid_names = [text(g, f"grids.{i}") for i, g in enumerate(cmd.grids)]
    if len(grid_names) > MAX_GRIDS:
        raise invalid(f"at most {MAX_GRIDS} grids", "grids")
    if len(set(grid_names)) != len(grid_names):
        raise invalid("grid names must be distinct", "grids")
    async with uow.transaction() as session:
        if await session.get(SubdistrictRow, sub_pk) is None:
            raise not_found("subdistrict", "subdistrictId")
        if await directory.community_taken(session, sub_pk, name):
            raise invalid(f"this subdistrict already has a community named {name}", "name")
        row = CommunityRow(subdistrict_id=sub_pk, name=name)
        session.add(row)
        await session.flush()
        session.add_all(GridRow(community_id=row.id, name=g) for g in grid_names)
        await session.flush()
        return row


async def subdistrict_page(engine: AsyncEngine, args: PageArgs) -> Page:
    async with read_session(engine) as session:
        return await paginate(session, select(SubdistrictRow), [OrderKey(SubdistrictRow.id)], args)


async def community_page(engine: AsyncEngine, args: PageArgs) -> Page:
    async with read_session(engine) as session:
        return await paginate(session, select(CommunityRow), [OrderKey(CommunityRow.id)], args)
