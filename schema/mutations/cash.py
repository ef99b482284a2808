"""depositCash and recordCashCount."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import cash
from resolvers.commands import DepositCash, RecordCashCount
from schema.arguments import INPUT
from schema.context import Info
from schema.mutations.base import execute, key, of, optional_key, payload
from schema.mutations.money import money
from schema.types.common import MoneyInput
from schema.types.donations import CashCount
from schema.types.ledger import JournalEntry


@strawberry.input(
    description="Moves counted cash (account 1001) to the bank; more than the counted cash is INSUFFICIENT_FUNDS."
)
class DepositCashInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    amount: MoneyInput = strawberry.field(description="How much is deposited.")
    bank_ref: str | None = strawberry.field(
        default=None, description="The bank's reference of the deposit."
    )
    idempotency_key: str = strawberry.field(description="Same key and input: the first result.")


@strawberry.input(description="A two-person count of the uncounted cash.")
class RecordCashCountInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="The campaign counted at, if any."
    )
    counted: MoneyInput = strawberry.field(description="What was counted.")
    counted_by: list[str] = strawberry.field(
        description="Names of the people who counted: at least two, distinct."
    )
    idempotency_key: str = strawberry.field(description="Same key and input: the first result.")


DepositCashPayload = payload(
    "DepositCashPayload", "journal_entry", JournalEntry, "Result of depositCash."
)
RecordCashCountPayload = payload(
    "RecordCashCountPayload", "cash_count", CashCount, "Result of recordCashCount."
)


@strawberry.type
class CashMutations:
    @strawberry.mutation(description="Deposit counted cash in the bank.")
    async def deposit_cash(
        self, info: Info, input: Annotated[DepositCashInput, INPUT]
    ) -> DepositCashPayload:
        cmd = DepositCash(
            fund_id=key(input.fund_id, "Fund"),
            amount=money(input.amount),
            bank_ref=input.bank_ref,
            idempotency_key=input.idempotency_key,
        )
        row, errors = await execute(info, cash.deposit_cash, cmd)
        return DepositCashPayload(journal_entry=of(JournalEntry.of, row), errors=errors)

    @strawberry.mutation(description="Record a two-person count of the uncounted cash.")
    async def record_cash_count(
        self, info: Info, input: Annotated[RecordCashCountInput, INPUT]
    ) -> RecordCashCountPayload:
        cmd = RecordCashCount(
            fund_id=key(input.fund_id, "Fund"),
            campaign_id=optional_key(input.campaign_id, "Campaign"),
            counted=money(input.counted),
            counted_by=tuple(input.counted_by),
            idempotency_key=input.idempotency_key,
        )
        row, errors = await execute(info, cash.record_cash_count, cmd)
        return RecordCashCountPayload(cash_count=of(CashCount.of, row), errors=errors)
