"""Official receipts (公益事业捐赠票据) over GraphQL: a donor or partner asks, FINANCE
issues or rejects and sees the list. The requester's identity is on the request type,
which only FINANCE (the list) and the request's own answer ever return."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

import strawberry

from resolvers import official_receipts as use
from resolvers.ids import to_global_id
from resolvers.pagination import PageArgs
from schema.arguments import INPUT
from schema.context import Info
from schema.errors import UserError
from schema.mutations.base import execute, key
from schema.relay import After, Connection, First, to_connection


@strawberry.enum(description="Where a request for an official receipt stands.")
class OfficialReceiptStatus(enum.Enum):
    REQUESTED = strawberry.enum_value("REQUESTED", description="Waiting for finance staff.")
    ISSUED = strawberry.enum_value("ISSUED", description="Issued: its official number is set.")
    REJECTED = strawberry.enum_value("REJECTED", description="Refused; the note says why.")


@strawberry.type(description="A request for an official donation receipt (公益事业捐赠票据).")
class OfficialReceiptRequest:
    id: strawberry.ID = strawberry.field(description="Its global ID.")
    status: OfficialReceiptStatus = strawberry.field(description="Where it stands.")
    requester_name: str = strawberry.field(description="Whom the receipt is made out to.")
    requester_id_number: str = strawberry.field(
        description="Their resident identity card number or unified social credit code."
    )
    email: str | None = strawberry.field(description="Where to send it by email.")
    address: str | None = strawberry.field(description="Where to send it by post.")
    requested_at: datetime = strawberry.field(description="When it was asked for.")
    official_number: str | None = strawberry.field(description="The receipt's official number.")
    issued_on: date | None = strawberry.field(description="The day it was issued.")
    note: str | None = strawberry.field(description="Why it was rejected.")

    @classmethod
    def of(cls, row) -> OfficialReceiptRequest:
        return cls(
            id=strawberry.ID(to_global_id("OfficialReceiptRequest", row.id)),
            status=OfficialReceiptStatus(row.status),
            requester_name=row.requester_name,
            requester_id_number=row.requester_id_number,
            email=row.email,
            address=row.address,
            requested_at=row.requested_at,
            official_number=row.official_number,
            issued_on=row.issued_on,
            note=row.note,
        )


@strawberry.input(description="A request for an official receipt for one gift.")
class RequestOfficialReceiptInput:
    receipt: str = strawberry.field(description="The gift's receipt number, e.g. ETGY-2026-000123.")
    key: str | None = strawberry.field(
        default=None,
        description="The key in the donor's receipt link (not needed by the giving partner).",
    )
    name: str = strawberry.field(description="Whom the receipt is made out to.")
    id_number: str = strawberry.field(
        description="A resident identity card number or a unified social credit code."
    )
    email: str | None = strawberry.field(default=None, description="Send it by email here.")
    address: str | None = strawberry.field(default=None, description="Or by post here.")


@strawberry.input(description="Finance staff's decision on a request.")
class DecideOfficialReceiptInput:
    request_id: strawberry.ID = strawberry.field(description="The request.")
    official_number: str | None = strawberry.field(
        default=None, description="The number of the receipt issued."
    )
    issued_on: date | None = strawberry.field(default=None, description="The day it was issued.")
    reject_reason: str | None = strawberry.field(
        default=None, description="Set to reject the request instead, saying why."
    )


@strawberry.type(description="Result of an official receipt mutation.")
class OfficialReceiptPayload:
    request: OfficialReceiptRequest | None = strawberry.field(description="The request.")
    errors: list[UserError] = strawberry.field(description="Why it was refused.")


@strawberry.type
class OfficialReceiptMutations:
    @strawberry.mutation(
        description="Ask for an official receipt for a gift: the donor (with the receipt link's key) or the giving partner."
    )
    async def request_official_receipt(
        self, info: Info, input: Annotated[RequestOfficialReceiptInput, INPUT]
    ) -> OfficialReceiptPayload:
        cmd = use.RequestOfficialReceipt(
            input.receipt, input.key, input.name, input.id_number, input.email, input.address
        )
        row, errors = await execute(info, use.request_official_receipt, cmd)
        return OfficialReceiptPayload(request=_of(row), errors=errors)

    @strawberry.mutation(
        description="Record the official receipt issued for a request, or reject it (FINANCE)."
    )
    async def decide_official_receipt(
        self, info: Info, input: Annotated[DecideOfficialReceiptInput, INPUT]
    ) -> OfficialReceiptPayload:
        cmd = use.DecideOfficialReceipt(
            key(input.request_id, "OfficialReceiptRequest"),
            input.official_number,
            input.issued_on,
            input.reject_reason,
        )
        row, errors = await execute(info, use.decide_official_receipt, cmd)
        return OfficialReceiptPayload(request=_of(row), errors=errors)


@strawberry.type
class OfficialReceiptQueries:
    @strawberry.field(description="Requests for official receipts, oldest first (FINANCE).")
    async def official_receipt_requests(
        self,
        info: Info,
        status: Annotated[
            OfficialReceiptStatus | None,
            strawberry.argument(description="Only requests in this state; all by default."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[OfficialReceiptRequest]:
        page = await use.request_page(
            info.context.engine,
            await info.context.viewer(),
            status.value if status is not None else None,
            PageArgs.of(first, after),
        )
        return to_connection(page, OfficialReceiptRequest.of)


def _of(row) -> OfficialReceiptRequest | None:
    return OfficialReceiptRequest.of(row) if row is not None else None
