"""Donations on every channel, cash counts, and the public view of donations."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from db.models import CashCountRow, DonationRow
from resolvers.donation_rows import RecordedDonation
from resolvers.donations import DonationQuery, recent_public_donations
from resolvers.errors import invalid
from resolvers.ids import decode_id, to_global_id
from resolvers.loaders import NOT_HELD, held
from resolvers.public import masked_donor
from resolvers.validation import instant
from schema.context import Info
from schema.executor import NOT_PRELOADED, preloaded
from schema.relay import Node
from schema.types.common import Money, money, shown
from schema.types.funds import Campaign, Fund, PublicFundReport
from schema.types.ledger import JournalEntry
from schema.types.partners import Partner
from schema.types.receipts import DonationReceipt, donation_receipt


@strawberry.enum(description="How a donation was given.")
class DonationChannel(enum.Enum):
    ONLINE = strawberry.enum_value(
        "ONLINE",
        description="Paid online (mini program, WeChat Pay, Alipay); settles to the bank later.",
    )
    CASH = strawberry.enum_value(
        "CASH",
        description="Cash handed over on site, e.g. the donation box at a neighbours' festival.",
    )
    CHARITY_SALE = strawberry.enum_value("CHARITY_SALE", description="Proceeds of a charity sale.")
    BANK_TRANSFER = strawberry.enum_value(
        "BANK_TRANSFER", description="Transferred straight into the fund's bank account."
    )
    IN_KIND = strawberry.enum_value("IN_KIND", description="Goods, recorded at a declared value.")


@strawberry.enum(
    description="ONLINE donations are RECEIVED until the channel's settlement file settles them; every other channel is SETTLED when recorded. REFUNDED: the money went back (refundDonation). VOIDED: recorded by mistake and undone before anything settled it (voidDonation)."
)
class DonationStatus(enum.Enum):
    RECEIVED = strawberry.enum_value(
        "RECEIVED", description="An ONLINE donation the payment channel has not settled yet."
    )
    SETTLED = strawberry.enum_value(
        "SETTLED", description="The money (or the goods) is in the fund's hands."
    )
    REFUNDED = strawberry.enum_value(
        "REFUNDED", description="The money went back to the donor (refundDonation)."
    )
    VOIDED = strawberry.enum_value(
        "VOIDED",
        description="Recorded by mistake and undone before anything settled it (voidDonation).",
    )


# Members by stored value: a list page builds hundreds (the enum's own lookup for the rest).
_CHANNELS = {member.value: member for member in DonationChannel}
_STATUSES = {member.value: member for member in DonationStatus}


@strawberry.type(
    description="A gift to a fund, on any channel. Seen by ADMIN and FINANCE, the staff of the fund's community, and the partner who gave it."
)
class Donation(Node):
    row: strawberry.Private[DonationRow | RecordedDonation]
    channel: DonationChannel = strawberry.field(description="How it was given.")
    status: DonationStatus = strawberry.field(description="Received, settled or refunded.")
    amount: Money = strawberry.field(description="The amount (declared value for goods).")
    anonymous: bool = strawberry.field(description="The donor asked not to be named.")
    external_ref: str | None = strawberry.field(
        description="The payment channel's transaction id, for ONLINE and BANK_TRANSFER."
    )
    received_at: datetime = strawberry.field(description="When it was received.")
    # Set by a list that preloaded the campaigns of its donations (see preload_campaigns).
    preloaded_campaign: strawberry.Private[Campaign | None] = NOT_PRELOADED

    @classmethod
    def of(cls, row: DonationRow | RecordedDonation) -> Donation:
        """A donation the viewer may see: loaded through the viewer-scoped loaders, or
        just written by a use case that authorized the viewer on its fund."""
        return cls(
            id=to_global_id("Donation", row.id),
            row=row,
            channel=_CHANNELS.get(row.channel) or DonationChannel(row.channel),
            status=_STATUSES.get(row.status) or DonationStatus(row.status),
            amount=money(row.amount_fen),
            anonymous=row.anonymous,
            external_ref=row.external_ref,
            received_at=row.received_at,
        )

    @classmethod
    def in_visible_fund(cls, row: DonationRow | RecordedDonation) -> Donation:
        """A donation a write returns (the use case authorized the viewer on its fund)."""
        return cls.of(row)

    @staticmethod
    async def preload_campaigns(info: Info, donations: list[Donation]) -> None:
        """Give each donation of a page its campaign, so that its campaign field is read
        as an attribute (schema/executor.preloaded). A page read through the fund's
        donation loader brought its campaigns with it (db/reads.donation_pages), so
        this finds them in the campaign loader's cache; others are read in one batch."""
        # Each campaign once: a page names few campaigns, and each load is a future.
        ids = list(dict.fromkeys(d.row.campaign_id for d in donations))
        loader = info.context.loaders.campaign
        rows = {i: held(loader, i) for i in ids if i is not None}
        # Those the page primed are read from the cache; the others in one batch.
        missing = [i for i, row in rows.items() if row is NOT_HELD]
        if missing:
            rows.update(zip(missing, await loader.load_many(missing), strict=True))
        by_id = {i: Campaign.of(row) for i, row in rows.items() if row is not None}
        for donation in donations:
            donation.preloaded_campaign = by_id.get(donation.row.campaign_id)

    @strawberry.field(
        description="The fund it was given to, to a viewer who may read the fund (ADMIN, FINANCE, the fund's community staff); anyone else (a partner on its own gift) gets a NOT_FOUND error here, which nulls the donation: ask publicFund instead."
    )
    async def fund(self, info: Info) -> Fund:
        return Fund.of(shown(await info.context.visible.fund.load(self.row.fund_id), "fund"))

    @strawberry.field(
        description="The public face of the fund it was given to (code, name, host, the public report, donors masked): anyone who sees the donation sees it."
    )
    async def public_fund(self, info: Info) -> PublicFundReport:
        return PublicFundReport.of(await info.context.loaders.fund.load(self.row.fund_id))

    @strawberry.field(description="The campaign it was given to, if any.")
    @preloaded("preloaded_campaign")
    def campaign(self, info: Info) -> Campaign | None:
        # Synchronous when the list this donation came in preloaded its campaign.
        if self.preloaded_campaign is not NOT_PRELOADED:
            return self.preloaded_campaign
        if self.row.campaign_id is None:
            return None
        return self._load_campaign(info)

    async def _load_campaign(self, info: Info) -> Campaign | None:
        return Campaign.of(await info.context.loaders.campaign.load(self.row.campaign_id))

    @strawberry.field(
        description="Null when the donor asked to stay anonymous or the viewer may not see it."
    )
    def donor_name(self) -> str | None:
        # The donation itself was decided visible: its donor's name goes with it.
        return None if self.row.anonymous else self.row.donor_name

    @strawberry.field(
        description="The partner who gave it, if any; null also when the viewer may not see that partner (staff of another community than the partner signed with)."
    )
    async def partner(self, info: Info) -> Partner | None:
        if self.row.partner_id is None:
            return None
        row = await info.context.visible.partner.load(self.row.partner_id)
        return Partner.of(row) if row else None

    @strawberry.field(
        description="The entry that recorded it, to a viewer who may read the fund's ledger (ADMIN, FINANCE, the fund's community staff); anyone else gets a NOT_FOUND error here, which nulls the donation."
    )
    async def journal_entry(self, info: Info) -> JournalEntry:
        row = await info.context.visible.entry.load(self.row.entry_id)
        return JournalEntry.of(shown(row, "journal entry"))

    @strawberry.field(description="Its receipt: number, the donor's PDF link, the public check.")
    async def receipt(self, info: Info) -> DonationReceipt | None:
        return await donation_receipt(info, self.row)


