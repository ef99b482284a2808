"""Disbursements: requested, approved by someone else, paid from the bank."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from db.models import DisbursementRow
from resolvers.ids import to_global_id
from schema.context import Info
from schema.relay import Node
from schema.types.common import Money, money, shown
from schema.types.funds import Fund
from schema.types.ledger import JournalEntry


@strawberry.enum(description="Where a disbursement stands; it only moves forward.")
class DisbursementStatus(enum.Enum):
    REQUESTED = strawberry.enum_value(
        "REQUESTED", description="Asked for; waiting for another person's approval."
    )
    APPROVED = strawberry.enum_value(
        "APPROVED", description="Approved and owed to the payee; waiting for payment."
    )
    PAID = strawberry.enum_value("PAID", description="Paid out of the bank.")
    REJECTED = strawberry.enum_value(
        "REJECTED", description="Refused by the approver; nothing was owed or paid."
    )
    CANCELLED = strawberry.enum_value(
        "CANCELLED", description="Approved, then withdrawn before payment (cancelDisbursement)."
    )


@strawberry.type(description="A request to spend money from a fund.")
class Disbursement(Node):
    row: strawberry.Private[DisbursementRow]
    amount: Money = strawberry.field(description="How much.")
    payee: str = strawberry.field(description="Who is paid.")
    purpose: str = strawberry.field(description="What for.")
    status: DisbursementStatus = strawberry.field(description="Where it stands.")
    requested_by: str = strawberry.field(description="Username of the requester.")
    approved_by: str | None = strawberry.field(description="Username of the approver.")
    requested_at: datetime = strawberry.field(description="When it was requested.")

    @classmethod
    def of(cls, row: DisbursementRow) -> Disbursement:
        return cls(
            id=to_global_id("Disbursement", row.id),
            row=row,
            amount=money(row.amount_fen),
            payee=row.payee,
            purpose=row.purpose,
            status=DisbursementStatus(row.status),
            requested_by=row.requested_by,
            approved_by=row.approved_by,
            requested_at=row.requested_at,
        )

    @strawberry.field(description="The fund it spends from.")
    async def fund(self, info: Info) -> Fund:
        return Fund.of(shown(await info.context.visible.fund.load(self.row.fund_id), "fund"))

    @strawberry.field(
        description="The latest entry it posted: the payment once paid, else the approval."
    )
    async def journal_entry(self, info: Info) -> JournalEntry | None:
        entry_id = self.row.pay_entry_id or self.row.approve_entry_id
        if entry_id is None:
            return None
        row = await info.context.visible.entry.load(entry_id)
        return JournalEntry.of(row) if row else None
