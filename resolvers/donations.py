"""Recording and refunding donations on every channel, as the domain brief posts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.models import CampaignRow, DonationRow, FundRow, PartnerRow
from db.types import utcnow
from db.uow import one_statement, read_session, unit_of_work
from ledger import accounts as A
from ledger import idempotency, store
from ledger.entries import PostingSpec
from ledger.errors import IdempotencyConflict, LedgerError
from resolvers import donation_rows
from resolvers.auth import Action, Viewer, authorize
from resolvers.errors import UseCaseError, invalid, not_found
from resolvers.funds import amount_in, checked_fund, owning_fund, require_open
from resolvers.ids import decode_id
from resolvers.validation import instant, text

ATTEMPTS = 3  # reads after a write that found the key or ref taken since its read
CHANNELS = ("ONLINE", "CASH", "CHARITY_SALE", "BANK_TRANSFER", "IN_KIND")
OFFLINE = ("CASH", "CHARITY_SALE", "BANK_TRANSFER", "IN_KIND")
# Where each channel's money lands first (debit) and which income it is (credit).
LANDING = {
    "ONLINE": (A.ONLINE_CLEARING, A.INCOME_ONLINE),
    "CASH": (A.CASH_UNCOUNTED, A.INCOME_OFFLINE),
    "CHARITY_SALE": (A.CASH_UNCOUNTED, A.INCOME_OFFLINE),
    "BANK_TRANSFER": (A.BANK, A.INCOME_OFFLINE),
    "IN_KIND": (A.IN_KIND, A.INCOME_IN_KIND),
}


@dataclass(frozen=True)
class DonationInput:
    fund_id: str
    channel: str
    amount: Decimal
    currency: str
    idempotency_key: str
    campaign_id: str | None = None
    donor_name: str | None = None
    anonymous: bool | None = None
    partner_id: str | None = None
    external_ref: str | None = None
    description: str | None = None
    received_at: datetime | None = None


def _action_for(channel: str) -> Action:
    return Action.RECORD_DONATION if channel == "ONLINE" else Action.RECORD_OFFLINE_DONATION


async def record_donation(
    engine: AsyncEngine, viewer: Viewer | None, inp: DonationInput
) -> DonationRow | donation_rows.RecordedDonation:
    if inp.channel not in CHANNELS:
        raise invalid("unknown channel", "channel")
    authorize(viewer, _action_for(inp.channel))
    key = idempotency.check_key(inp.idempotency_key)
    donor = text(inp.donor_name, "donorName", required=False)
    ref = text(inp.external_ref, "externalRef", required=False)
    description = text(inp.description, "description", max_length=500, required=False)
    instant(inp.received_at, "receivedAt")
    now = utcnow()
    received_at = inp.received_at or now
    if received_at > now:
        raise invalid("receivedAt is in the future", "receivedAt")
    if inp.channel == "ONLINE" and not ref:
        raise invalid("an ONLINE donation needs the channel's externalRef", "externalRef")
    if inp.channel == "IN_KIND" and not description:
        raise invalid("an IN_KIND donation needs a description of the goods", "description")
    anonymous = bool(inp.anonymous)
    partner_pk = (
        decode_id(inp.partner_id, "Partner", field="partnerId", what="partner")
        if inp.partner_id
        else None
    )
    if not (donor or partner_pk or anonymous):
        raise invalid("name the donor, the partner, or mark the gift anonymous", "donorName")
    campaign_pk = (
        decode_id(inp.campaign_id, "Campaign", field="campaignId", what="campaign")
        if inp.campaign_id
        else None
    )
    request = {
        "fund": inp.fund_id,
        "channel": inp.channel,
        "amount": str(inp.amount),
        "currency": inp.currency,
        "campaign": campaign_pk,
        "donor": donor,
        "anonymous": anonymous,
        "partner": partner_pk,
        "ref": ref,
        "description": description,
        "receivedAt": inp.received_at,
    }
    fingerprint = idempotency.fingerprint("recordDonation", request)

    action = _action_for(inp.channel)
    fund_pk = decode_id(inp.fund_id, "Fund", field="fundId", what="fund")
    online_ref = ref if inp.channel == "ONLINE" else None

    def draft(fund) -> donation_rows.Draft:
        fen = amount_in(fund, inp.amount, inp.currency, "amount")
        debit, credit = LANDING[inp.channel]
        memo = f"{inp.channel} donation" + (f" {ref}" if ref else "")
        values = dict(
            fund_id=fund.id,
            campaign_id=campaign_pk,
            channel=inp.channel,
            status="RECEIVED" if inp.channel == "ONLINE" else "SETTLED",
            amount_fen=fen,
            donor_name=donor,
            anonymous=anonymous,
            partner_id=partner_pk,
            external_ref=ref,
            online_ref=online_ref,
            description=description,
            received_at=received_at,
            recorded_by=viewer.username,
            created_at=utcnow(),
        )
        contribution = (
            dict(
                partner_id=partner_pk,
                kind="IN_KIND" if inp.channel == "IN_KIND" else "MONEY",
                value_fen=fen,
                currency=fund.currency,
                description=description or memo,
            )
            if partner_pk is not None
            else None
        )
        postings = [
            PostingSpec(debit, "DEBIT", fen, fund.currency),
            PostingSpec(credit, "CREDIT", fen, fund.currency),
        ]
        return donation_rows.Draft(postings, memo, values, contribution)

    def recorded(draft: donation_rows.Draft, written) -> donation_rows.RecordedDonation | None:
        if written is None:  # the key or the ONLINE ref is taken (PostgreSQL)
            return None
        donation_id, entry, announced = written
        return donation_rows.RecordedDonation(
            id=donation_id, entry_id=entry.id, announced=announced, **draft.values
        )

    # The common case on PostgreSQL, in one round trip and without an ORM session: a
    # fund, campaign and partner seen before (all the checks need of them never
    # changes, but the fund's status, which the write checks under the book lock), a
    # new key, a new ONLINE ref. Anything else (something not seen yet, a key or ref
    # already taken, a refusal) is answered by the careful path below, which decides
    # replays before refusals.
    fund = donation_rows.known(engine, "fund", fund_pk)
    if fund is not None and _known_extras(engine, fund, campaign_pk, partner_pk, received_at):
        try:
            fast = draft(checked_fund(viewer, fund, action))
            async with one_statement(engine) as conn:
                done = recorded(
                    fast,
                    await donation_rows.record(conn, fund, fast, key=key, fingerprint=fingerprint),
                )
            if done is not None:
                return done
        except (LedgerError, UseCaseError):
            pass

    # No early book lock: the write takes it. Two racing requests with one key, or one
    # externalRef, can both get through the checks below; the second then finds the
    # key taken at its write, writes nothing and reads again, or fails on the unique
    # key and the mutation layer re-runs it.
    for _ in range(ATTEMPTS):
        async with read_session(engine) as session:
            before = await donation_rows.read_before(session, fund_pk, key, online_ref)
            fund = checked_fund(viewer, before.fund, action)
            fen = amount_in(fund, inp.amount, inp.currency, "amount")
            earlier = idempotency.judge(before.key, "recordDonation", fingerprint)
            if earlier is not None:
                return await session.get(DonationRow, earlier)
            if before.online is not None:
                return await _replay_online(engine, before.online, fen, ref, key, fingerprint)
            require_open(fund)
            if campaign_pk is not None:
                await _check_campaign(session, fund, campaign_pk, received_at)
            if partner_pk is not None:
                if await session.get(PartnerRow, partner_pk) is None:
                    raise not_found("partner", "partnerId")
                donation_rows.remember(session.bind, "partner", partner_pk, True)
        written = draft(fund)
        async with one_statement(engine) as conn:
            done = recorded(
                written,
                await donation_rows.record(conn, fund, written, key=key, fingerprint=fingerprint),
            )
        if done is not None:
            return done
    raise RuntimeError(f"the key {key!r} or ref {ref!r} was taken but cannot be read")


async def _replay_online(
    engine: AsyncEngine, online: tuple[int, int], fen: int, ref, key: str, fingerprint: str
) -> DonationRow:
    """Payment callbacks are retried with fresh keys: the channel's reference is the real
    identity of an online payment. The same amount is the same payment (its key is
    remembered for it); another amount under the same reference is a conflict."""
    existing_id, existing_fen = online
    if existing_fen != fen:
        raise IdempotencyConflict(
            f"externalRef {ref} was recorded with another amount", field="externalRef"
        )
    async with unit_of_work(engine) as session:
        await idempotency.remember(session, key, "recordDonation", fingerprint, existing_id)
        return await session.get(DonationRow, existing_id)


def _known_extras(
    engine: AsyncEngine, fund, campaign_pk: int | None, partner_pk: int | None, at: datetime
) -> bool:
    """Whether the campaign and partner named, if any, were seen before, and the
    donation falls in the campaign's window (else the careful path reads and says)."""
    if campaign_pk is not None:
        campaign = donation_rows.known(engine, "campaign", campaign_pk)
        if campaign is None or not _in_campaign(campaign, fund, at):
            return False
    return partner_pk is None or donation_rows.known(engine, "partner", partner_pk) is not None


