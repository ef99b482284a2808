"""Manual entries by finance staff, reversals, period close and verification."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import FundRow
from db.uow import read_session
from ledger import idempotency, reports, store
from ledger.entries import PostedEntry, PostingSpec
from ledger.tables import EntryRow
from resolvers.auth import Action, Viewer, authorize
from resolvers.commands import ClosePeriod, PostingLine, PostJournalEntry, ReverseJournalEntry
from resolvers.errors import invalid, not_found
from resolvers.funds import amount_in, check_access, fund_for, owning_fund
from resolvers.ids import decode_id, stored_ref
from resolvers.unit_of_work import UnitOfWork
from resolvers.validation import instant, text

MAX_POSTINGS = 50


def _specs(fund: FundRow, postings: tuple[PostingLine, ...]) -> list[PostingSpec]:
    specs = []
    for i, p in enumerate(postings):
        fen = amount_in(fund, p.amount.amount, p.amount.currency, f"postings.{i}.amount")
        code = text(p.account_code, f"postings.{i}.accountCode", max_length=16)
        specs.append(PostingSpec(code, p.side, fen, p.amount.currency))
    return specs


async def post_journal_entry(cmd: PostJournalEntry, uow: UnitOfWork) -> EntryRow | PostedEntry:
    viewer = uow.viewer
    authorize(viewer, Action.POST_MANUAL_ENTRY)
    key = idempotency.check_key(cmd.idempotency_key)
    memo = text(cmd.memo, "memo", max_length=500)
    effective_at = instant(cmd.effective_at, "effectiveAt")
    if not 2 <= len(cmd.postings) <= MAX_POSTINGS:
        raise invalid(f"an entry has 2 to {MAX_POSTINGS} postings", "postings")
    request = {
        "fund": stored_ref("Fund", cmd.fund_id),
        "memo": memo,
        "effectiveAt": effective_at,
        "postings": [
            [p.account_code, p.side, str(p.amount.amount), p.amount.currency] for p in cmd.postings
        ],
    }
    fingerprint = idempotency.fingerprint("postJournalEntry", request)
    async with uow.transaction() as session:
        fund = await fund_for(session, viewer, cmd.fund_id, Action.POST_MANUAL_ENTRY, lock=True)
        specs = _specs(fund, cmd.postings)
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
    cmd: ReverseJournalEntry, uow: UnitOfWork
) -> EntryRow | PostedEntry:
    viewer = uow.viewer
    authorize(viewer, Action.POST_MANUAL_ENTRY)
    key = idempotency.check_key(cmd.idempotency_key)
    pk = cmd.entry_id
    reason = text(cmd.reason, "reason", max_length=400)
    fingerprint = idempotency.fingerprint("reverseJournalEntry", {"entry": pk, "reason": reason})
    async with uow.transaction() as session:
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


async def close_period(cmd: ClosePeriod, uow: UnitOfWork) -> FundRow:
    viewer = uow.viewer
    authorize(viewer, Action.CLOSE_PERIOD)
    async with uow.transaction() as session:
        fund = await fund_for(session, viewer, cmd.fund_id, Action.CLOSE_PERIOD, lock=True)
        await store.close_period(
            session, fund.id, cmd.through, tz=uow.timezone, recorded_by=viewer.username
        )
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
