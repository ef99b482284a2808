"""createSubdistrict and createCommunity (ADMIN)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import places
from resolvers.commands import CreateCommunity, CreateSubdistrict
from schema.arguments import INPUT
from schema.context import Info
from schema.mutations.base import execute, key, of, payload
from schema.types.places import Community, Subdistrict


@strawberry.input(description="A new subdistrict.")
class CreateSubdistrictInput:
    name: str = strawberry.field(description="Name, e.g. 建设路街道.")
    district: str = strawberry.field(description="The district it belongs to, e.g. 中原区.")


@strawberry.input(description="A new community and its grids.")
class CreateCommunityInput:
    subdistrict_id: strawberry.ID = strawberry.field(description="Its subdistrict.")
    name: str = strawberry.field(description="Name, e.g. 百花社区.")
    grids: list[str] | None = strawberry.field(default=None, description="Names of its grids.")


CreateSubdistrictPayload = payload(
    "CreateSubdistrictPayload", "subdistrict", Subdistrict, "Result of createSubdistrict."
)
CreateCommunityPayload = payload(
    "CreateCommunityPayload", "community", Community, "Result of createCommunity."
)


@strawberry.type
class PlaceMutations:
    @strawberry.mutation(description="Create a subdistrict (ADMIN).")
    async def create_subdistrict(
        self, info: Info, input: Annotated[CreateSubdistrictInput, INPUT]
    ) -> CreateSubdistrictPayload:
        cmd = CreateSubdistrict(name=input.name, district=input.district)
        row, errors = await execute(info, places.create_subdistrict, cmd)
        return CreateSubdistrictPayload(subdistrict=of(Subdistrict.of, row), errors=errors)

    @strawberry.mutation(description="Create a community with its grids (ADMIN).")
    async def create_community(
        self, info: Info, input: Annotated[CreateCommunityInput, INPUT]
    ) -> CreateCommunityPayload:
        cmd = CreateCommunity(
            subdistrict_id=key(input.subdistrict_id, "Subdistrict"),
            name=input.name,
            grids=tuple(input.grids or ()),
        )
        row, errors = await execute(info, places.create_community, cmd)
        return CreateCommunityPayload(community=of(Community.of, row), errors=errors)
