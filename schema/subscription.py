"""Live updates over graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from ledger.errors import LedgerError
from resolvers.errors import not_found
from resolvers.ids import decode_id
from resolvers.loaders import Loaders
from schema.context import Info
from schema.types.funds import Campaign, CampaignProgress, campaign_progress


@strawberry.type(description="Live updates.")
class Subscription:
    @strawberry.subscription(
        description="Emits the campaign's progress now and after every donation or refund to it."
    )
    async def campaign_progress(
        self, info: Info, campaign_id: strawberry.ID
    ) -> AsyncGenerator[CampaignProgress, None]:
        try:
            pk = decode_id(campaign_id, "Campaign", field="campaignId", what="campaign")
            row = await info.context.loaders.campaign.load(pk)
            if row is None:
                raise not_found("campaign", "campaignId")
        except LedgerError as exc:
            # Subscription errors bypass the ErrorCodes extension: code them here.
            raise GraphQLError(exc.message, extensions={"code": exc.code}) from None
        campaign = Campaign.of(row)
        feed = info.context.app.events
        async with feed.subscribe(pk) as changes:
            # Fresh loaders for every emission: a DataLoader caches for its lifetime.
            yield await campaign_progress(info, campaign, Loaders(info.context.engine))
            while True:
                await changes.get()
                yield await campaign_progress(info, campaign, Loaders(info.context.engine))
