"""The mutations that undo a business record together with its entry (resolvers/undo.py):
the only way an entry made by a business operation is reversed."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import undo
from schema.arguments import INPUT
from schema.context import Info
from schema.errors import UserError
from schema.mutations import DisbursementPayload
from schema.mutations.base import execute, key, of
from schema.mutations.journal import JournalEntryPayload
from schema.types.disbursements import Disbursement
from schema.types.donations import CashCount, Donation
from schema.types.ledger import JournalEntry
from schema.types.reconciliation import StatementImport

_KEY = "Same key and input: the first result."


@strawberry.input(description="A donation recorded by mistake, to be voided.")
class VoidDonationInput:
    donation_id: strawberry.ID = strawberry.field(description="The donation.")
    reason: str = strawberry.field(description="Why it was a mistake.")
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.input(description="A cash count to take back.")
class ReverseCashCountInput:
    cash_count_id: strawberry.ID = strawberry.field(description="The count: its fund's latest.")
    reason: str = strawberry.field(description="Why.")
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.input(description="A cash deposit to take back.")
class ReverseCashDepositInput:
    journal_entry_id: strawberry.ID = strawberry.field(
        description="The deposit's journal entry (depositCash's journalEntry)."
    )
    reason: str = strawberry.field(description="Why.")
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.input(description="An approved disbursement to withdraw before payment.")
class CancelDisbursementInput:
    disbursement_id: strawberry.ID = strawberry.field(description="The disbursement.")
    reason: str = strawberry.field(description="Why.")
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.input(description="A disbursement whose payment was recorded by mistake.")
class ReverseDisbursementPaymentInput:
    disbursement_id: strawberry.ID = strawberry.field(description="The PAID disbursement.")
    reason: str = strawberry.field(description="Why.")
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.input(description="A statement import to undo.")
class UndoStatementImportInput:
    import_id: strawberry.ID = strawberry.field(description="The import.")
    reason: str = strawberry.field(description="Why.")
    idempotency_key: str = strawberry.field(description=_KEY)


@strawberry.type(description="Result of voidDonation.")
class VoidDonationPayload:
    donation: Donation | None = strawberry.field(description="The donation, now VOIDED.")
    errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type(description="Result of reverseCashCount.")
class ReverseCashCountPayload:
    cash_count: CashCount | None = strawberry.field(description="The count taken back.")
    errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type(description="Result of undoStatementImport.")
class UndoStatementImportPayload:
    statement_import: StatementImport | None = strawberry.field(description="The import undone.")
    errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type(description="Undoing a record together with its journal entry.")
class UndoMutations:
    @strawberry.mutation(
        description="Void a donation recorded by mistake, before anything settled it: its "
        "entry is reversed and the donation is VOIDED. After settlement, refund it instead."
    )
    async def void_donation(
        self, info: Info, input: Annotated[VoidDonationInput, INPUT]
    ) -> VoidDonationPayload:
        cmd = undo.VoidDonation(
            key(input.donation_id, "Donation"), input.reason, input.idempotency_key
        )
        row, errors = await execute(info, undo.void_donation, cmd)
        if row is not None:
            await info.context.app.events.publish(row.campaign_id)
        donation = Donation.in_visible_fund(row) if row is not None else None
        return VoidDonationPayload(donation=donation, errors=errors)

    @strawberry.mutation(
        description="Take back the fund's latest cash count while its cash is still on hand: "
        "the cash is uncounted again."
    )
    async def reverse_cash_count(
        self, info: Info, input: Annotated[ReverseCashCountInput, INPUT]
    ) -> ReverseCashCountPayload:
        cmd = undo.ReverseCashCount(
            key(input.cash_count_id, "CashCount"), input.reason, input.idempotency_key
        )
        row, errors = await execute(info, undo.reverse_cash_count, cmd)
        count = CashCount.of(row) if row is not None else None
        return ReverseCashCountPayload(cash_count=count, errors=errors)

    @strawberry.mutation(
        description="Take back a cash deposit recorded by mistake, before a bank statement "
        "line matched it and while the bank still holds it: its entry is reversed and the "
        "money is cash on hand again. Answers the reversing entry."
    )
    async def reverse_cash_deposit(
        self, info: Info, input: Annotated[ReverseCashDepositInput, INPUT]
    ) -> JournalEntryPayload:
        cmd = undo.ReverseCashDeposit(
            key(input.journal_entry_id, "JournalEntry"), input.reason, input.idempotency_key
        )
        row, errors = await execute(info, undo.reverse_cash_deposit, cmd)
        return JournalEntryPayload(journal_entry=of(JournalEntry.of, row), errors=errors)

    @strawberry.mutation(
        description="Withdraw an APPROVED disbursement before it is paid: its approval is "
        "reversed and it is CANCELLED."
    )
    async def cancel_disbursement(
        self, info: Info, input: Annotated[CancelDisbursementInput, INPUT]
    ) -> DisbursementPayload:
        cmd = undo.CancelDisbursement(
            key(input.disbursement_id, "Disbursement"), input.reason, input.idempotency_key
        )
        row, errors = await execute(info, undo.cancel_disbursement, cmd)
        result = Disbursement.of(row) if row is not None else None
        return DisbursementPayload(disbursement=result, errors=errors)

    @strawberry.mutation(
        description="Take back a payment recorded by mistake (FINANCE, ADMIN): the payment "
        "entry is reversed and the disbursement is APPROVED again, ready to be paid. Refused "
        "once a bank statement line matched the payment."
    )
    async def reverse_disbursement_payment(
        self, info: Info, input: Annotated[ReverseDisbursementPaymentInput, INPUT]
    ) -> DisbursementPayload:
        cmd = undo.ReverseDisbursementPayment(
            key(input.disbursement_id, "Disbursement"), input.reason, input.idempotency_key
        )
        row, errors = await execute(info, undo.reverse_disbursement_payment, cmd)
        result = Disbursement.of(row) if row is not None else None
        return DisbursementPayload(disbursement=result, errors=errors)

    @strawberry.mutation(
        description="Undo a statement import nothing later depends on: its payout entry is "
        "reversed and the donations it settled are RECEIVED again; its lines no longer count."
    )
    async def undo_statement_import(
        self, info: Info, input: Annotated[UndoStatementImportInput, INPUT]
    ) -> UndoStatementImportPayload:
        cmd = undo.UndoStatementImport(
            key(input.import_id, "StatementImport"), input.reason, input.idempotency_key
        )
        row, errors = await execute(info, undo.undo_statement_import, cmd)
        result = StatementImport.of(row) if row is not None else None
        return UndoStatementImportPayload(statement_import=result, errors=errors)
