"""Offline cash: the two-person count and the deposit to the bank."""

from __future__ import annotations

from db.models import CampaignRow, CashCountRow
from ledger import accounts as A
from ledger import idempotency, store
from ledger.entries import PostingSpec
from ledger.tables import EntryRow
from resolvers.auth import Action, authorize
from resolvers.commands import DepositCash, RecordCashCount
from resolvers.errors import UseCaseError, invalid, not_found
from resolvers.funds import amount_in, fund_for, require_open
from resolvers.ids import stored_ref
from resolvers.unit_of_work import UnitOfWork
from resolvers.validation import text


def _counters(counted_by: tuple[str, ...]) -> list[str]:
    names = [text(n, f"countedBy.{i}", max_length=50) for i, n in enumerate(counted_by)]
    if len(names) < 2 or len(set(names)) != len(names):
        raise invalid("cash is counted by at least two different people", "countedBy")
    if len(names) > 10:
        raise invalid("at most ten counters", "countedBy")
    return names


def _count_postings(counted_fen: int, expected: int, currency: str) -> list[PostingSpec]:
    """Counted cash to 1001, the uncounted box emptied, the difference to over/short."""
    variance = counted_fen - expected
    postings = []
    if counted_fen:
        postings.append(PostingSpec(A.CASH_ON_HAND, "DEBIT", counted_fen, currency))
    if expected:
        postings.append(PostingSpec(A.CASH_UNCOUNTED, "CREDIT", expected, currency))
    if variance < 0:
        postings.append(PostingSpec(A.OVER_SHORT, "DEBIT", -variance, currency))
    elif variance > 0:
        postings.append(PostingSpec(A.OVER_SHORT, "CREDIT", variance, currency))
    return postings


async def record_cash_count(cmd: RecordCashCount, uow: UnitOfWork) -> CashCountRow:
    viewer = uow.viewer
    authorize(viewer, Action.HANDLE_CASH)
    key = idempotency.check_key(cmd.idempotency_key)
    names = _counters(cmd.counted_by)
    counted = cmd.counted
    request = {
        "fund": stored_ref("Fund", cmd.fund_id),
        "campaign": cmd.campaign_id,
        "counted": [str(counted.amount), counted.currency],
        "by": names,
    }
    fingerprint = idempotency.fingerprint("recordCashCount", request)
    async with uow.transaction() as session:
        fund = await fund_for(session, viewer, cmd.fund_id, Action.HANDLE_CASH, lock=True)
        counted_fen = amount_in(fund, counted.amount, counted.currency, "counted", allow_zero=True)
        earlier = await idempotency.recall(session, key, "recordCashCount", fingerprint)
        if earlier is not None:
            return await session.get(CashCountRow, earlier)
        require_open(fund)
        if cmd.campaign_id is not None:
            campaign = await session.get(CampaignRow, cmd.campaign_id)
            if campaign is None or campaign.fund_id != fund.id:
                raise not_found("campaign", "campaignId")
        expected = (await store.account_balances(session, fund.id)).get(A.CASH_UNCOUNTED, 0)
        if expected == 0:
            # Counted under the fund's lock: cash another count already took is gone.
            raise UseCaseError(
                "INVALID_STATE", "there is no uncounted cash to count", field="fundId"
            )
        now = uow.now()
        entry = await store.post_entry(
            session,
            fund.id,
            _count_postings(counted_fen, expected, fund.currency),
            memo=f"cash count by {', '.join(names)}",
            recorded_by=viewer.username,
            kind="cash_count",
            effective_at=now,
        )
        row = CashCountRow(
            fund_id=fund.id,
            campaign_id=cmd.campaign_id,
            expected_fen=expected,
            counted_fen=counted_fen,
            counted_by="\n".join(names),
            counted_at=now,
            entry_id=entry.id,
        )
        session.add(row)
        await session.flush()
        await idempotency.remember(session, key, "recordCashCount", fingerprint, row.id)
        return row


async def deposit_cash(cmd: DepositCash, uow: UnitOfWork) -> EntryRow:
    viewer = uow.viewer
    authorize(viewer, Action.HANDLE_CASH)
    key = idempotency.check_key(cmd.idempotency_key)
    bank_ref = text(cmd.bank_ref, "bankRef", required=False)
    amount = cmd.amount
    request = {
        "fund": stored_ref("Fund", cmd.fund_id),
        "amount": [str(amount.amount), amount.currency],
        "bankRef": bank_ref,
    }
    fingerprint = idempotency.fingerprint("depositCash", request)
    async with uow.transaction() as session:
        fund = await fund_for(session, viewer, cmd.fund_id, Action.HANDLE_CASH, lock=True)
        fen = amount_in(fund, amount.amount, amount.currency, "amount")
        earlier = await idempotency.recall(session, key, "depositCash", fingerprint)
        if earlier is not None:
            return await session.get(EntryRow, earlier)
        require_open(fund)
        entry = await store.post_entry(
            session,
            fund.id,
            [
                PostingSpec(A.BANK, "DEBIT", fen, fund.currency),
                PostingSpec(A.CASH_ON_HAND, "CREDIT", fen, fund.currency),
            ],
            memo="cash deposited" + (f" (bank ref {bank_ref})" if bank_ref else ""),
            recorded_by=viewer.username,
            kind="deposit",
            reference=bank_ref,
            effective_at=uow.effective_at(),
        )
        await idempotency.remember(session, key, "depositCash", fingerprint, entry.id)
        return entry
