"""openFund, changeFundStatus and createCampaign."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers import funds
from resolvers.commands import ChangeFundStatus, CreateCampaign, OpenFund
from schema.arguments import INPUT
from schema.context import Info
from schema.mutations.base import execute, key, of, optional_key, payload
from schema.mutations.money import money
from schema.types.common import MoneyInput
from schema.types.funds import Campaign, Fund, FundLevel, FundStatus


@strawberry.input(description="A new fund and its ledger.")
class OpenFundInput:
    code: str = strawberry.field(description="Short unique code (letters, digits, - and _).")
    name: str = strawberry.field(description="Name.")
    level: FundLevel = strawberry.field(description="Community or subdistrict fund.")
    host: str = strawberry.field(description="The charity that holds it, e.g. 郑州市慈善总会.")
    community_id: strawberry.ID | None = strawberry.field(
        default=None, description="For a COMMUNITY fund."
    )
    subdistrict_id: strawberry.ID | None = strawberry.field(
        default=None, description="For a SUBDISTRICT fund."
    )
    restricted_purpose: str | None = strawberry.field(
        default=None, description="Purpose a restricted fund is held for."
    )


@strawberry.input(description="Freezing, reopening or closing a fund (ADMIN).")
class ChangeFundStatusInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    status: FundStatus = strawberry.field(
        description="OPEN, FROZEN or CLOSED; CLOSED is final and needs an empty fund."
    )
    reason: str = strawberry.field(description="Why, for the record.")


@strawberry.input(description="A new campaign of a fund.")
class CreateCampaignInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    name: str = strawberry.field(description="Name.")
    starts_at: datetime = strawberry.field(description="When donations open.")
    ends_at: datetime | None = strawberry.field(default=None, description="When they close.")
    goal: MoneyInput | None = strawberry.field(default=None, description="Fundraising goal.")


ChangeFundStatusPayload = payload(
    "ChangeFundStatusPayload", "fund", Fund, "Result of changeFundStatus."
)
OpenFundPayload = payload("OpenFundPayload", "fund", Fund, "Result of openFund.")
CreateCampaignPayload = payload(
    "CreateCampaignPayload", "campaign", Campaign, "Result of createCampaign."
)


@strawberry.type
class FundMutations:
    @strawberry.mutation(description="Open a fund and its ledger accounts (ADMIN).")
    async def open_fund(
        self, info: Info, input: Annotated[OpenFundInput, INPUT]
    ) -> OpenFundPayload:
        cmd = OpenFund(
            code=input.code,
            name=input.name,
            level=input.level.value,
            host=input.host,
            community_id=optional_key(input.community_id, "Community"),
            subdistrict_id=optional_key(input.subdistrict_id, "Subdistrict"),
            restricted_purpose=input.restricted_purpose,
        )
        row, errors = await execute(info, funds.open_fund, cmd)
        return OpenFundPayload(fund=of(Fund.of, row), errors=errors)

    @strawberry.mutation(
        description="Freeze, reopen or close a fund (ADMIN). A frozen or closed fund refuses new donations and spending."
    )
    async def change_fund_status(
        self, info: Info, input: Annotated[ChangeFundStatusInput, INPUT]
    ) -> ChangeFundStatusPayload:
        cmd = ChangeFundStatus(
            fund_id=key(input.fund_id, "Fund"), status=input.status.value, reason=input.reason
        )
        row, errors = await execute(info, funds.change_fund_status, cmd)
        return ChangeFundStatusPayload(fund=of(Fund.of, row), errors=errors)

    @strawberry.mutation(description="Create a campaign of a fund.")
    async def create_campaign(
        self, info: Info, input: Annotated[CreateCampaignInput, INPUT]
    ) -> CreateCampaignPayload:
        cmd = CreateCampaign(
            fund_id=key(input.fund_id, "Fund"),
            name=input.name,
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            goal=money(input.goal) if input.goal else None,
        )
        row, errors = await execute(info, funds.create_campaign, cmd)
        return CreateCampaignPayload(campaign=of(Campaign.of, row), errors=errors)
