"""Live updates over graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from ledger.errors import LedgerError
from resolvers.errors import not_found
from resolvers.ids import decode_id
from resolvers.loaders import Loaders
from schema.arguments import CampaignId
from schema.context import Info
from schema.types.funds import Campaign, CampaignProgress, campaign_progress


async def _campaign(info: Info, campaign_id: strawberry.ID) -> Campaign:
    try:
        pk = decode_id(campaign_id, "Campaign", field="campaignId", what="campaign")
        row = await info.context.loaders.campaign.load(pk)
        if row is None:
            raise not_found("campaign", "campaignId")
    except LedgerError as exc:
        # Subscription errors bypass the ErrorCodes extension: code them here.
        raise GraphQLError(exc.message, extensions={"code": exc.code}) from None
    return Campaign.of(row)


@strawberry.type(description="Live updates.")
class Subscription:
    @strawberry.subscription(
        description="Emits the campaign's progress now and after every donation or refund to it."
    )
    async def campaign_progress(
        self, info: Info, campaign_id: CampaignId
    ) -> AsyncGenerator[CampaignProgress, None]:
        campaign = await _campaign(info, campaign_id)
        async with info.context.app.events.subscribe(campaign.pk) as changes:
            # Fresh loaders for every emission: a DataLoader caches for its lifetime.
            yield await campaign_progress(info, campaign, Loaders(info.context.engine))
            while True:
                await changes.get()
                yield await campaign_progress(info, campaign, Loaders(info.context.engine))

    @strawberry.subscription(
        description=(
            "Emits the campaign now and after every donation or refund to it. Select `id` and"
            " `progress`: a normalising client cache (Apollo, urql, Relay) then updates the"
            " `Campaign` it already holds, and every view of it follows."
        )
    )
    async def campaign_updated(
        self, info: Info, campaign_id: CampaignId
    ) -> AsyncGenerator[Campaign, None]:
        campaign = await _campaign(info, campaign_id)
        async with info.context.app.events.subscribe(campaign.pk) as changes:
            yield campaign
            while True:
                await changes.get()
                # Campaign.progress reads through the context's loaders, which cache for
                # their lifetime: each emission gets new ones, so it sees the new totals.
                info.context.loaders = Loaders(info.context.engine)
                yield campaign
