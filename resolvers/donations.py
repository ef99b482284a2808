"""Recording and refunding donations on every channel, as the domain brief posts them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db import donations as donations_db
from db.donations import Draft, RecordedDonation
from db.models import CampaignRow, DonationRow, FundRow, PartnerRow
from db.reads import DonationFilter
from db.uow import read_session
from ledger import accounts as A
from ledger import idempotency, store
from ledger.entries import PostingSpec
from ledger.errors import IdempotencyConflict, LedgerError
from resolvers import donation_rows
from resolvers.auth import Action, authorize
from resolvers.commands import RecordDonation, RefundDonation
from resolvers.errors import UseCaseError, invalid, not_found
from resolvers.funds import amount_in, checked_fund, owning_fund, require_open
from resolvers.ids import stored_ref
from resolvers.unit_of_work import UnitOfWork
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


def _action_for(channel: str) -> Action:
    return Action.RECORD_DONATION if channel == "ONLINE" else Action.RECORD_OFFLINE_DONATION


@dataclass(frozen=True, slots=True)
class _Checked:
    """A donation's input once checked: what the write and the replay need."""

    cmd: RecordDonation
    action: Action
    key: str
    fingerprint: str
    donor: str | None
    ref: str | None
    description: str | None
    received_at: datetime

    @property
    def online_ref(self) -> str | None:
        return self.ref if self.cmd.channel == "ONLINE" else None


def _check(cmd: RecordDonation, uow: UnitOfWork) -> _Checked:
    """Every check that needs no database, in the order the API has always refused."""
    if cmd.channel not in CHANNELS:
        raise invalid("unknown channel", "channel")
    authorize(uow.viewer, _action_for(cmd.channel))
    key = idempotency.check_key(cmd.idempotency_key)
    donor = text(cmd.donor_name, "donorName", required=False)
    ref = text(cmd.external_ref, "externalRef", required=False)
    description = text(cmd.description, "description", max_length=500, required=False)
    instant(cmd.received_at, "receivedAt")
    now = uow.now()
    received_at = cmd.received_at or now
    if received_at > now:
        raise invalid("receivedAt is in the future", "receivedAt")
    if cmd.channel == "ONLINE" and not ref:
        raise invalid("an ONLINE donation needs the channel's externalRef", "externalRef")
    if cmd.channel == "IN_KIND" and not description:
        raise invalid("an IN_KIND donation needs a description of the goods", "description")
    if not (donor or cmd.partner_id is not None or cmd.anonymous):
        raise invalid("name the donor, the partner, or mark the gift anonymous", "donorName")
    request = {
        "fund": stored_ref("Fund", cmd.fund_id),
        "channel": cmd.channel,
        "amount": str(cmd.amount),
        "currency": cmd.currency,
        "campaign": cmd.campaign_id,
        "donor": donor,
        "anonymous": bool(cmd.anonymous),
        "partner": cmd.partner_id,
        "ref": ref,
        "description": description,
        "receivedAt": cmd.received_at,
    }
    fingerprint = idempotency.fingerprint("recordDonation", request)
    return _Checked(
        cmd, _action_for(cmd.channel), key, fingerprint, donor, ref, description, received_at
    )


def _draft(c: _Checked, fund, uow: UnitOfWork) -> Draft:
    """The entry, donation and contribution to write into `fund`."""
    cmd = c.cmd
    fen = amount_in(fund, cmd.amount, cmd.currency, "amount")
    debit, credit = LANDING[cmd.channel]
    memo = f"{cmd.channel} donation" + (f" {c.ref}" if c.ref else "")
    values = dict(
        fund_id=fund.id,
        campaign_id=cmd.campaign_id,
        channel=cmd.channel,
        status="RECEIVED" if cmd.channel == "ONLINE" else "SETTLED",
        amount_fen=fen,
        donor_name=c.donor,
        anonymous=bool(cmd.anonymous),
        partner_id=cmd.partner_id,
        external_ref=c.ref,
        online_ref=c.online_ref,
        description=c.description,
        received_at=c.received_at,
        recorded_by=uow.username,
        created_at=uow.now(),
    )
    contribution = None
    if cmd.partner_id is not None:
        contribution = dict(
            partner_id=cmd.partner_id,
            kind="IN_KIND" if cmd.channel == "IN_KIND" else "MONEY",
            value_fen=fen,
            currency=fund.currency,
            description=c.description or memo,
        )
    postings = [
        PostingSpec(debit, "DEBIT", fen, fund.currency),
        PostingSpec(credit, "CREDIT", fen, fund.currency),
    ]
    return Draft(postings, memo, values, contribution)


