"""Undoing a business record's entry through the record itself.

An entry a business operation made is owned by its record (a donation, a cash count,
a disbursement's approval, a statement import's payout). The rule book refuses to
reverse it by hand (reverseJournalEntry takes manual entries only); these operations
undo the record and post the reversal together, in one transaction, so that the
record's status and the journal always agree:

- void a donation recorded by mistake, before anything settled it;
- take back a cash count (the latest one of its fund, before its cash was deposited);
- take back a cash deposit (before a bank statement line matched it, while the bank
  still holds the money);
- cancel an approved disbursement before it is paid;
- take back a disbursement's payment recorded by mistake (before a bank statement line
  matched it): the disbursement is APPROVED again;
- undo a statement import that nothing later depends on.

Each takes an idempotency key, as every money write does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    CashCountRow,
    ContributionRow,
    DisbursementRow,
    DonationRow,
    ReversedPaymentRow,
)
from db.reconciliation_models import StatementImportRow, StatementLineRow
from db.types import utcnow
from ledger import idempotency, store
from ledger.entries import PostedEntry
from ledger.tables import EntryRow, PostingRow
from resolvers.auth import Action, Viewer, authorize
from resolvers.errors import UseCaseError
from resolvers.funds import owning_fund
from resolvers.unit_of_work import UnitOfWork
from resolvers.validation import text


@dataclass(frozen=True, slots=True)
class UndoRecord:
    """Undo one record: its database key, why, and the request's idempotency key."""

    record_id: int
    reason: str
    idempotency_key: str


class VoidDonation(UndoRecord):
    __slots__ = ()


class ReverseCashCount(UndoRecord):
    __slots__ = ()


class ReverseCashDeposit(UndoRecord):
    __slots__ = ()


class CancelDisbursement(UndoRecord):
    __slots__ = ()


class ReverseDisbursementPayment(UndoRecord):
    __slots__ = ()


class UndoStatementImport(UndoRecord):
    __slots__ = ()


def _state(message: str, field: str) -> UseCaseError:
    return UseCaseError("INVALID_STATE", message, field=field)


async def _reverse(
    session: AsyncSession, entry_id: int, owner: str, memo: str, viewer: Viewer
) -> PostedEntry:
    return await store.reverse_entry(
        session, entry_id, memo=memo[:500], recorded_by=viewer.username, owner=owner
    )


# ---------------------------------------------------------------- donations


async def void_donation(cmd: VoidDonation, uow: UnitOfWork) -> DonationRow:
    """A donation recorded by mistake, undone: its entry reversed, the donation VOIDED,
    a partner's contribution for it removed. Refused once anything settled it (an ONLINE
    gift in a payout, a bank line matched to it) or it was refunded: then it is a refund."""
    viewer = uow.viewer
    authorize(viewer, Action.REFUND_DONATION)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.record_id
    reason = text(cmd.reason, "reason", max_length=400)
    fingerprint = idempotency.fingerprint("voidDonation", {"donation": pk, "reason": reason})
    async with uow.transaction() as session:
        donation = await session.get(DonationRow, pk)
        await owning_fund(
            session, viewer, donation, Action.REFUND_DONATION, what="donation", field="donationId"
        )
        await session.refresh(donation)  # the status as of the lock
        if await idempotency.recall(session, key, "voidDonation", fingerprint) is not None:
            return donation
        await _check_voidable(session, donation)
        entry = await _reverse(
            session,
            donation.entry_id,
            "donation",
            f"void of donation {donation.id}: {reason}",
            viewer,
        )
        donation.status, donation.void_entry_id = "VOIDED", entry.id
        await session.execute(delete(ContributionRow).where(ContributionRow.donation_id == pk))
        await session.flush()
        await idempotency.remember(session, key, "voidDonation", fingerprint, donation.id)
        return donation


async def _check_voidable(session: AsyncSession, donation: DonationRow) -> None:
    if donation.status == "VOIDED":
        raise _state("this donation was already voided", "donationId")
    if donation.status == "REFUNDED":
        raise _state("this donation was refunded; it cannot be voided too", "donationId")
    if donation.settled_entry_id is not None:
        raise _state("a payout settled this donation: refund it instead", "donationId")
    matched = await session.scalar(
        select(exists().where(StatementLineRow.matched_donation_id == donation.id))
    )
    if matched:
        raise _state("a statement line matched this donation: refund it instead", "donationId")


# ---------------------------------------------------------------- cash counts


