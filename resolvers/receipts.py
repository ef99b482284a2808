"""Receipts and daily roots as use cases: publishing roots (FINANCE), finding a
receipt, who may download its PDF, and the public inclusion proof of /verify.

The receipt number and the donor's secret are made by the database when the donation
row is inserted (migration 0007); nothing here writes them.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from db.models import DonationRow, FundRow, PartnerRow
from db.types import utcnow
from db.uow import read_session, unit_of_work
from ledger import daily_roots, reports
from ledger.daily_roots import DailyRoot
from ledger.merkle import audit_path
from ledger.receipt_tables import ReceiptRow
from ledger.tables import EntryRow
from resolvers.auth import ADMIN, FINANCE, Action, Viewer, authorize
from resolvers.errors import invalid, not_found
from resolvers.ids import decode_id
from resolvers.public import ANONYMOUS, masked_donor
from resolvers.public_reads import announce_change

PROOF_VERSION = 1
MAX_ROOTS = 100


def now() -> datetime:
    """The clock publishing asks whether a day has ended (tests move it forward)."""
    return utcnow()


# ---------------------------------------------------------------- daily roots


async def publish_daily_roots(
    engine: AsyncEngine, viewer: Viewer | None, tz: ZoneInfo, *, fund_id: str, day: date
) -> DailyRoot:
    """Publish the fund's root of `day` (and any unpublished day before it): FINANCE."""
    authorize(viewer, Action.CLOSE_PERIOD)
    pk = decode_id(fund_id, "Fund", field="fundId")
    return await publish_fund_day(engine, pk, day, tz)


async def publish_fund_day(engine: AsyncEngine, fund_pk: int, day: date, tz: ZoneInfo) -> DailyRoot:
    async with unit_of_work(engine) as session:
        if await session.get(FundRow, fund_pk) is None:
            raise not_found("fund", "fundId")
        root = await daily_roots.publish_through(session, fund_pk, day, tz, now())
        await announce_change(session, fund_pk)  # the public report lists the roots
        return root


async def public_roots(engine: AsyncEngine, fund_pk: int, first: int | None) -> list[DailyRoot]:
    limit = 30 if first is None else first
    if not 0 <= limit <= MAX_ROOTS:
        raise invalid(f"first must be between 0 and {MAX_ROOTS}", "first")
    async with read_session(engine) as session:
        return await daily_roots.published_roots(session, fund_pk, limit=limit)


# ---------------------------------------------------------------- receipts


@dataclass(frozen=True)
class Receipt:
    number: str
    secret: str
    donation_id: int


def receipt_path(number: str, secret: str) -> str:
    return f"/receipts/{number}.pdf?key={secret}"


def verify_path(number: str) -> str:
    return f"/verify/{number}"


def receipt_loader(loaders) -> DataLoader[int, Receipt | None]:
    """One batched lookup per request, kept on the request's Loaders."""
    loader = getattr(loaders, "_receipts", None)
    if loader is None:
        engine = loaders.engine

        async def load(ids: Sequence[int]) -> list[Receipt | None]:
            async with read_session(engine) as session:
                rows = (
                    await session.execute(
                        select(ReceiptRow.donation_id, ReceiptRow.number, ReceiptRow.secret).where(
                            ReceiptRow.donation_id.in_(ids)
                        )
                    )
                ).all()
            found = {r.donation_id: Receipt(r.number, r.secret, r.donation_id) for r in rows}
            return [found.get(i) for i in ids]

        loader = DataLoader(load_fn=load)
        loaders._receipts = loader
    return loader


def may_hold_link(viewer: Viewer | None, donation: DonationRow) -> bool:
    """FINANCE (and ADMIN) and the giving partner may download a receipt, and so may
    see the donor's link to hand it on."""
    if viewer is None:
        return False
    if viewer.has(ADMIN, FINANCE):
        return True
    return viewer.partner_id is not None and viewer.partner_id == donation.partner_id


@dataclass(frozen=True)
class ReceiptFacts:
    """Everything a receipt's PDF and its proof show."""

    number: str
    secret: str
    donation: DonationRow
    fund: FundRow
    partner: PartnerRow | None
    entry: EntryRow
    void: bool

    def may_download(self, viewer: Viewer | None, key: str | None) -> bool:
        if key is not None and hmac.compare_digest(key.encode(), self.secret.encode()):
            return True
        return may_hold_link(viewer, self.donation)

    @property
    def donor_as_recorded(self) -> str:
        d = self.donation
        if d.anonymous:
            return ANONYMOUS
        return d.donor_name or (self.partner.name if self.partner else ANONYMOUS)

    @property
    def donor_masked(self) -> str:
        p = self.partner
        return masked_donor(
            anonymous=self.donation.anonymous,
            donor_name=self.donation.donor_name,
            partner_name=p.name if p else None,
            partner_kind=p.kind if p else None,
        )


async def load_receipt(engine: AsyncEngine, number: str) -> ReceiptFacts | None:
    async with read_session(engine) as session:
        receipt = await session.scalar(select(ReceiptRow).where(ReceiptRow.number == number))
        if receipt is None:
            return None
        donation = await session.get(DonationRow, receipt.donation_id)
        fund = await session.get(FundRow, donation.fund_id)
        partner = (
            await session.get(PartnerRow, donation.partner_id) if donation.partner_id else None
        )
        entry = await session.get(EntryRow, donation.entry_id)
        reversed_ = await session.scalar(
            select(exists().where(EntryRow.reverses_id == donation.entry_id))
        )
    void = donation.status in ("REFUNDED", "VOIDED") or bool(reversed_)
    return ReceiptFacts(receipt.number, receipt.secret, donation, fund, partner, entry, void)


# ---------------------------------------------------------------- proofs


async def proof_document(engine: AsyncEngine, facts: ReceiptFacts, tz: ZoneInfo) -> dict:
    """The public proof that the receipt's entry is in the fund's published ledger:
    what /verify/{receipt}.json serves and `jinlin verify-receipt` checks. It holds the
    masked donor and hashes only: nothing of any other gift."""
    d, fund, entry = facts.donation, facts.fund, facts.entry
    async with read_session(engine) as session:
        leaf = await reports.recomputed_entry_hash(session, entry.id)
        root = await daily_roots.root_covering(session, fund.id, entry.sequence)
        leaves = await daily_roots.stored_leaves(session, fund.id, root) if root else []
    doc = {
        "version": PROOF_VERSION,
        "receipt": facts.number,
        "fund": {"code": fund.code, "name": fund.name, "host": fund.host},
        "donor": facts.donor_masked,
        "amount": f"{d.amount_fen // 100}.{d.amount_fen % 100:02d}",
        "currency": fund.currency,
        "channel": d.channel,
        "receivedOn": d.received_at.astimezone(tz).date().isoformat(),
        "void": facts.void,
        "entry": {"sequence": entry.sequence, "hash": leaf},
        "proof": None,
    }
    if root is not None:
        index = entry.sequence - root.first_sequence
        doc["proof"] = {
            "day": root.day.isoformat(),
            "leafIndex": index,
            "treeSize": root.tree_size,
            "auditPath": audit_path(index, leaves) if len(leaves) == root.tree_size else [],
            "merkleRoot": root.merkle_root,
            "previousRoot": root.previous_root,
            "root": root.root,
        }
    return doc
