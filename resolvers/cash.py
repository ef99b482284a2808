"""Offline cash: the two-person count and the deposit to the bank."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import CampaignRow, CashCountRow
from db.types import utcnow
from db.uow import unit_of_work
from ledger import accounts as A
from ledger import idempotency, store
from ledger.entries import PostingSpec
from ledger.tables import EntryRow
from resolvers.auth import Action, Viewer, authorize
from resolvers.errors import UseCaseError, invalid, not_found
from resolvers.funds import amount_in, fund_for, require_open
from resolvers.ids import decode_id
from resolvers.validation import text


async def record_cash_count(
    engine: AsyncEngine,
    viewer: Viewer | None,
    *,
    fund_id: str,
    campaign_id: str | None,
    counted,
    counted_by: list[str],
    idempotency_key: str,
    at: datetime | None = None,
) -> CashCountRow:
    authorize(viewer, Action.HANDLE_CASH)
    key = idempotency.check_key(idempotency_key)
    names = [text(n, f"countedBy.{i}", max_length=50) for i, n in enumerate(counted_by)]
    if len(names) < 2 or len(set(names)) != len(names):
        raise invalid("cash is counted by at least two different people", "countedBy")
    if len(names) > 10:
        raise invalid("at most ten counters", "countedBy")
    campaign_pk = (
        decode_id(campaign_id, "Campaign", field="campaignId", what="campaign")
        if campaign_id
        else None
    )
    request = {
        "fund": fund_id,
        "campaign": campaign_pk,
        "counted": [str(counted.amount), counted.currency],
        "by": names,
    }
    fingerprint = idempotency.fingerprint("recordCashCount", request)
    async with unit_of_work(engine) as session:
        fund = await fund_for(session, viewer, fund_id, Action.HANDLE_CASH, lock=True)
        counted_fen = amount_in(fund, counted.amount, counted.currency, "counted", allow_zero=True)
        earlier = await idempotency.recall(session, key, "recordCashCount", fingerprint)
        if earlier is not None:
            return await session.get(CashCountRow, earlier)
        require_open(fund)
        if campaign_pk is not None:
            campaign = await session.get(CampaignRow, campaign_pk)
            if campaign is None or campaign.fund_id != fund.id:
                raise not_found("campaign", "campaignId")
        expected = (await store.account_balances(session, fund.id)).get(A.CASH_UNCOUNTED, 0)
        if expected == 0:
            # Counted under the fund's lock: cash another count already took is gone.
            raise UseCaseError(
                "INVALID_STATE", "there is no uncounted cash to count", field="fundId"
            )
        variance = counted_fen - expected
        postings = []
        if counted_fen:
            postings.append(PostingSpec(A.CASH_ON_HAND, "DEBIT", counted_fen, fund.currency))
        if expected:
            postings.append(PostingSpec(A.CASH_UNCOUNTED, "CREDIT", expected, fund.currency))
        if variance < 0:
            postings.append(PostingSpec(A.OVER_SHORT, "DEBIT", -variance, fund.currency))
        elif variance > 0:
            postings.append(PostingSpec(A.OVER_SHORT, "CREDIT", variance, fund.currency))
        # `at` back-dates a count for back-office callers (the demo); the API has no such input.
        now = at or utcnow()
        entry = await store.post_entry(
            session,
            fund.id,
            postings,
            memo=f"cash count by {', '.join(names)}",
            recorded_by=viewer.username,
            kind="cash_count",
            effective_at=now,
        )
        row = CashCountRow(
            fund_id=fund.id,
            campaign_id=campaign_pk,
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


async def deposit_cash(
    engine: AsyncEngine,
    viewer: Viewer | None,
    *,
    fund_id: str,
    amount,
    bank_ref: str | None,
    idempotency_key: str,
    at: datetime | None = None,
):
    authorize(viewer, Action.HANDLE_CASH)
    key = idempotency.check_key(idempotency_key)
    bank_ref = text(bank_ref, "bankRef", required=False)
    request = {
        "fund": fund_id,
        "amount": [str(amount.amount), amount.currency],
        "bankRef": bank_ref,
    }
    fingerprint = idempotency.fingerprint("depositCash", request)
    async with unit_of_work(engine) as session:
        fund = await fund_for(session, viewer, fund_id, Action.HANDLE_CASH, lock=True)
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
            effective_at=at,
        )
        await idempotency.remember(session, key, "depositCash", fingerprint, entry.id)
        return entry
