"""Signed-in users."""

from __future__ import annotations

import enum

import strawberry

from db.models import UserRow
from resolvers.ids import to_global_id
from schema.context import Info
from schema.relay import Node
from schema.types.partners import Partner


@strawberry.enum(description="What a user may do.")
class Role(enum.Enum):
    ADMIN = strawberry.enum_value(
        "ADMIN", description="Everything, including users, places and funds."
    )
    FINANCE = strawberry.enum_value("FINANCE", description="Money operations and every read.")
    COMMUNITY_STAFF = strawberry.enum_value(
        "COMMUNITY_STAFF",
        description="Its own community: partners, campaigns, offline donations, cash, disbursement requests.",
    )
    PARTNER = strawberry.enum_value(
        "PARTNER",
        description="Its own partner record, contributions and gifts, with the funds' public faces.",
    )


@strawberry.type(description="A person or account that signs in.")
class User(Node):
    partner_id: strawberry.Private[int | None]
    username: str = strawberry.field(description="Sign-in name.")
    roles: list[Role] = strawberry.field(description="Its roles.")

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(
            id=to_global_id("User", row.id),
            partner_id=row.partner_id,
            username=row.username,
            roles=[Role(r) for r in row.roles.split(",") if r],
        )

    @strawberry.field(
        description="The partner this account speaks for, when it has the PARTNER role."
    )
    async def partner(self, info: Info) -> Partner | None:
        if self.partner_id is None:
            return None
        row = await info.context.visible.partner.load(self.partner_id)
        return Partner.of(row) if row else None