@strawberry.input(description="Narrows a fund's donations.")
class DonationFilter:
    channel: DonationChannel | None = strawberry.field(
        default=None, description="Only this channel."
    )
    status: DonationStatus | None = strawberry.field(default=None, description="Only this status.")
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this campaign's."
    )
    partner_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this partner's."
    )
    received_from: datetime | None = strawberry.field(
        default=None, description="Received at or after."
    )
    received_to: datetime | None = strawberry.field(
        default=None, description="Received at or before."
    )

    def to_query(self) -> DonationQuery:
        instant(self.received_from, "filter.receivedFrom")
        instant(self.received_to, "filter.receivedTo")
        if self.received_from and self.received_to and self.received_to < self.received_from:
            raise invalid("receivedTo is before receivedFrom", "filter.receivedTo")
        return DonationQuery(
            channel=self.channel.value if self.channel else None,
            status=self.status.value if self.status else None,
            campaign_id=decode_id(self.campaign_id, "Campaign", field="filter.campaignId")
            if self.campaign_id
            else None,
            partner_id=decode_id(self.partner_id, "Partner", field="filter.partnerId")
            if self.partner_id
            else None,
            received_from=self.received_from,
            received_to=self.received_to,
        )


@strawberry.type(description="A two-person count of the cash collected offline.")
class CashCount(Node):
    row: strawberry.Private[CashCountRow]
    expected: Money = strawberry.field(
        description="Cash recorded as received (CASH and CHARITY_SALE donations) and not yet counted."
    )
    counted: Money = strawberry.field(description="What the counters found.")
    variance: Money = strawberry.field(
        description="Counted less expected (counted - expected); a non-zero variance is posted to the over/short account."
    )
    counted_by: list[str] = strawberry.field(description="Who counted: at least two people.")
    counted_at: datetime = strawberry.field(description="When.")

    @classmethod
    def of(cls, row: CashCountRow) -> CashCount:
        return cls(
            id=to_global_id("CashCount", row.id),
            row=row,
            expected=money(row.expected_fen),
            counted=money(row.counted_fen),
            variance=money(row.counted_fen - row.expected_fen),
            counted_by=row.counted_by.split("\n"),
            counted_at=row.counted_at,
        )

    @strawberry.field(description="The fund counted for.")
    async def fund(self, info: Info) -> Fund:
        return Fund.of(shown(await info.context.visible.fund.load(self.row.fund_id), "fund"))