def _in_campaign(campaign, fund, at: datetime) -> bool:
    return (
        campaign.fund_id == fund.id
        and at >= campaign.starts_at
        and (campaign.ends_at is None or at <= campaign.ends_at)
    )


async def _check_campaign(
    session: AsyncSession, fund: FundRow, campaign_pk: int, at: datetime
) -> None:
    campaign = await session.get(CampaignRow, campaign_pk)
    if campaign is None or campaign.fund_id != fund.id:
        raise not_found("campaign", "campaignId")
    donation_rows.remember(
        session.bind,
        "campaign",
        campaign.id,
        donation_rows.CampaignFacts(
            campaign.id, campaign.fund_id, campaign.starts_at, campaign.ends_at
        ),
    )
    if not _in_campaign(campaign, fund, at):
        raise invalid("the donation falls outside the campaign's time window", "receivedAt")


def refund_source(donation: DonationRow, balances: dict[str, int]) -> str:
    """The account a refund is paid from: wherever the money is now."""
    if donation.channel == "ONLINE":
        return A.ONLINE_CLEARING if donation.status == "RECEIVED" else A.BANK
    if donation.channel == "BANK_TRANSFER":
        return A.BANK
    if donation.channel == "IN_KIND":
        return A.IN_KIND
    # Cash: from the uncounted box while it covers the refund, else counted cash.
    return (
        A.CASH_UNCOUNTED
        if balances.get(A.CASH_UNCOUNTED, 0) >= donation.amount_fen
        else A.CASH_ON_HAND
    )


