"""Finding communities and partners by the names people use (the command line)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CommunityRow, PartnerRow, SubdistrictRow


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
