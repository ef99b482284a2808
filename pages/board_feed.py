"""The board's 最新捐赠: the campaign's own latest donations, donors masked exactly as the
public report masks them (resolvers.public.masked_donor), refunded ones left out.

The public report's recentDonations covers the whole fund, which mixes in other
campaigns' gifts, and no public operation lists one campaign's donations; so the board
reads them here and shows only what the public report would show of each: the masked
donor, the amount, the channel and the time.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import DonationRow, PartnerRow
from db.uow import read_session
from resolvers.public import masked_donor


async def campaign_recent(
    engine: AsyncEngine, campaign_pk: int, limit: int, tz: ZoneInfo, currency: str
) -> list[dict[str, Any]]:
    """Newest first, shaped as the API's PublicDonation (amounts as Decimal strings)."""
    stmt = (
        select(DonationRow, PartnerRow)
        .outerjoin(PartnerRow, PartnerRow.id == DonationRow.partner_id)
        .where(DonationRow.campaign_id == campaign_pk, DonationRow.status != "REFUNDED")
        .order_by(DonationRow.received_at.desc(), DonationRow.id.desc())
        .limit(limit)
    )
    async with read_session(engine) as session:
        rows = (await session.execute(stmt)).all()
    return [
        {
            "donorName": masked_donor(
                anonymous=d.anonymous,
                donor_name=d.donor_name,
                partner_name=p.name if p else None,
                partner_kind=p.kind if p else None,
            ),
            "amount": {"amount": _amount(d.amount_fen), "currency": currency},
            "channel": d.channel,
            "receivedAt": d.received_at.astimezone(tz).isoformat(),
        }
        for d, p in rows
    ]


def _amount(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
