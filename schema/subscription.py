"""Live updates over graphql-transport-ws."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from graphql import GraphQLError

from ledger.errors import LedgerError
from resolvers.errors import not_found
from resolvers.ids import decode_id
from resolvers.loaders import Loaders
from resolvers.public_reads import reads_of
from schema.arguments import CampaignId
from schema.context import Info
from schema.types.funds import Campaign, CampaignProgress, campaign_progress


async def _campaign(info: Info, campaign_id: strawberry.ID) -> Campaign:
    try:
        pk = decode_id(campaign_id, "Campaign", field="campaignId", what="campaign")
        public = await info.context.viewer() is None
        loaders = info.context.public_loaders if public else info.context.loaders
        row = await loaders.campaign.load(pk)
        if row is None:
            raise not_found("campaign", "campaignId")
    except LedgerError as exc:
        # Subscription errors bypass the ErrorCodes extension: code them here.
        raise GraphQLError(exc.message, extensions={"code": exc.code}) from None
    return Campaign.of(row)


def _changes(info: Info, campaign: Campaign):
    """The campaign's change queue (a shared execution's sockets count as subscriptions,
    not the execution: web/broadcasts.py)."""
    return info.context.app.events.subscribe(campaign.pk, counted=not info.context.broadcast)


async def _read_engine(info: Info, *, woken: bool):
    """An anonymous board reads the replica, if there is one; woken by a change, only
    once the replica has replayed what the primary had written when it woke, else the
    primary: the board may lag a moment, never for ever (db/replica.py)."""
    app = info.context.app
    # No replica, or one cut off for lag (AppState.read_engine decides): the primary.
    if app.read_engine is app.engine or await info.context.viewer() is not None:
        return app.engine
    if not woken or await app.replica.caught_up_with_primary():
        return app.replica.engine
    return app.engine


async def _emission_loaders(info: Info, campaign: Campaign, *, woken: bool) -> Loaders:
    """Fresh loaders for one emission (a DataLoader caches for its lifetime), holding
    the campaign's progress from the process's cache of public reads: after a change,
    one read per campaign per worker, shared by every subscriber it wakes. The head
    that keys it is read through the same engine as the progress."""
    engine = await _read_engine(info, woken=woken)
    loaders = Loaders(engine)
    reads = reads_of(info.context.app)
    if reads is not None:
        entry = await reads.get(
            engine,
            ("progress", campaign.pk),
            (campaign.fund_id,),
            lambda: Loaders(engine).campaign_progress.load(campaign.pk),
        )
        loaders.campaign_progress.prime(campaign.pk, entry.value)
    return loaders


@strawberry.type(description="Live updates.")
class Subscription:
    @strawberry.subscription(
        description="Emits the campaign's progress now and after every donation or refund to it."
    )
    async def campaign_progress(
        self, info: Info, campaign_id: CampaignId
    ) -> AsyncGenerator[CampaignProgress, None]:
        campaign = await _campaign(info, campaign_id)
        async with _changes(info, campaign) as changes:
            loaders = await _emission_loaders(info, campaign, woken=False)
            yield await campaign_progress(info, campaign, loaders)
            while True:
                await changes.get()
                loaders = await _emission_loaders(info, campaign, woken=True)
                yield await campaign_progress(info, campaign, loaders)

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
        async with _changes(info, campaign) as changes:
            info.context.loaders = await _emission_loaders(info, campaign, woken=False)
            yield campaign
            while True:
                await changes.get()
                # Campaign.progress reads through the context's loaders, which cache for
                # their lifetime: each emission gets new ones, so it sees the new totals.
                info.context.loaders = await _emission_loaders(info, campaign, woken=True)
                yield campaign
