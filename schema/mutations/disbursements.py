"""requestDisbursement, then approve, reject or pay it."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import disbursements
from resolvers.commands import DecideDisbursement, RequestDisbursement
from schema.arguments import INPUT
from schema.context import Info
from schema.mutations.base import execute, key, of, payload
from schema.mutations.money import money
from schema.types.common import MoneyInput
from schema.types.disbursements import Disbursement


@strawberry.input(description="A request to spend.")
class RequestDisbursementInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    amount: MoneyInput = strawberry.field(description="How much.")
    payee: str = strawberry.field(description="Who is paid.")
    purpose: str = strawberry.field(description="What for.")
    idempotency_key: str = strawberry.field(description="Same key and input: the first result.")


@strawberry.input(description="A decision on a disbursement.")
class DecideDisbursementInput:
    disbursement_id: strawberry.ID = strawberry.field(description="The disbursement.")
    idempotency_key: str = strawberry.field(description="Same key and input: the first result.")
    note: str | None = strawberry.field(
        default=None, description="A note; for a payment, the bank's reference."
    )


DisbursementPayload = payload(
    "DisbursementPayload", "disbursement", Disbursement, "Result of a disbursement mutation."
)


async def _decide(info: Info, decision: str, input: DecideDisbursementInput):
    cmd = DecideDisbursement(
        decision=decision,
        disbursement_id=key(input.disbursement_id, "Disbursement"),
        idempotency_key=input.idempotency_key,
        note=input.note,
    )
    row, errors = await execute(info, disbursements.decide_disbursement, cmd)
    return DisbursementPayload(disbursement=of(Disbursement.of, row), errors=errors)


@strawberry.type
class DisbursementMutations:
    @strawberry.mutation(description="Ask to spend money from a fund.")
    async def request_disbursement(
        self, info: Info, input: Annotated[RequestDisbursementInput, INPUT]
    ) -> DisbursementPayload:
        cmd = RequestDisbursement(
            fund_id=key(input.fund_id, "Fund"),
            amount=money(input.amount),
            payee=input.payee,
            purpose=input.purpose,
            idempotency_key=input.idempotency_key,
        )
        row, errors = await execute(info, disbursements.request_disbursement, cmd)
        return DisbursementPayload(disbursement=of(Disbursement.of, row), errors=errors)

    @strawberry.mutation(
        description="Approve a request (FINANCE, not the requester); commits the money."
    )
    async def approve_disbursement(
        self, info: Info, input: Annotated[DecideDisbursementInput, INPUT]
    ) -> DisbursementPayload:
        return await _decide(info, "approve", input)

    @strawberry.mutation(description="Reject a request (FINANCE).")
    async def reject_disbursement(
        self, info: Info, input: Annotated[DecideDisbursementInput, INPUT]
    ) -> DisbursementPayload:
        return await _decide(info, "reject", input)

    @strawberry.mutation(description="Pay an approved disbursement from the bank (FINANCE).")
    async def pay_disbursement(
        self, info: Info, input: Annotated[DecideDisbursementInput, INPUT]
    ) -> DisbursementPayload:
        return await _decide(info, "pay", input)
