"""Community partners, partnerships and contributions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.models import ContributionRow, PartnerRow, PartnershipRow
from resolvers.auth import Action, allowed
from resolvers.ids import to_global_id
from resolvers.loaders_visible import EMPTY_PAGE
from resolvers.pagination import Page, PageArgs
from schema.context import Info
from schema.relay import Connection, Node, child_connection, to_connection
from schema.types.common import Money, money, shown
from schema.types.places import Community

if TYPE_CHECKING:
    from schema.types.donations import Donation

DonationRef = Annotated["Donation", strawberry.lazy("schema.types.donations")]


@strawberry.enum(description="What kind of organisation or group a partner is.")
class PartnerKind(enum.Enum):
    BUSINESS = "BUSINESS"
    SOCIAL_ORGANIZATION = "SOCIAL_ORGANIZATION"
    PUBLIC_INSTITUTION = "PUBLIC_INSTITUTION"
    RESIDENT = "RESIDENT"
    VOLUNTEER_TEAM = "VOLUNTEER_TEAM"


@strawberry.enum(description="Whether a partnership is in force.")
class PartnershipStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"


@strawberry.enum(description="What a partner gave.")
class ContributionKind(enum.Enum):
    MONEY = "MONEY"
    IN_KIND = "IN_KIND"
    VOLUNTEER_SERVICE = "VOLUNTEER_SERVICE"


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
    description: str = strawberry.field(description="What was given or done.")
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
            description=row.description,
            occurred_at=row.occurred_at,
        )

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
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
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
