"""postJournalEntry, reverseJournalEntry and closePeriod (FINANCE)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from resolvers import journal
from resolvers.commands import ClosePeriod, PostingLine, PostJournalEntry, ReverseJournalEntry
from schema.arguments import INPUT
from schema.context import Info
from schema.mutations.base import execute, key, of, payload
from schema.mutations.money import money
from schema.types.common import MoneyInput
from schema.types.funds import Fund
from schema.types.ledger import EntrySide, JournalEntry


@strawberry.input(description="One line of a manual entry.")
class PostingInput:
    account_code: str = strawberry.field(description="Account code of the fund, e.g. 1002.")
    side: EntrySide = strawberry.field(description="Debit or credit.")
    amount: MoneyInput = strawberry.field(description="Positive amount.")


@strawberry.input(description="A manual, balanced journal entry.")
class PostJournalEntryInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    memo: str = strawberry.field(description="What it records.")
    effective_at: datetime | None = strawberry.field(
        default=None, description="When it happened (default now)."
    )
    postings: list[PostingInput] = strawberry.field(
        description="At least two; debits equal credits."
    )
    idempotency_key: str = strawberry.field(description="Same key and input: the first result.")


@strawberry.input(description="A reversal of an entry.")
class ReverseJournalEntryInput:
    entry_id: strawberry.ID = strawberry.field(description="The entry to reverse.")
    reason: str = strawberry.field(description="Why.")
    idempotency_key: str = strawberry.field(description="Same key and input: the first result.")


@strawberry.input(description="Closing a fund's books through a day.")
class ClosePeriodInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    through: date = strawberry.field(
        description="Entries effective on or before this date can no longer be added or reversed."
    )


JournalEntryPayload = payload(
    "JournalEntryPayload", "journal_entry", JournalEntry, "Result of a journal mutation."
)
ClosePeriodPayload = payload("ClosePeriodPayload", "fund", Fund, "Result of closePeriod.")


@strawberry.type
class JournalMutations:
    @strawberry.mutation(description="Post a manual balanced entry (FINANCE).")
    async def post_journal_entry(
        self, info: Info, input: Annotated[PostJournalEntryInput, INPUT]
    ) -> JournalEntryPayload:
        cmd = PostJournalEntry(
            fund_id=key(input.fund_id, "Fund"),
            memo=input.memo,
            effective_at=input.effective_at,
            postings=tuple(
                PostingLine(p.account_code, p.side.value, money(p.amount)) for p in input.postings
            ),
            idempotency_key=input.idempotency_key,
        )
        row, errors = await execute(info, journal.post_journal_entry, cmd)
        return JournalEntryPayload(journal_entry=of(JournalEntry.of, row), errors=errors)

    @strawberry.mutation(description="Reverse an entry with a new, opposite entry (FINANCE).")
    async def reverse_journal_entry(
        self, info: Info, input: Annotated[ReverseJournalEntryInput, INPUT]
    ) -> JournalEntryPayload:
        cmd = ReverseJournalEntry(
            entry_id=key(input.entry_id, "JournalEntry"),
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        row, errors = await execute(info, journal.reverse_journal_entry, cmd)
        return JournalEntryPayload(journal_entry=of(JournalEntry.of, row), errors=errors)

    @strawberry.mutation(description="Close a fund's books through a day (FINANCE).")
    async def close_period(
        self, info: Info, input: Annotated[ClosePeriodInput, INPUT]
    ) -> ClosePeriodPayload:
        cmd = ClosePeriod(fund_id=key(input.fund_id, "Fund"), through=input.through)
        row, errors = await execute(info, journal.close_period, cmd)
        return ClosePeriodPayload(fund=of(Fund.of, row), errors=errors)
