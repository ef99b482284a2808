"""Finding places, funds, partners and users by name: the command line's lookups and
the uniqueness checks of the use cases that create them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CommunityRow, FundRow, PartnerRow, PartnershipRow, SubdistrictRow, UserRow


async def communities_named(
    session: AsyncSession, name: str, subdistrict: str | None = None
) -> list[tuple[int, str]]:
    """(id, subdistrict name) of every community with `name`, within `subdistrict` if given."""
    stmt = (
        select(CommunityRow.id, SubdistrictRow.name)
        .join(SubdistrictRow, SubdistrictRow.id == CommunityRow.subdistrict_id)
        .where(CommunityRow.name == name)
        .order_by(CommunityRow.id)
    )
    if subdistrict is not None:
        stmt = stmt.where(SubdistrictRow.name == subdistrict)
    return [(pk, sub) for pk, sub in await session.execute(stmt)]


async def partners_named(session: AsyncSession, name: str) -> list[tuple[int, str]]:
    """(id, kind) of every partner with `name` (one per kind at most)."""
    stmt = select(PartnerRow.id, PartnerRow.kind).where(PartnerRow.name == name)
    return [(pk, kind) for pk, kind in await session.execute(stmt.order_by(PartnerRow.id))]


async def subdistrict_taken(session: AsyncSession, district: str, name: str) -> bool:
    stmt = select(SubdistrictRow.id).where(
        SubdistrictRow.district == district, SubdistrictRow.name == name
    )
    return bool(await session.scalar(stmt))


async def community_taken(session: AsyncSession, subdistrict_id: int, name: str) -> bool:
    stmt = select(CommunityRow.id).where(
        CommunityRow.subdistrict_id == subdistrict_id, CommunityRow.name == name
    )
    return bool(await session.scalar(stmt))


async def fund_code_taken(session: AsyncSession, code: str) -> bool:
    return bool(await session.scalar(select(FundRow.id).where(FundRow.code == code)))


async def partner_of_kind(session: AsyncSession, name: str, kind: str) -> PartnerRow | None:
    stmt = select(PartnerRow).where(PartnerRow.name == name, PartnerRow.kind == kind)
    return await session.scalar(stmt)


async def has_partnership(session: AsyncSession, partner_id: int, community_id: int) -> bool:
    stmt = select(PartnershipRow.id).where(
        PartnershipRow.partner_id == partner_id, PartnershipRow.community_id == community_id
    )
    return bool(await session.scalar(stmt))


async def user_named(session: AsyncSession, username: str) -> UserRow | None:
    return await session.scalar(select(UserRow).where(UserRow.username == username))
