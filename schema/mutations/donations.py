"""recordDonation and refundDonation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from resolvers import donations
from resolvers.commands import RecordDonation, RefundDonation
from schema.arguments import INPUT
from schema.context import Info
from schema.mutations.base import execute, key, of, optional_key, payload
from schema.types.common import MoneyInput
from schema.types.donations import Donation, DonationChannel


@strawberry.input(description="A donation to record.")
class RecordDonationInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund given to.")
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="The campaign, if any."
    )
    channel: DonationChannel = strawberry.field(description="How it was given.")
    amount: MoneyInput = strawberry.field(description="The amount, or the declared value of goods.")
    donor_name: str | None = strawberry.field(default=None, description="The donor's name.")
    anonymous: bool | None = strawberry.field(
        default=None, description="The donor asks not to be named."
    )
    partner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The partner who gave it."
    )
    external_ref: str | None = strawberry.field(
        default=None, description="The channel's transaction id (required for ONLINE)."
    )
    description: str | None = strawberry.field(
        default=None, description="What was given (required for IN_KIND)."
    )
    received_at: datetime | None = strawberry.field(default=None, description="When (default now).")
    idempotency_key: str = strawberry.field(
        description="Same key and input: the first result, nothing new written."
    )


@strawberry.input(description="A refund of a donation.")
class RefundDonationInput:
    donation_id: strawberry.ID = strawberry.field(description="The donation.")
    reason: str = strawberry.field(description="Why.")
    idempotency_key: str = strawberry.field(description="Same key and input: the first result.")


RecordDonationPayload = payload(
    "RecordDonationPayload", "donation", Donation, "Result of recordDonation."
)
RefundDonationPayload = payload(
    "RefundDonationPayload", "donation", Donation, "Result of refundDonation."
)


def record_donation_command(input: RecordDonationInput) -> RecordDonation:
    return RecordDonation(
        fund_id=key(input.fund_id, "Fund"),
        channel=input.channel.value,
        amount=input.amount.amount,
        currency=input.amount.currency,
        idempotency_key=input.idempotency_key,
        campaign_id=optional_key(input.campaign_id, "Campaign"),
        donor_name=input.donor_name,
        anonymous=input.anonymous,
        partner_id=optional_key(input.partner_id, "Partner"),
        external_ref=input.external_ref,
        description=input.description,
        received_at=input.received_at,
    )


@strawberry.type
class DonationMutations:
    @strawberry.mutation(description="Record a donation on any channel; posts it to the ledger.")
    async def record_donation(
        self, info: Info, input: Annotated[RecordDonationInput, INPUT]
    ) -> RecordDonationPayload:
        cmd = record_donation_command(input)
        row, errors = await execute(info, donations.record_donation, cmd)
        if row is not None and not getattr(row, "announced", False):
            await info.context.app.events.publish(row.campaign_id)
        # The use case checked that the viewer may see the fund.
        return RecordDonationPayload(donation=of(Donation.in_visible_fund, row), errors=errors)

    @strawberry.mutation(description="Pay a donation back from where the money is now (once).")
    async def refund_donation(
        self, info: Info, input: Annotated[RefundDonationInput, INPUT]
    ) -> RefundDonationPayload:
        cmd = RefundDonation(
            donation_id=key(input.donation_id, "Donation"),
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        row, errors = await execute(info, donations.refund_donation, cmd)
        if row is not None:
            await info.context.app.events.publish(row.campaign_id)
        return RefundDonationPayload(donation=of(Donation.in_visible_fund, row), errors=errors)
