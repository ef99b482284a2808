"""registerPartner and recordService."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from resolvers import partners
from resolvers.commands import RecordService, RegisterPartner
from schema.arguments import INPUT
from schema.context import Info
from schema.mutations.base import execute, key, of, optional_key, payload
from schema.types.partners import Contribution, Partner, PartnerKind


@strawberry.input(description="A partner signing with a community.")
class RegisterPartnerInput:
    name: str = strawberry.field(description="The partner's name.")
    kind: PartnerKind = strawberry.field(description="What kind of partner.")
    community_id: strawberry.ID = strawberry.field(description="The community signed with.")
    signed_on: date = strawberry.field(description="The day it was signed.")
    certificate_no: str | None = strawberry.field(default=None, description="Certificate number.")


@strawberry.input(description="Volunteer hours a partner gave.")
class RecordServiceInput:
    partner_id: strawberry.ID = strawberry.field(description="The partner.")
    hours: Decimal = strawberry.field(description="Hours, at most two decimals.")
    description: str = strawberry.field(description="What was done.")
    occurred_at: datetime | None = strawberry.field(default=None, description="When (default now).")
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The campaign the hours were given at, if any: they then count in the partner's campaignTotals.",
    )
    idempotency_key: str = strawberry.field(
        description="Same key and input: the first result, nothing new written."
    )


RegisterPartnerPayload = payload(
    "RegisterPartnerPayload", "partner", Partner, "Result of registerPartner."
)
RecordServicePayload = payload(
    "RecordServicePayload", "contribution", Contribution, "Result of recordService."
)


@strawberry.type
class PartnerMutations:
    @strawberry.mutation(
        description="Register a partner's partnership with a community (ADMIN, or COMMUNITY_STAFF of that community)."
    )
    async def register_partner(
        self, info: Info, input: Annotated[RegisterPartnerInput, INPUT]
    ) -> RegisterPartnerPayload:
        cmd = RegisterPartner(
            name=input.name,
            kind=input.kind.value,
            community_id=key(input.community_id, "Community"),
            signed_on=input.signed_on,
            certificate_no=input.certificate_no,
        )
        row, errors = await execute(info, partners.register_partner, cmd)
        return RegisterPartnerPayload(partner=of(Partner.of, row), errors=errors)

    @strawberry.mutation(description="Record a partner's volunteer hours.")
    async def record_service(
        self, info: Info, input: Annotated[RecordServiceInput, INPUT]
    ) -> RecordServicePayload:
        cmd = RecordService(
            partner_id=key(input.partner_id, "Partner"),
            hours=input.hours,
            description=input.description,
            occurred_at=input.occurred_at,
            idempotency_key=input.idempotency_key,
            campaign_id=optional_key(input.campaign_id, "Campaign"),
        )
        row, errors = await execute(info, partners.record_service, cmd)
        return RecordServicePayload(contribution=of(Contribution.of, row), errors=errors)