async def _write(c: _Checked, fund, uow: UnitOfWork) -> RecordedDonation | None:
    """The one statement; None when the key or the ONLINE ref is taken (read again)."""
    draft = _draft(c, fund, uow)
    async with uow.one_statement() as conn:
        written = await donations_db.record(conn, fund, draft, key=c.key, fingerprint=c.fingerprint)
    if written is None:
        return None
    donation_id, entry, announced = written
    return RecordedDonation(id=donation_id, entry_id=entry.id, announced=announced, **draft.values)


async def _fast(c: _Checked, uow: UnitOfWork) -> RecordedDonation | None:
    """The common case, in one round trip and without an ORM session: a fund, campaign
    and partner seen before (all the checks need of them never changes, but the fund's
    status, which the write checks under the book lock), a new key, a new ONLINE ref.
    None for anything else (something not seen yet, a key or ref already taken, a
    refusal): the careful path answers, deciding replays before refusals."""
    cmd = c.cmd
    fund = donation_rows.known(uow.engine, "fund", cmd.fund_id)
    if fund is None or not _known_extras(uow.engine, fund, cmd, c.received_at):
        return None
    try:
        return await _write(c, checked_fund(uow.viewer, fund, c.action), uow)
    except (LedgerError, UseCaseError):
        return None


async def _careful(c: _Checked, uow: UnitOfWork) -> DonationRow | RecordedDonation | None:
    """Read the fund, key and ONLINE ref, answer a replay or a refusal, else write.

    No early book lock: the write takes it. Two racing requests with one key, or one
    externalRef, can both get through these checks; the second then finds the key
    taken at its write, writes nothing and reads again (None), or fails on the unique
    key and the mutation layer re-runs it."""
    cmd = c.cmd
    async with uow.reading() as session:
        before = await donations_db.read_before(session, cmd.fund_id, c.key, c.online_ref)
        if before.fund is not None:
            donation_rows.remember(uow.engine, "fund", before.fund.id, before.fund)
        fund = checked_fund(uow.viewer, before.fund, c.action)
        fen = amount_in(fund, cmd.amount, cmd.currency, "amount")
        earlier = idempotency.judge(before.key, "recordDonation", c.fingerprint)
        if earlier is not None:
            return await session.get(DonationRow, earlier)
        if before.online is not None:
            return await _replay_online(uow, before.online, fen, c)
        require_open(fund)
        if cmd.campaign_id is not None:
            await _check_campaign(session, fund, cmd.campaign_id, c.received_at)
        if cmd.partner_id is not None:
            if await session.get(PartnerRow, cmd.partner_id) is None:
                raise not_found("partner", "partnerId")
            donation_rows.remember(uow.engine, "partner", cmd.partner_id, True)
    return await _write(c, fund, uow)


async def record_donation(cmd: RecordDonation, uow: UnitOfWork) -> DonationRow | RecordedDonation:
    checked = _check(cmd, uow)
    done = await _fast(checked, uow)
    if done is not None:
        return done
    for _ in range(ATTEMPTS):
        done = await _careful(checked, uow)
        if done is not None:
            return done
    raise RuntimeError(
        f"the key {checked.key!r} or ref {checked.ref!r} was taken but cannot be read"
    )


async def _replay_online(
    uow: UnitOfWork, online: tuple[int, int], fen: int, c: _Checked
) -> DonationRow:
    """Payment callbacks are retried with fresh keys: the channel's reference is the real
    identity of an online payment. The same amount is the same payment (its key is
    remembered for it); another amount under the same reference is a conflict."""
    existing_id, existing_fen = online
    if existing_fen != fen:
        raise IdempotencyConflict(
            f"externalRef {c.ref} was recorded with another amount", field="externalRef"
        )
    async with uow.transaction() as session:
        await idempotency.remember(session, c.key, "recordDonation", c.fingerprint, existing_id)
        return await session.get(DonationRow, existing_id)


def _known_extras(engine: AsyncEngine, fund, cmd: RecordDonation, at: datetime) -> bool:
    """Whether the campaign and partner named, if any, were seen before, and the
    donation falls in the campaign's window (else the careful path reads and says)."""
    if cmd.campaign_id is not None:
        campaign = donation_rows.known(engine, "campaign", cmd.campaign_id)
        if campaign is None or not _in_campaign(campaign, fund, at):
            return False
    return cmd.partner_id is None or (
        donation_rows.known(engine, "partner", cmd.partner_id) is not None
    )


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


async def refund_donation(cmd: RefundDonation, uow: UnitOfWork) -> DonationRow:
    viewer = uow.viewer
    authorize(viewer, Action.REFUND_DONATION)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.donation_id
    reason = text(cmd.reason, "reason", max_length=500)
    fingerprint = idempotency.fingerprint("refundDonation", {"donation": pk, "reason": reason})
    async with uow.transaction() as session:
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
class DonationQuery(DonationFilter):
    """A hashable donation filter (DataLoader keys must hash), stated in SQL once, by
    db/reads.py (tests/api/test_donation_pages.py checks it against a reference)."""


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