async def refund_donation(
    engine: AsyncEngine,
    viewer: Viewer | None,
    *,
    donation_id: str,
    reason: str,
    idempotency_key: str,
) -> DonationRow:
    authorize(viewer, Action.REFUND_DONATION)
    key = idempotency.check_key(idempotency_key)
    pk = decode_id(donation_id, "Donation", field="donationId", what="donation")
    reason = text(reason, "reason", max_length=500)
    fingerprint = idempotency.fingerprint("refundDonation", {"donation": pk, "reason": reason})
    async with unit_of_work(engine) as session:
        donation = await session.get(DonationRow, pk)
        fund = await owning_fund(
            session, viewer, donation, Action.REFUND_DONATION, what="donation", field="donationId"
        )
        await session.refresh(donation)  # the status as of the lock, not before it
        earlier = await idempotency.recall(session, key, "refundDonation", fingerprint)
        if earlier is not None:
            return donation
        if donation.status in ("REFUNDED", "VOIDED"):
            raise UseCaseError(
                "INVALID_STATE",
                f"this donation was already {donation.status.lower()}",
                field="donationId",
            )
        balances = await store.account_balances(session, fund.id)
        source = refund_source(donation, balances)
        income = LANDING[donation.channel][1]
        entry = await store.post_entry(
            session,
            fund.id,
            [
                PostingSpec(income, "DEBIT", donation.amount_fen, fund.currency),
                PostingSpec(source, "CREDIT", donation.amount_fen, fund.currency),
            ],
            memo=f"refund of donation {donation.id}: {reason}",
            recorded_by=viewer.username,
            kind="refund",
        )
        donation.status = "REFUNDED"
        donation.refund_entry_id = entry.id
        session.add(donation)
        await session.flush()
        await idempotency.remember(session, key, "refundDonation", fingerprint, donation.id)
        return donation


@dataclass(frozen=True)
class DonationQuery:
    """A hashable donation filter (DataLoader keys must hash)."""

    channel: str | None = None
    status: str | None = None
    campaign_id: int | None = None
    partner_id: int | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None

    def conditions(self) -> list:
        c = []
        if self.channel:
            c.append(DonationRow.channel == self.channel)
        if self.status:
            c.append(DonationRow.status == self.status)
        if self.campaign_id is not None:
            c.append(DonationRow.campaign_id == self.campaign_id)
        if self.partner_id is not None:
            c.append(DonationRow.partner_id == self.partner_id)
        if self.received_from is not None:
            c.append(DonationRow.received_at >= self.received_from)
        if self.received_to is not None:
            c.append(DonationRow.received_at <= self.received_to)
        return c


async def recent_public_donations(engine: AsyncEngine, fund_id: int, limit: int) -> list[tuple]:
    """(donation, partner or None) pairs, newest first, refunded ones left out."""
    stmt = (
        select(DonationRow, PartnerRow)
        .outerjoin(PartnerRow, PartnerRow.id == DonationRow.partner_id)
        .where(DonationRow.fund_id == fund_id, DonationRow.status.notin_(("REFUNDED", "VOIDED")))
        .order_by(DonationRow.received_at.desc(), DonationRow.id.desc())
        .limit(limit)
    )
    async with read_session(engine) as session:
        return list((await session.execute(stmt)).all())
