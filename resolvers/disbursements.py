"""Spending: a request, an approval by someone else, then payment from the bank."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import DisbursementRow, FundRow
from ledger import accounts as A
from ledger import idempotency, store
from ledger.entries import PostingSpec
from resolvers.auth import Action, Viewer, authorize
from resolvers.commands import DecideDisbursement, RequestDisbursement
from resolvers.errors import UseCaseError
from resolvers.funds import amount_in, fund_for, owning_fund, require_open
from resolvers.ids import stored_ref
from resolvers.unit_of_work import UnitOfWork
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


async def request_disbursement(cmd: RequestDisbursement, uow: UnitOfWork) -> DisbursementRow:
    viewer = uow.viewer
    authorize(viewer, Action.REQUEST_DISBURSEMENT)
    key = idempotency.check_key(cmd.idempotency_key)
    payee = text(cmd.payee, "payee")
    purpose = text(cmd.purpose, "purpose", max_length=500)
    amount = cmd.amount
    request = {
        "fund": stored_ref("Fund", cmd.fund_id),
        "amount": [str(amount.amount), amount.currency],
        "payee": payee,
        "purpose": purpose,
    }
    fingerprint = idempotency.fingerprint("requestDisbursement", request)
    async with uow.transaction() as session:
        fund = await fund_for(session, viewer, cmd.fund_id, Action.REQUEST_DISBURSEMENT, lock=True)
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
            requested_at=uow.now(),
        )
        session.add(row)
        await session.flush()
        await idempotency.remember(session, key, "requestDisbursement", fingerprint, row.id)
        return row


async def _locked_disbursement(
    session: AsyncSession, viewer: Viewer | None, pk: int
) -> tuple[DisbursementRow, FundRow]:
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


def _check_step(row: DisbursementRow, decision: str, fund: FundRow, username: str) -> None:
    before, _after = NEXT[decision]
    if row.status != before:
        raise UseCaseError(
            "INVALID_STATE",
            f"cannot {decision} a {row.status} disbursement",
            field="disbursementId",
        )
    if decision == "approve" and row.requested_by == username:
        raise UseCaseError(
            "SELF_APPROVAL",
            "a disbursement is approved by someone other than its requester",
            field="disbursementId",
        )
    if decision != "reject":
        require_open(fund)


async def _post_decision(
    session: AsyncSession, row: DisbursementRow, fund: FundRow, cmd: DecideDisbursement, uow
) -> None:
    """Approval and payment post (POSTS); a rejection posts nothing."""
    debit, credit, kind = POSTS[cmd.decision]
    after = NEXT[cmd.decision][1]
    entry = await store.post_entry(
        session,
        fund.id,
        [
            PostingSpec(debit, "DEBIT", row.amount_fen, fund.currency),
            PostingSpec(credit, "CREDIT", row.amount_fen, fund.currency),
        ],
        memo=f"disbursement {row.id} {after.lower()}: {row.payee}, {row.purpose}"[:500],
        recorded_by=uow.username,
        kind=kind,
        effective_at=uow.effective_at(),
        # The payment's bank reference, for matching the bank statement line.
        reference=cmd.note if cmd.decision == "pay" else None,
    )
    if cmd.decision == "approve":
        row.approve_entry_id = entry.id
        row.approved_by = uow.username
    else:
        row.pay_entry_id = entry.id


async def decide_disbursement(cmd: DecideDisbursement, uow: UnitOfWork) -> DisbursementRow:
    """approve, reject or pay, each one step forward and refused otherwise."""
    viewer = uow.viewer
    authorize(viewer, Action.DECIDE_DISBURSEMENT)
    if cmd.decision not in NEXT:
        raise ValueError(f"unknown decision {cmd.decision!r}")
    key = idempotency.check_key(cmd.idempotency_key)
    note = text(cmd.note, "note", max_length=500, required=False)
    operation = f"{cmd.decision}Disbursement"
    fingerprint = idempotency.fingerprint(
        operation, {"disbursement": stored_ref("Disbursement", cmd.disbursement_id), "note": note}
    )
    async with uow.transaction() as session:
        row, fund = await _locked_disbursement(session, viewer, cmd.disbursement_id)
        earlier = await idempotency.recall(session, key, operation, fingerprint)
        if earlier is not None:
            return await session.get(DisbursementRow, earlier)
        _check_step(row, cmd.decision, fund, viewer.username)
        if cmd.decision in POSTS:
            await _post_decision(session, row, fund, replace(cmd, note=note), uow)
        row.status = NEXT[cmd.decision][1]
        row.decided_at = uow.now()
        if note:
            row.decision_note = note
        session.add(row)
        await session.flush()
        await idempotency.remember(session, key, operation, fingerprint, row.id)
        return row
