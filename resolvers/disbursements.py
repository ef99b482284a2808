"""Spending: a request, an approval by someone else, then payment from the bank."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.models import DisbursementRow, FundRow
from db.types import utcnow
from db.uow import unit_of_work
from ledger import accounts as A
from ledger import idempotency, store
from ledger.entries import PostingSpec
from resolvers.auth import Action, Viewer, authorize
from resolvers.errors import UseCaseError
from resolvers.funds import amount_in, fund_for, owning_fund, require_open
from resolvers.ids import decode_id
from resolvers.validation import text

# Status moves only forward, along these edges.
# What approval and payment post: Dr 5101 / Cr 2209.01, then Dr 2209.01 / Cr 1002.
POSTS = {
    "approve": (A.PROJECT_COSTS, A.PAYABLE, "disbursement_approval"),
    "pay": (A.PAYABLE, A.BANK, "disbursement_payment"),
}
NEXT = {
    "approve": ("REQUESTED", "APPROVED"),
    "reject": ("REQUESTED", "REJECTED"),
    "pay": ("APPROVED", "PAID"),
}


async def request_disbursement(
    engine: AsyncEngine,
    viewer: Viewer | None,
    *,
    fund_id: str,
    amount,
    payee: str,
    purpose: str,
    idempotency_key: str,
    at: datetime | None = None,
) -> DisbursementRow:
    authorize(viewer, Action.REQUEST_DISBURSEMENT)
    key = idempotency.check_key(idempotency_key)
    payee = text(payee, "payee")
    purpose = text(purpose, "purpose", max_length=500)
    request = {
        "fund": fund_id,
        "amount": [str(amount.amount), amount.currency],
        "payee": payee,
        "purpose": purpose,
    }
    fingerprint = idempotency.fingerprint("requestDisbursement", request)
    async with unit_of_work(engine) as session:
        fund = await fund_for(session, viewer, fund_id, Action.REQUEST_DISBURSEMENT, lock=True)
        fen = amount_in(fund, amount.amount, amount.currency, "amount")
        earlier = await idempotency.recall(session, key, "requestDisbursement", fingerprint)
        if earlier is not None:
            return await session.get(DisbursementRow, earlier)
        require_open(fund)
        row = DisbursementRow(
            fund_id=fund.id,
            amount_fen=fen,
            payee=payee,
            purpose=purpose,
            requested_by=viewer.username,
            requested_at=at or utcnow(),
        )
        session.add(row)
        await session.flush()
        await idempotency.remember(session, key, "requestDisbursement", fingerprint, row.id)
        return row


async def _locked_disbursement(
    session: AsyncSession, viewer: Viewer | None, disbursement_id: str
) -> tuple[DisbursementRow, FundRow]:
    pk = decode_id(disbursement_id, "Disbursement", field="disbursementId", what="disbursement")
    row = await session.get(DisbursementRow, pk)
    fund = await owning_fund(
        session,
        viewer,
        row,
        Action.DECIDE_DISBURSEMENT,
        what="disbursement",
        field="disbursementId",
    )
    await session.refresh(row)  # the status as of the lock
    return row, fund


async def decide_disbursement(
    engine: AsyncEngine,
    viewer: Viewer | None,
    decision: str,
    *,
    disbursement_id: str,
    note: str | None,
    idempotency_key: str,
    at: datetime | None = None,
) -> DisbursementRow:
    """approve, reject or pay, each one step forward and refused otherwise. `at`
    back-dates the decision for back-office callers (the demo); the API has no such input."""
    authorize(viewer, Action.DECIDE_DISBURSEMENT)
    key = idempotency.check_key(idempotency_key)
    note = text(note, "note", max_length=500, required=False)
    operation = f"{decision}Disbursement"
    fingerprint = idempotency.fingerprint(
        operation, {"disbursement": disbursement_id, "note": note}
    )
    async with unit_of_work(engine) as session:
        row, fund = await _locked_disbursement(session, viewer, disbursement_id)
        earlier = await idempotency.recall(session, key, operation, fingerprint)
        if earlier is not None:
            return await session.get(DisbursementRow, earlier)
        before, after = NEXT[decision]
        if row.status != before:
            raise UseCaseError(
                "INVALID_STATE",
                f"cannot {decision} a {row.status} disbursement",
                field="disbursementId",
            )
        if decision == "approve" and row.requested_by == viewer.username:
            raise UseCaseError(
                "SELF_APPROVAL",
                "a disbursement is approved by someone other than its requester",
                field="disbursementId",
            )
        if decision != "reject":
            require_open(fund)
        now = at or utcnow()
        if decision in POSTS:
            debit, credit, kind = POSTS[decision]
            entry = await store.post_entry(
                session,
                fund.id,
                [
                    PostingSpec(debit, "DEBIT", row.amount_fen, fund.currency),
                    PostingSpec(credit, "CREDIT", row.amount_fen, fund.currency),
                ],
                memo=f"disbursement {row.id} {after.lower()}: {row.payee}, {row.purpose}"[:500],
                recorded_by=viewer.username,
                kind=kind,
                effective_at=at,
                # The payment's bank reference, for matching the bank statement line.
                reference=note if decision == "pay" else None,
            )
            if decision == "approve":
                row.approve_entry_id = entry.id
                row.approved_by = viewer.username
            else:
                row.pay_entry_id = entry.id
        row.status = after
        row.decided_at = now
        if note:
            row.decision_note = note
        session.add(row)
        await session.flush()
        await idempotency.remember(session, key, operation, fingerprint, row.id)
        return row
