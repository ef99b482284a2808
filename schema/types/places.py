"""Subdistricts, communities and grids (public)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from db.models import CommunityRow, GridRow, SubdistrictRow
from resolvers import funds_access
from resolvers.ids import to_global_id
from resolvers.pagination import PageArgs
from schema.context import Info
from schema.relay import After, Before, Connection, First, Last, Node, child_connection

if TYPE_CHECKING:
    from schema.types.funds import Fund
    from schema.types.partners import Partner

FundRef = Annotated["Fund", strawberry.lazy("schema.types.funds")]
PartnerRef = Annotated["Partner", strawberry.lazy("schema.types.partners")]


@strawberry.type(description="A subdistrict (街道) of a district (区).")
class Subdistrict(Node):
    pk: strawberry.Private[int]
    name: str = strawberry.field(description="Name, e.g. 建设路街道.")
    district: str = strawberry.field(description="The district it belongs to, e.g. 中原区.")

    @classmethod
    def of(cls, row: SubdistrictRow) -> Subdistrict:
        return cls(
            id=to_global_id("Subdistrict", row.id), pk=row.id, name=row.name, district=row.district
        )

    @strawberry.field(description="Communities of this subdistrict, in creation order.")
    async def communities(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Community]:
        args = PageArgs.of(first, after, last, before)
        return await child_connection(
            info.context.loaders.community_pages, self.pk, Community.of, args
        )

    @strawberry.field(
        description="Subdistrict-level funds the viewer may see; empty for anonymous callers, partners and community staff."
    )
    async def funds(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[FundRef]:
        from schema.types.funds import fund_connection

        args = PageArgs.of(first, after, last, before)
        return await fund_connection(info, funds_access.Scope(subdistrict_id=self.pk), args)


@strawberry.type(description="A community (社区), where partners sign and funds are opened.")
class Community(Node):
    pk: strawberry.Private[int]
    subdistrict_id: strawberry.Private[int]
    name: str = strawberry.field(description="Name, e.g. 儿童公园社区.")

    @classmethod
    def of(cls, row: CommunityRow) -> Community:
        return cls(
            id=to_global_id("Community", row.id),
            pk=row.id,
            subdistrict_id=row.subdistrict_id,
            name=row.name,
        )

    @strawberry.field(description="The subdistrict it belongs to.")
    async def subdistrict(self, info: Info) -> Subdistrict:
        return Subdistrict.of(await info.context.loaders.subdistrict.load(self.subdistrict_id))

    @strawberry.field(description="Its grids (网格), in creation order.")
    async def grids(self, info: Info) -> list[Grid]:
        return [Grid.of(g) for g in await info.context.loaders.grids_by_community.load(self.pk)]

    @strawberry.field(
        description="Partners who signed with this community, those the viewer may see; empty for anonymous callers."
    )
    async def partners(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[PartnerRef]:
        from schema.types.partners import community_partners

        return await community_partners(info, self.pk, PageArgs.of(first, after, last, before))

    @strawberry.field(
        description="Community-level funds the viewer may see; empty for anonymous callers and partners."
    )
    async def funds(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[FundRef]:
        from schema.types.funds import fund_connection

        args = PageArgs.of(first, after, last, before)
        return await fund_connection(info, funds_access.Scope(community_id=self.pk), args)


@strawberry.type(description="A grid (网格) of a community.")
class Grid(Node):
    pk: strawberry.Private[int]
    community_id: strawberry.Private[int]
    name: str = strawberry.field(description="Name, e.g. 第一网格.")

    @classmethod
    def of(cls, row: GridRow) -> Grid:
        return cls(
            id=to_global_id("Grid", row.id), pk=row.id, community_id=row.community_id, name=row.name
        )

    @strawberry.field(description="The community it belongs to.")
    async def community(self, info: Info) -> Community:
        return Community.of(await info.context.loaders.community.load(self.community_id))