async def reverse_cash_count(cmd: ReverseCashCount, uow: UnitOfWork) -> CashCountRow:
    """A count taken back: its entry reversed, so the cash is uncounted again. Only the
    fund's latest count still standing, and only while its cash is still on hand (the
    rule book refuses a reversal that would take counted cash below zero)."""
    viewer = uow.viewer
    authorize(viewer, Action.HANDLE_CASH)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.record_id
    reason = text(cmd.reason, "reason", max_length=400)
    fingerprint = idempotency.fingerprint("reverseCashCount", {"count": pk, "reason": reason})
    async with uow.transaction() as session:
        count = await session.get(CashCountRow, pk)
        await owning_fund(
            session, viewer, count, Action.HANDLE_CASH, what="cash count", field="cashCountId"
        )
        await session.refresh(count)
        if await idempotency.recall(session, key, "reverseCashCount", fingerprint) is not None:
            return count
        if count.reversal_entry_id is not None:
            raise _state("this count was already taken back", "cashCountId")
        later = await session.scalar(
            select(
                exists().where(
                    CashCountRow.fund_id == count.fund_id,
                    CashCountRow.id > count.id,
                    CashCountRow.reversal_entry_id.is_(None),
                )
            )
        )
        if later or count.entry_id is None:
            raise _state("only the fund's latest count can be taken back", "cashCountId")
        entry = await _reverse(
            session, count.entry_id, "cash_count", f"count {count.id} taken back: {reason}", viewer
        )
        count.reversal_entry_id = entry.id
        await session.flush()
        await idempotency.remember(session, key, "reverseCashCount", fingerprint, count.id)
        return count


async def reverse_cash_deposit(cmd: ReverseCashDeposit, uow: UnitOfWork) -> EntryRow | PostedEntry:
    """A deposit recorded by mistake, taken back: its entry (the record itself: a deposit
    has no row of its own) reversed, so the money is cash on hand again. Refused once a
    bank statement line matched it (the bank says it arrived), and by the rule book
    once the bank no longer holds it (paid out since) or it was taken back already."""
    viewer = uow.viewer
    authorize(viewer, Action.HANDLE_CASH)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.record_id
    reason = text(cmd.reason, "reason", max_length=400)
    fingerprint = idempotency.fingerprint("reverseCashDeposit", {"entry": pk, "reason": reason})
    async with uow.transaction() as session:
        entry = await session.get(EntryRow, pk)
        if entry is not None and entry.kind != "deposit":
            entry = None  # only a deposit is taken back here: as if not found
        await owning_fund(
            session, viewer, entry, Action.HANDLE_CASH, what="deposit", field="journalEntryId"
        )
        earlier = await idempotency.recall(session, key, "reverseCashDeposit", fingerprint)
        if earlier is not None:
            return await session.get(EntryRow, earlier)
        matched = await session.scalar(
            select(exists().where(StatementLineRow.matched_entry_id == pk))
        )
        if matched:
            raise _state(
                "a bank statement line matched this deposit: post a correcting entry instead",
                "journalEntryId",
            )
        reversal = await _reverse(
            session, pk, "deposit", f"deposit {pk} taken back: {reason}", viewer
        )
        await idempotency.remember(session, key, "reverseCashDeposit", fingerprint, reversal.id)
        return reversal


# ---------------------------------------------------------------- disbursements


async def cancel_disbursement(cmd: CancelDisbursement, uow: UnitOfWork) -> DisbursementRow:
    """An approved disbursement withdrawn before payment: its approval reversed (the
    money is free again), the disbursement CANCELLED."""
    viewer = uow.viewer
    authorize(viewer, Action.DECIDE_DISBURSEMENT)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.record_id
    reason = text(cmd.reason, "reason", max_length=400)
    fingerprint = idempotency.fingerprint("cancelDisbursement", {"id": pk, "reason": reason})
    async with uow.transaction() as session:
        row = await session.get(DisbursementRow, pk)
        await owning_fund(
            session,
            viewer,
            row,
            Action.DECIDE_DISBURSEMENT,
            what="disbursement",
            field="disbursementId",
        )
        await session.refresh(row)
        if await idempotency.recall(session, key, "cancelDisbursement", fingerprint) is not None:
            return row
        if row.status != "APPROVED" or row.approve_entry_id is None:
            raise _state(
                f"only an APPROVED disbursement can be cancelled, not a {row.status} one",
                "disbursementId",
            )
        entry = await _reverse(
            session,
            row.approve_entry_id,
            "disbursement_approval",
            f"disbursement {row.id} cancelled: {reason}",
            viewer,
        )
        row.status, row.cancel_entry_id = "CANCELLED", entry.id
        row.decided_at, row.decision_note = utcnow(), reason
        await session.flush()
        await idempotency.remember(session, key, "cancelDisbursement", fingerprint, row.id)
        return row


