"""Verifiable giving in the API: published daily roots, a donation's receipt, and the
FINANCE mutation that publishes roots on demand (the `jinlin publish-roots` cron job
publishes them at the end of each day)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from ledger.daily_roots import DailyRoot as DailyRootValue
from resolvers import receipts
from schema.arguments import INPUT
from schema.context import Info
from schema.errors import UserError


@strawberry.type(
    description="The Merkle root of one day's journal entries of a fund (RFC 6962 hashing), chained to the previous day's; once published it never changes. docs/verifiable-giving.md gives the algorithm."
)
class DailyRoot:
    day: date = strawberry.field(description="The day (fund time zone).")
    first_sequence: int = strawberry.field(description="Sequence of the day's first entry.")
    last_sequence: int = strawberry.field(
        description="Sequence of its last entry (firstSequence - 1 when the day had none)."
    )
    tree_size: int = strawberry.field(description="How many entries the tree holds.")
    merkle_root: str = strawberry.field(description="The tree's root hash (hex).")
    previous_root: str | None = strawberry.field(
        description="The previous day's chained root; null for the fund's first day."
    )
    root: str = strawberry.field(
        description="SHA-256(0x02 || previousRoot || day || treeSize || merkleRoot), hex."
    )
    published_at: datetime = strawberry.field(description="When it was published.")

    @classmethod
    def of(cls, value: DailyRootValue) -> DailyRoot:
        return cls(
            day=value.day,
            first_sequence=value.first_sequence,
            last_sequence=value.last_sequence,
            tree_size=value.tree_size,
            merkle_root=value.merkle_root,
            previous_root=value.previous_root,
            root=value.root,
            published_at=value.published_at,
        )


@strawberry.type(description="A donation's receipt.")
class DonationReceipt:
    number: str = strawberry.field(
        description="Per fund and year, without gaps, e.g. ETGY-2026-000123."
    )
    url: str | None = strawberry.field(
        description="The donor's link to the PDF (relative to the server; it carries the receipt's secret). Null unless the viewer may download it: FINANCE, ADMIN, or the partner who gave."
    )
    verify_url: str = strawberry.field(
        description="The public page that checks the gift against the published daily root."
    )


@strawberry.input(description="Publishing a fund's daily root.")
class PublishDailyRootsInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    day: date = strawberry.field(
        description="A day that has ended (fund time zone); earlier unpublished days are published first."
    )


@strawberry.type(description="Result of publishDailyRoots.")
class PublishDailyRootsPayload:
    root: DailyRoot | None = strawberry.field(description="The day's root, as published.")
    errors: list[UserError] = strawberry.field(description="Why it failed.")


@strawberry.type
class ReceiptMutations:
    @strawberry.mutation(
        description="Publish a fund's daily Merkle root now rather than at the end-of-day run (FINANCE, ADMIN). Publishing a published day returns the same root."
    )
    async def publish_daily_roots(
        self, info: Info, input: Annotated[PublishDailyRootsInput, INPUT]
    ) -> PublishDailyRootsPayload:
        from schema.mutations import run

        info.context.wrote = True  # its payload reads the roots it published
        value, errors = await run(
            receipts.publish_daily_roots,
            info.context.engine,
            await info.context.viewer(),
            info.context.app.timezone,
            fund_id=input.fund_id,
            day=input.day,
        )
        return PublishDailyRootsPayload(root=DailyRoot.of(value) if value else None, errors=errors)


async def donation_receipt(info: Info, row) -> DonationReceipt | None:
    found = await receipts.receipt_loader(info.context.loaders).load(row.id)
    if found is None:
        return None
    viewer = await info.context.viewer()
    url = (
        receipts.receipt_path(found.number, found.secret)
        if receipts.may_hold_link(viewer, row)
        else None
    )
    return DonationReceipt(
        number=found.number, url=url, verify_url=receipts.verify_path(found.number)
    )


async def fund_roots(info: Info, fund_pk: int, first: int | None) -> list[DailyRoot]:
    values = await receipts.public_roots(info.context.read_engine, fund_pk, first)
    return [DailyRoot.of(v) for v in values]
