"""Official receipts (公益事业捐赠票据): a donor (holding the receipt's link) or the
giving partner asks for one; FINANCE of the host records the official number and date
once it is issued, or rejects the request. The requester's identity is seen by FINANCE
and the requester only: nothing of it is public."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.official_receipts import OfficialReceiptRow
from db.types import utcnow
from db.uow import read_session
from ledger.errors import IdempotencyConflict
from resolvers.auth import ADMIN, FINANCE, Action, Viewer, authorize
from resolvers.errors import UseCaseError, invalid, not_found
from resolvers.identity_numbers import normalised
from resolvers.pagination import OrderKey, Page, PageArgs, paginate
from resolvers.receipts import load_receipt
from resolvers.unit_of_work import UnitOfWork
from resolvers.validation import text

STATUSES = ("REQUESTED", "ISSUED", "REJECTED")


@dataclass(frozen=True)
class Requester:
    name: str
    id_number: str
    email: str | None
    address: str | None


def requester_of(name: str, id_number: str, email: str | None, address: str | None) -> Requester:
    name = text(name, "name", max_length=100)
    number = normalised(text(id_number, "idNumber", max_length=18))
    if number is None:
        raise invalid(
            "idNumber is neither a resident identity card number nor a unified social "
            "credit code (its check character does not match)",
            "idNumber",
        )
    email = text(email, "email", max_length=200, required=False)
    address = text(address, "address", max_length=300, required=False)
    if email is not None and ("@" not in email or " " in email):
        raise invalid("email is not an address", "email")
    if email is None and address is None:
        raise invalid("give an email or a postal address to send the receipt to", "email")
    return Requester(name, number, email, address)


@dataclass(frozen=True, slots=True)
class RequestOfficialReceipt:
    receipt: str  # the gift's receipt number
    key: str | None  # the donor's link key (the giving partner needs none)
    name: str
    id_number: str
    email: str | None
    address: str | None


@dataclass(frozen=True, slots=True)
class DecideOfficialReceipt:
    request_id: int
    official_number: str | None
    issued_on: date | None
    reject_reason: str | None


async def request_official_receipt(
    cmd: RequestOfficialReceipt, uow: UnitOfWork
) -> OfficialReceiptRow:
    """The donor's (the link's key) or the giving partner's request. A request already
    standing for the gift is answered as it is when it is the same request; another
    request while one stands is refused."""
    engine, viewer, key = uow.engine, uow.viewer, cmd.key
    who = requester_of(cmd.name, cmd.id_number, cmd.email, cmd.address)
    facts = await load_receipt(engine, text(cmd.receipt, "receipt", max_length=64))
    keyed = key is not None and facts is not None
    if facts is None or not (
        (keyed and hmac.compare_digest(key.encode(), facts.secret.encode()))
        or (
            viewer is not None
            and facts.donation.partner_id is not None
            and viewer.partner_id == facts.donation.partner_id
        )
        or (viewer is not None and viewer.has(ADMIN, FINANCE))
    ):
        raise not_found("receipt", "receipt")
    if facts.void:
        raise UseCaseError("INVALID_STATE", "this gift was refunded or voided", field="receipt")
    async with uow.transaction() as session:
        standing = await session.scalar(
            select(OfficialReceiptRow).where(
                OfficialReceiptRow.donation_id == facts.donation.id,
                OfficialReceiptRow.status != "REJECTED",
            )
        )
        if standing is not None:
            if (standing.requester_name, standing.requester_id_number) == (who.name, who.id_number):
                return standing
            raise IdempotencyConflict(
                "an official receipt was already requested for this gift", field="receipt"
            )
        row = OfficialReceiptRow(
            donation_id=facts.donation.id,
            fund_id=facts.fund.id,
            status="REQUESTED",
            requester_name=who.name,
            requester_id_number=who.id_number,
            email=who.email,
            address=who.address,
            requested_at=utcnow(),
            requested_by=viewer.username if viewer is not None else "donor",
        )
        session.add(row)
        await session.flush()
        return row


async def decide_official_receipt(
    cmd: DecideOfficialReceipt, uow: UnitOfWork
) -> OfficialReceiptRow:
    """Issued (with the official number and date) or rejected (with a reason), once."""
    viewer = uow.viewer
    authorize(viewer, Action.RECONCILE)  # finance staff of the host
    reject_reason, issued_on = cmd.reject_reason, cmd.issued_on
    async with uow.transaction() as session:
        row = await session.get(OfficialReceiptRow, cmd.request_id, with_for_update=True)
        if row is None:
            raise not_found("request", "requestId")
        if row.status != "REQUESTED":
            raise UseCaseError("INVALID_STATE", f"this request is {row.status}", field="requestId")
        if reject_reason is not None:
            row.status, row.note = "REJECTED", text(reject_reason, "rejectReason", max_length=500)
        else:
            if issued_on is None or issued_on > utcnow().date():
                raise invalid("the issue date is missing or in the future", "issuedOn")
            row.status = "ISSUED"
            row.official_number = text(cmd.official_number, "officialNumber", max_length=64)
            row.issued_on = issued_on
        row.decided_by = viewer.username
        await session.flush()
        return row


async def request_page(
    engine: AsyncEngine, viewer: Viewer | None, status: str | None, args: PageArgs
) -> Page:
    """FINANCE's list, oldest first, of one status or all."""
    authorize(viewer, Action.RECONCILE)
    if status is not None and status not in STATUSES:
        raise invalid("unknown status", "status")
    stmt = select(OfficialReceiptRow)
    if status is not None:
        stmt = stmt.where(OfficialReceiptRow.status == status)
    async with read_session(engine) as session:
        return await paginate(session, stmt, [OrderKey(OfficialReceiptRow.id)], args)