async def reverse_disbursement_payment(
    cmd: ReverseDisbursementPayment, uow: UnitOfWork
) -> DisbursementRow:
    """A payment recorded by mistake, taken back: its entry reversed (the money is in
    the bank and owed again), the disbursement APPROVED again, ready to be paid; the
    payment and its reversal kept as a ReversedPaymentRow. Refused once a bank statement
    line matched the payment (the bank says it went out)."""
    viewer = uow.viewer
    authorize(viewer, Action.DECIDE_DISBURSEMENT)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.record_id
    reason = text(cmd.reason, "reason", max_length=400)
    fingerprint = idempotency.fingerprint(
        "reverseDisbursementPayment", {"id": pk, "reason": reason}
    )
    async with uow.transaction() as session:
        row = await session.get(DisbursementRow, pk)
        await owning_fund(
            session, viewer, row, Action.DECIDE_DISBURSEMENT, what="disbursement",
            field="disbursementId",
        )  # fmt: skip
        await session.refresh(row)
        earlier = await idempotency.recall(session, key, "reverseDisbursementPayment", fingerprint)
        if earlier is not None:
            return row
        if row.status != "PAID" or row.pay_entry_id is None:
            raise _state(f"only a PAID disbursement's payment is taken back, not a {row.status} one",
                         "disbursementId")  # fmt: skip
        await _refuse_if_banked(session, row.pay_entry_id)
        memo = f"payment of disbursement {row.id} taken back: {reason}"
        reversal = await _reverse(session, row.pay_entry_id, "disbursement_payment", memo, viewer)
        session.add(
            ReversedPaymentRow(
                disbursement_id=row.id, entry_id=row.pay_entry_id, reversal_entry_id=reversal.id,
                reason=reason, reversed_by=viewer.username, reversed_at=utcnow(),
            )
        )  # fmt: skip
        row.status, row.pay_entry_id = "APPROVED", None
        await session.flush()
        await idempotency.remember(session, key, "reverseDisbursementPayment", fingerprint, row.id)
        return row


async def _refuse_if_banked(session: AsyncSession, entry_id: int) -> None:
    """A payment a bank statement line matched (or found again) went out of the bank."""
    banked = await session.scalar(
        select(
            exists().where(
                StatementLineRow.matched_entry_id == entry_id,
                StatementLineRow.status.in_(("MATCHED", "DUPLICATE")),
                StatementLineRow.import_id == StatementImportRow.id,
                StatementImportRow.undone_at.is_(None),
            )
        )
    )
    if banked:
        raise _state(
            "a bank statement line matched this payment: it went out; post a correcting "
            "entry instead", "disbursementId",
        )  # fmt: skip


# ---------------------------------------------------------------- statement imports


async def undo_statement_import(cmd: UndoStatementImport, uow: UnitOfWork) -> StatementImportRow:
    """An import undone: its payout entry (if any) reversed, the donations it settled
    back to RECEIVED, its lines no longer counted. Refused when something later depends
    on it: a line resolved with an entry of its own, or a later line matched to its
    payout's bank posting."""
    viewer = uow.viewer
    authorize(viewer, Action.RECONCILE)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.record_id
    reason = text(cmd.reason, "reason", max_length=400)
    fingerprint = idempotency.fingerprint("undoStatementImport", {"id": pk, "reason": reason})
    async with uow.transaction() as session:
        row = await session.get(StatementImportRow, pk)
        await owning_fund(
            session, viewer, row, Action.RECONCILE, what="statement import", field="importId"
        )
        await session.refresh(row)
        if await idempotency.recall(session, key, "undoStatementImport", fingerprint) is not None:
            return row
        await _check_undoable(session, row)
        if row.entry_id is not None:
            memo = f"statement import {row.id} undone: {reason}"
            row.undo_entry_id = (
                await _reverse(session, row.entry_id, "settlement", memo, viewer)
            ).id
            await session.execute(
                update(DonationRow)
                .where(DonationRow.settled_entry_id == row.entry_id)
                .values(status="RECEIVED", settled_entry_id=None)
            )
        row.undone_at, row.undone_by = utcnow(), viewer.username
        await session.flush()
        await idempotency.remember(session, key, "undoStatementImport", fingerprint, row.id)
        return row


async def _check_undoable(session: AsyncSession, row: StatementImportRow) -> None:
    if row.undone_at is not None:
        raise _state("this import was already undone", "importId")
    resolved = await session.scalar(
        select(
            exists().where(
                StatementLineRow.import_id == row.id,
                StatementLineRow.resolution == "SUSPENSE",
            )
        )
    )
    if resolved:
        raise _state(
            "a line of this import was booked to suspense; reopen it first (reopenStatementLine)",
            "importId",
        )
    if row.entry_id is None:
        return
    depends = await session.scalar(
        select(
            exists().where(
                StatementLineRow.import_id != row.id,
                StatementLineRow.matched_posting_id.in_(
                    select(PostingRow.id).where(PostingRow.entry_id == row.entry_id)
                ),
            )
        )
    )
    if depends:
        raise _state(
            "a bank statement line matched this payout; undo that import first", "importId"
        )