@strawberry.type(description="A donation as the public sees it.")
class PublicDonation:
    donor_name: str = strawberry.field(
        description="Masked: a person's name shows its first character and one star (张三丰 -> 张*); an organisation's its first two characters and two stars (浦发银行百花路支行 -> 浦发**); anonymous donors show as 匿名. A donation recorded with only a partner shows that partner's name, masked by the partner's kind (RESIDENT as a person)."
    )
    amount: Money = strawberry.field(description="The amount.")
    channel: DonationChannel = strawberry.field(description="How it was given.")
    received_at: datetime = strawberry.field(description="When.")


PUBLIC_DEFAULT, PUBLIC_MAX = 20, 100


async def public_donations(info: Info, fund_id: int, first: int | None) -> list[PublicDonation]:
    limit = PUBLIC_DEFAULT if first is None else first
    if not 0 <= limit <= PUBLIC_MAX:
        raise invalid(f"first must be between 0 and {PUBLIC_MAX}", "first")
    rows = await recent_public_donations(info.context.read_engine, fund_id, limit)
    return [
        PublicDonation(
            donor_name=masked_donor(
                anonymous=d.anonymous,
                donor_name=d.donor_name,
                partner_name=p.name if p else None,
                partner_kind=p.kind if p else None,
            ),
            amount=money(d.amount_fen),
            channel=DonationChannel(d.channel),
            received_at=d.received_at,
        )
        for d, p in rows
    ]
