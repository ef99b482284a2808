"""Community partners, partnerships and contributions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.models import ContributionRow, PartnerRow, PartnershipRow
from reports.labels import CHANNELS
from resolvers.auth import Action, allowed
from resolvers.ids import to_global_id
from resolvers.loaders_visible import EMPTY_PAGE
from resolvers.pagination import Page, PageArgs
from schema.context import Info
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    child_connection,
    to_connection,
)
from schema.types.common import Money, money, shown
from schema.types.places import Community

if TYPE_CHECKING:
    from schema.types.donations import Donation
    from schema.types.funds import Campaign

DonationRef = Annotated["Donation", strawberry.lazy("schema.types.donations")]
CampaignRef = Annotated["Campaign", strawberry.lazy("schema.types.funds")]
UNDONE = {"REFUNDED": "（已退款）", "VOIDED": "（已作废）"}


@strawberry.enum(description="What kind of organisation or group a partner is.")
class PartnerKind(enum.Enum):
    BUSINESS = strawberry.enum_value("BUSINESS", description="A company or shop (企业).")
    SOCIAL_ORGANIZATION = strawberry.enum_value(
        "SOCIAL_ORGANIZATION", description="A registered social organisation (社会组织)."
    )
    PUBLIC_INSTITUTION = strawberry.enum_value(
        "PUBLIC_INSTITUTION",
        description="A public institution such as a school or hospital (事业单位).",
    )
    RESIDENT = strawberry.enum_value(
        "RESIDENT", description="A resident taking part in person (居民)."
    )
    VOLUNTEER_TEAM = strawberry.enum_value(
        "VOLUNTEER_TEAM", description="A volunteer team (志愿服务队)."
    )


@strawberry.enum(description="Whether a partnership is in force.")
class PartnershipStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="In force.")
    ENDED = strawberry.enum_value(
        "ENDED", description="No longer in force; what was given under it stays on record."
    )


@strawberry.enum(description="What a partner gave.")
class ContributionKind(enum.Enum):
    MONEY = strawberry.enum_value(
        "MONEY", description="Money given, through a donation on any money channel."
    )
    IN_KIND = strawberry.enum_value(
        "IN_KIND", description="Goods given, through an IN_KIND donation at their declared value."
    )
    VOLUNTEER_SERVICE = strawberry.enum_value(
        "VOLUNTEER_SERVICE", description="Hours of volunteer service (recordService)."
    )


@strawberry.type(description="A partner's signed agreement with a community.")
class Partnership:
    community_id: strawberry.Private[int]
    signed_on: date = strawberry.field(description="The day it was signed.")
    certificate_no: str | None = strawberry.field(description="Number of the partner certificate.")
    status: PartnershipStatus = strawberry.field(description="Whether it is in force.")

    @classmethod
    def of(cls, row: PartnershipRow) -> Partnership:
        return cls(
            community_id=row.community_id,
            signed_on=row.signed_on,
            certificate_no=row.certificate_no,
            status=PartnershipStatus(row.status),
        )

    @strawberry.field(description="The community signed with.")
    async def community(self, info: Info) -> Community:
        return Community.of(await info.context.loaders.community.load(self.community_id))


def _hours(centihours: int) -> Decimal:
    return (Decimal(centihours) / 100).quantize(Decimal("0.01"))


@strawberry.type(description="Something a partner gave: money, goods or volunteer hours.")
class Contribution(Node):
    pk: strawberry.Private[int]
    partner_id: strawberry.Private[int]
    donation_id: strawberry.Private[int | None]
    kind: ContributionKind = strawberry.field(description="Money, goods or service.")
    value: Money | None = strawberry.field(
        description="Money given, or the declared value of goods; null for service."
    )
    hours: Decimal | None = strawberry.field(
        description="Hours of volunteer service; null for money and goods."
    )
    stored_description: strawberry.Private[str]
    occurred_at: datetime = strawberry.field(description="When it was given or done.")

    @classmethod
    def of(cls, row: ContributionRow) -> Contribution:
        return cls(
            id=to_global_id("Contribution", row.id),
            pk=row.id,
            partner_id=row.partner_id,
            donation_id=row.donation_id,
            kind=ContributionKind(row.kind),
            value=money(row.value_fen, row.currency or "CNY")
            if row.value_fen is not None
            else None,
            hours=_hours(row.centihours) if row.centihours is not None else None,
            stored_description=row.description,
            occurred_at=row.occurred_at,
        )

    @strawberry.field(
        description='What was given or done, in plain Chinese: a gift reads as its channel, what the donor said of it, and its campaign or else its fund ("银行转账捐赠 · 2023邻居节", "物资捐赠：大米 10 袋 · 社区慈善基金（已退款）"); service hours as written when recorded.'
    )
    async def description(self, info: Info) -> str:
        if self.donation_id is None:
            return self.stored_description
        # Read plainly: the channel and the campaign's or fund's name are public, and the
        # contribution itself is what the viewer was found to see.
        loaders = info.context.loaders
        gift = await loaders.donation.load(self.donation_id)
        if gift is None:
            return self.stored_description
        if gift.campaign_id is not None:
            place = (await loaders.campaign.load(gift.campaign_id)).name
        else:
            place = (await loaders.fund.load(gift.fund_id)).name
        what = CHANNELS.get(gift.channel, gift.channel) + "捐赠"  # 银行转账捐赠
        if gift.description:
            what += "：" + gift.description
        return f"{what} · {place}{UNDONE.get(gift.status, '')}"

    @strawberry.field(description="The partner who gave it.")
    async def partner(self, info: Info) -> Partner:
        row = await info.context.visible.partner.load(self.partner_id)
        return Partner.of(shown(row, "partner"))

    @strawberry.field(
        description="The donation behind a MONEY or IN_KIND contribution; null also when the viewer may not see it (staff, when the partner gave to another community's fund)."
    )
    async def donation(self, info: Info) -> DonationRef | None:
        if self.donation_id is None:
            return None
        from schema.types.donations import Donation

        row = await info.context.visible.donation.load(self.donation_id)
        return Donation.of(row) if row else None


@strawberry.type(description="What a partner has given in all.")
class ContributionTotals:
    money: Money = strawberry.field(description="Money given (refunded donations left out).")
    in_kind: Money = strawberry.field(description="Declared value of goods given.")
    volunteer_hours: Decimal = strawberry.field(description="Hours of volunteer service.")


@strawberry.type(description="What a partner gave at one campaign, or outside any campaign.")
class CampaignContributionTotals:
    campaign_id: strawberry.Private[int | None]
    money: Money = strawberry.field(description="Money given (refunded and voided gifts left out).")
    in_kind: Money = strawberry.field(description="Declared value of goods given.")
    volunteer_hours: Decimal = strawberry.field(
        description="Hours of volunteer service recorded with this campaign."
    )

    @strawberry.field(description="The campaign; null for what was given outside any campaign.")
    async def campaign(self, info: Info) -> CampaignRef | None:
        if self.campaign_id is None:
            return None
        from schema.types.funds import Campaign

        return Campaign.of(await info.context.visible.campaign.load(self.campaign_id))


@strawberry.type(description="A community partner (社区合伙人).")
class Partner(Node):
    pk: strawberry.Private[int]
    name: str = strawberry.field(description="Name, e.g. 浦发银行百花路支行.")
    kind: PartnerKind = strawberry.field(description="What kind of partner.")

    @classmethod
    def of(cls, row: PartnerRow) -> Partner:
        return cls(
            id=to_global_id("Partner", row.id), pk=row.id, name=row.name, kind=PartnerKind(row.kind)
        )

    @strawberry.field(description="Its partnerships, one per community signed with.")
    async def partnerships(self, info: Info) -> list[Partnership]:
        rows = await info.context.visible.partnerships_by_partner.load(self.pk)
        return [Partnership.of(r) for r in rows]

    @strawberry.field(description="What it gave, oldest first.")
    async def contributions(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Contribution]:
        args = PageArgs.of(first, after, last, before)
        return await child_connection(
            info.context.visible.contribution_pages, self.pk, Contribution.of, args
        )

    @strawberry.field(description="Totals of money, goods and hours given.")
    async def contribution_totals(self, info: Info) -> ContributionTotals:
        totals = shown(await info.context.visible.contribution_totals.load(self.pk), "partner")
        return ContributionTotals(
            money=money(totals.get("MONEY", 0)),
            in_kind=money(totals.get("IN_KIND", 0)),
            volunteer_hours=_hours(totals.get("VOLUNTEER_SERVICE", 0)),
        )

    @strawberry.field(
        description="What it gave by campaign: one line per campaign, in order of creation, then one with a null campaign for what no campaign holds. The lines add up to contributionTotals."
    )
    async def campaign_totals(self, info: Info) -> list[CampaignContributionTotals]:
        lines = await info.context.visible.contribution_totals_by_campaign.load(self.pk)
        return [
            CampaignContributionTotals(
                campaign_id=campaign_id,
                money=money(totals.get("MONEY", 0)),
                in_kind=money(totals.get("IN_KIND", 0)),
                volunteer_hours=_hours(totals.get("VOLUNTEER_SERVICE", 0)),
            )
            for campaign_id, totals in lines
        ]


async def community_partners(info: Info, community_id: int, args: PageArgs) -> Connection[Partner]:
    """The community's partners the viewer may see; empty for a viewer who may see none."""
    viewer = await info.context.viewer()
    if not allowed(viewer, Action.READ_PARTNERS):
        return to_connection(EMPTY_PAGE, Partner.of)
    page: Page = await info.context.loaders.partnership_pages_by_community.load(
        (community_id, args, viewer)
    )
    partners = await info.context.visible.partner.load_many([r.partner_id for r in page.rows])
    # The page was filtered in SQL by the same rule; a partner that is gone since is left out.
    kept = [(p, c) for p, c in zip(partners, page.cursors, strict=True) if p is not None]
    rows, cursors = [p for p, _ in kept], [c for _, c in kept]
    return to_connection(Page(rows, cursors, page.has_next, page.has_previous), Partner.of)
