"""Community partners (社区合伙人), their partnerships and volunteer service."""

from __future__ import annotations

from sqlalchemy import false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db import directory
from db.models import CampaignRow, CommunityRow, ContributionRow, PartnerRow, PartnershipRow
from db.uow import read_session
from ledger import idempotency
from resolvers.auth import COMMUNITY_STAFF, PARTNER, Action, Viewer, authorize
from resolvers.commands import RecordService, RegisterPartner
from resolvers.errors import invalid, not_found
from resolvers.pagination import OrderKey, Page, PageArgs, paginate
from resolvers.unit_of_work import UnitOfWork
from resolvers.validation import calendar_date, centihours, instant, text

PARTNER_KINDS = (
    "BUSINESS",
    "SOCIAL_ORGANIZATION",
    "PUBLIC_INSTITUTION",
    "RESIDENT",
    "VOLUNTEER_TEAM",
)


def partner_visibility(viewer: Viewer | None):
    """A SQL condition on PartnerRow for the partners the viewer may see."""
    authorize(viewer, Action.READ_PARTNERS)
    if viewer.sees_everything:
        return true()
    conditions = []
    if viewer.has(COMMUNITY_STAFF) and viewer.community_id is not None:
        conditions.append(
            PartnerRow.id.in_(
                select(PartnershipRow.partner_id).where(
                    PartnershipRow.community_id == viewer.community_id
                )
            )
        )
    if viewer.has(PARTNER) and viewer.partner_id is not None:
        conditions.append(PartnerRow.id == viewer.partner_id)
    if not conditions:
        return false()
    return or_(*conditions)


def visible_partnerships(viewer: Viewer | None) -> list:
    """SQL conditions on PartnershipRow keeping the partnerships of partners the
    viewer may see (none for those who see everything)."""
    condition = partner_visibility(viewer)
    if viewer.sees_everything:
        return []
    return [PartnershipRow.partner_id.in_(select(PartnerRow.id).where(condition))]


async def partner_page(engine: AsyncEngine, viewer: Viewer | None, args: PageArgs) -> Page:
    condition = partner_visibility(viewer)
    async with read_session(engine) as session:
        stmt = select(PartnerRow).where(condition)
        return await paginate(session, stmt, [OrderKey(PartnerRow.id)], args)


async def register_partner(cmd: RegisterPartner, uow: UnitOfWork) -> PartnerRow:
    community_pk = cmd.community_id
    authorize(uow.viewer, Action.MANAGE_PARTNERS, community_ids={community_pk})
    name = text(cmd.name, "name")
    kind = cmd.kind
    certificate_no = text(cmd.certificate_no, "certificateNo", max_length=64, required=False)
    signed_on = calendar_date(cmd.signed_on, "signedOn")
    if kind not in PARTNER_KINDS:
        raise invalid("unknown partner kind", "kind")
    async with uow.transaction() as session:
        if await session.get(CommunityRow, community_pk) is None:
            raise not_found("community", "communityId")
        # The same organisation may sign with several communities: one partner,
        # one partnership per community, never two with the same community.
        partner = await directory.partner_of_kind(session, name, kind)
        if partner is None:
            partner = PartnerRow(name=name, kind=kind)
            session.add(partner)
            await session.flush()
        elif await directory.has_partnership(session, partner.id, community_pk):
            raise invalid(f"{name} has already signed with this community", "communityId")
        session.add(
            PartnershipRow(
                partner_id=partner.id,
                community_id=community_pk,
                signed_on=signed_on,
                certificate_no=certificate_no,
            )
        )
        await session.flush()
        return partner


async def partner_communities(session: AsyncSession, partner_id: int) -> set[int]:
    rows = await session.scalars(
        select(PartnershipRow.community_id).where(PartnershipRow.partner_id == partner_id)
    )
    return set(rows.all())


async def record_service(cmd: RecordService, uow: UnitOfWork) -> ContributionRow:
    viewer = uow.viewer
    partner_pk = cmd.partner_id
    if viewer is None:
        authorize(viewer, Action.MANAGE_PARTNERS)
    key = idempotency.check_key(cmd.idempotency_key)
    hundredths = centihours(cmd.hours, "hours")
    description = text(cmd.description, "description", max_length=500)
    occurred_at = instant(cmd.occurred_at, "occurredAt")
    if occurred_at is not None and occurred_at > uow.now():
        raise invalid("occurredAt is in the future", "occurredAt")
    request = {
        "partner": partner_pk,
        "centihours": hundredths,
        "description": description,
        "occurredAt": occurred_at,
    }
    if cmd.campaign_id is not None:  # only then: keys stored before campaigns stay valid
        request["campaign"] = cmd.campaign_id
    fingerprint = idempotency.fingerprint("recordService", request)
    async with uow.transaction() as session:
        if await session.get(PartnerRow, partner_pk) is None:
            raise not_found("partner", "partnerId")
        if cmd.campaign_id is not None and await session.get(CampaignRow, cmd.campaign_id) is None:
            raise not_found("campaign", "campaignId")
        communities = await partner_communities(session, partner_pk)
        authorize(viewer, Action.MANAGE_PARTNERS, community_ids=communities)
        earlier = await idempotency.recall(session, key, "recordService", fingerprint)
        if earlier is not None:
            return await session.get(ContributionRow, earlier)
        row = ContributionRow(
            partner_id=partner_pk,
            kind="VOLUNTEER_SERVICE",
            centihours=hundredths,
            description=description,
            occurred_at=occurred_at or uow.now(),
            campaign_id=cmd.campaign_id,
        )
        session.add(row)
        await session.flush()
        await idempotency.remember(session, key, "recordService", fingerprint, row.id)
        return row
