"""Manual entries by finance staff, reversals, period close and verification."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import FundRow
from db.uow import read_session, unit_of_work
from ledger import idempotency, reports, store
from ledger.entries import PostedEntry, PostingSpec
from ledger.tables import EntryRow
from resolvers.auth import Action, Viewer, authorize
from resolvers.errors import invalid, not_found
from resolvers.funds import amount_in, check_access, fund_for, owning_fund
from resolvers.ids import decode_id
from resolvers.validation import instant, text

MAX_POSTINGS = 50


async def post_journal_entry(
    engine: AsyncEngine,
    viewer: Viewer | None,
    *,
    fund_id: str,
    memo: str,
    effective_at: datetime | None,
    postings: list,
    idempotency_key: str,
) -> EntryRow | PostedEntry:
    authorize(viewer, Action.POST_MANUAL_ENTRY)
    key = idempotency.check_key(idempotency_key)
    memo = text(memo, "memo", max_length=500)
    instant(effective_at, "effectiveAt")
    if not 2 <= len(postings) <= MAX_POSTINGS:
        raise invalid(f"an entry has 2 to {MAX_POSTINGS} postings", "postings")
    request = {
        "fund": fund_id,
        "memo": memo,
        "effectiveAt": effective_at,
        "postings": [
            [p.account_code, p.side.value, str(p.amount.amount), p.amount.currency]
            for p in postings
        ],
    }
    fingerprint = idempotency.fingerprint("postJournalEntry", request)
    async with unit_of_work(engine) as session:
        fund = await fund_for(session, viewer, fund_id, Action.POST_MANUAL_ENTRY, lock=True)
        specs = []
        for i, p in enumerate(postings):
            fen = amount_in(fund, p.amount.amount, p.amount.currency, f"postings.{i}.amount")
            specs.append(
                PostingSpec(
                    text(p.account_code, f"postings.{i}.accountCode", max_length=16),
                    p.side.value,
                    fen,
                    p.amount.currency,
                )
            )
        earlier = await idempotency.recall(session, key, "postJournalEntry", fingerprint)
        if earlier is not None:
            return await session.get(EntryRow, earlier)
        entry = await store.post_entry(
            session,
            fund.id,
            specs,
            memo=memo,
            recorded_by=viewer.username,
            kind="manual",
            effective_at=effective_at,
        )
        await idempotency.remember(session, key, "postJournalEntry", fingerprint, entry.id)
        return entry


async def reverse_journal_entry(
    engine: AsyncEngine, viewer: Viewer | None, *, entry_id: str, reason: str, idempotency_key: str
) -> EntryRow | PostedEntry:
    authorize(viewer, Action.POST_MANUAL_ENTRY)
    key = idempotency.check_key(idempotency_key)
    pk = decode_id(entry_id, "JournalEntry", field="entryId", what="journal entry")
    reason = text(reason, "reason", max_length=400)
    fingerprint = idempotency.fingerprint("reverseJournalEntry", {"entry": pk, "reason": reason})
    async with unit_of_work(engine) as session:
        entry = await session.get(EntryRow, pk)
        await owning_fund(
            session, viewer, entry, Action.POST_MANUAL_ENTRY, what="journal entry", field="entryId"
        )
        earlier = await idempotency.recall(session, key, "reverseJournalEntry", fingerprint)
        if earlier is not None:
            return await session.get(EntryRow, earlier)
        reversal = await store.reverse_entry(
            session,
            pk,
            memo=f"reversal of entry {entry.sequence}: {reason}",
            recorded_by=viewer.username,
        )
        await idempotency.remember(session, key, "reverseJournalEntry", fingerprint, reversal.id)
        return reversal


async def close_period(
    engine: AsyncEngine, viewer: Viewer | None, tz, *, fund_id: str, through: date
) -> FundRow:
    authorize(viewer, Action.CLOSE_PERIOD)
    async with unit_of_work(engine) as session:
        fund = await fund_for(session, viewer, fund_id, Action.CLOSE_PERIOD, lock=True)
        await store.close_period(session, fund.id, through, tz=tz, recorded_by=viewer.username)
        return fund


async def verify_journal(engine: AsyncEngine, viewer: Viewer | None, fund_id: str):
    authorize(viewer, Action.READ_LEDGER)
    pk = decode_id(fund_id, "Fund", field="fundId", what="fund")
    async with read_session(engine) as session:
        fund = await session.get(FundRow, pk)
        if fund is None:
            raise not_found("fund")
        check_access(viewer, fund, Action.READ_LEDGER)
        return await reports.verify_journal(session, fund.id)
