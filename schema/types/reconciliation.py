"""Reconciliation: statement imports, their lines, and the reconciliation view."""

from __future__ import annotations

import enum
from datetime import date, datetime

import strawberry

from db.reconciliation_models import StatementImportRow, StatementLineRow
from resolvers.ids import to_global_id
from resolvers.reconciliation import ReconciliationView
from schema.context import Info
from schema.relay import Node
from schema.types.common import Money, money, shown
from schema.types.donations import Donation
from schema.types.funds import Fund
from schema.types.ledger import JournalEntry


@strawberry.enum(description="Where a statement comes from.")
class StatementSource(enum.Enum):
    PAYMENT_CHANNEL = strawberry.enum_value(
        "PAYMENT_CHANNEL",
        description="A payment channel's settlement file: online donations paid out to the bank, less fees.",
    )
    BANK = strawberry.enum_value(
        "BANK", description="The host bank's statement of the fund's account."
    )


@strawberry.enum(description="What the import found for a statement line.")
class StatementLineStatus(enum.Enum):
    MATCHED = strawberry.enum_value(
        "MATCHED",
        description="Accounted for: an unsettled donation (settled now) or a bank posting.",
    )
    UNMATCHED = strawberry.enum_value(
        "UNMATCHED",
        description="Nothing in the ledger has this reference, or more than one thing fits.",
    )
    DISCREPANCY = strawberry.enum_value(
        "DISCREPANCY",
        description="The reference is known but the amount (or the donation's state) differs; see note.",
    )
    DUPLICATE = strawberry.enum_value(
        "DUPLICATE", description="Settled or matched by an earlier import; nothing posted."
    )
    RESOLVED = strawberry.enum_value(
        "RESOLVED",
        description="Was UNMATCHED or DISCREPANCY; finance staff resolved it (see resolveStatementLine).",
    )


@strawberry.enum(description="How finance staff settle an UNMATCHED or DISCREPANCY line.")
class StatementLineResolution(enum.Enum):
    IGNORE = strawberry.enum_value(
        "IGNORE",
        description="Nothing to book (e.g. a line that belongs to another fund); a note is required.",
    )
    SUSPENSE = strawberry.enum_value(
        "SUSPENSE",
        description="BANK lines with money in only: book it as unidentified receipts (Dr 1002 / Cr 2209.02).",
    )


@strawberry.type(
    description="One data line of an imported statement and what it matched (FINANCE and ADMIN only). A Node, so client caches keep one record per line and a resolveStatementLine result updates it in every list."
)
class StatementLine(Node):
    row: strawberry.Private[StatementLineRow]
    line_no: int = strawberry.field(
        description="Data line number in the file, from 1 (the header row is not counted)."
    )
    date: date = strawberry.field(description="The line's date as the file gives it.")
    reference: str = strawberry.field(
        description="The outside reference: a donation's externalRef, a bankRef, a payoutRef."
    )
    amount: Money = strawberry.field(
        description="Settlement: the gross the donor paid. Bank: signed, positive is money in."
    )
    fee: Money | None = strawberry.field(description="The channel's fee; null on bank lines.")
    balance: Money | None = strawberry.field(
        description="The bank's running balance after the line; null on settlement lines."
    )
    status: StatementLineStatus = strawberry.field(description="What the import found.")
    resolution: StatementLineResolution | None = strawberry.field(
        description="How a RESOLVED line was resolved."
    )
    note: str | None = strawberry.field(
        description="Why a line is not MATCHED, or the note given when it was resolved."
    )

    @classmethod
    def of(cls, row: StatementLineRow) -> StatementLine:
        return cls(
            id=to_global_id("StatementLine", row.id),
            row=row,
            line_no=row.line_no,
            date=row.date,
            reference=row.reference,
            amount=money(row.amount_fen),
            fee=money(row.fee_fen) if row.fee_fen is not None else None,
            balance=money(row.balance_fen) if row.balance_fen is not None else None,
            status=StatementLineStatus(row.status),
            resolution=StatementLineResolution(row.resolution) if row.resolution else None,
            note=row.note,
        )

    @strawberry.field(description="The donation the line settled or matched, if any.")
    async def matched_donation(self, info: Info) -> Donation | None:
        if self.row.matched_donation_id is None:
            return None
        row = await info.context.visible.donation.load(self.row.matched_donation_id)
        return Donation.of(row) if row else None

    @strawberry.field(
        description="The entry that accounts for the line: the payout's settlement entry, the matched bank entry, the entry an earlier import matched (DUPLICATE), the nearest entry with this reference (DISCREPANCY), or the suspense entry of a line resolved with SUSPENSE."
    )
    async def matched_entry(self, info: Info) -> JournalEntry | None:
        if self.row.matched_entry_id is None:
            return None
        row = await info.context.visible.entry.load(self.row.matched_entry_id)
        return JournalEntry.of(row) if row else None

    @strawberry.field(description="The import this line belongs to.")
    async def statement_import(self, info: Info) -> StatementImport:
        row = await info.context.visible.statement_import.load(self.row.import_id)
        return StatementImport.of(shown(row, "statement import"))


@strawberry.type(description="One imported statement file (FINANCE and ADMIN only).")
class StatementImport(Node):
    row: strawberry.Private[StatementImportRow]
    source: StatementSource = strawberry.field(description="Settlement file or bank statement.")
    imported_at: datetime = strawberry.field(description="When it was imported.")
    imported_by: str = strawberry.field(description="Username of who imported it.")
    payout_ref: str | None = strawberry.field(
        description="PAYMENT_CHANNEL: the payout's reference; null for BANK."
    )
    matched_count: int = strawberry.field(description="Lines MATCHED.")
    unmatched_count: int = strawberry.field(description="Lines still UNMATCHED.")
    discrepancy_count: int = strawberry.field(description="Lines still DISCREPANCY.")
    duplicate_count: int = strawberry.field(description="Lines DUPLICATE (nothing posted).")
    resolved_count: int = strawberry.field(description="Lines RESOLVED since the import.")
    closing_balance: Money | None = strawberry.field(
        description="BANK: the statement's closing balance (the last line's balance)."
    )

    @classmethod
    def of(cls, row: StatementImportRow) -> StatementImport:
        return cls(
            id=to_global_id("StatementImport", row.id),
            row=row,
            source=StatementSource(row.source),
            imported_at=row.imported_at,
            imported_by=row.imported_by,
            payout_ref=row.payout_ref,
            matched_count=row.matched_count,
            unmatched_count=row.unmatched_count,
            discrepancy_count=row.discrepancy_count,
            duplicate_count=row.duplicate_count,
            resolved_count=row.resolved_count,
            closing_balance=money(row.closing_balance_fen)
            if row.closing_balance_fen is not None
            else None,
        )

    @strawberry.field(description="The fund whose statement this is.")
    async def fund(self, info: Info) -> Fund:
        return Fund.of(shown(await info.context.visible.fund.load(self.row.fund_id), "fund"))

    @strawberry.field(description="Every data line, in file order.")
    async def lines(self, info: Info) -> list[StatementLine]:
        rows = await info.context.visible.statement_lines_by_import.load(self.row.id)
        return [StatementLine.of(r) for r in rows]

    @strawberry.field(
        description="PAYMENT_CHANNEL: the one entry that booked the payout; null when nothing was posted."
    )
    async def journal_entry(self, info: Info) -> JournalEntry | None:
        if self.row.entry_id is None:
            return None
        row = await info.context.visible.entry.load(self.row.entry_id)
        return JournalEntry.of(row) if row else None


@strawberry.type(
    description="Whether a fund's ledger agrees with the outside world: the channel's settlements, the cash, the bank."
)
class Reconciliation:
    view: strawberry.Private[ReconciliationView]
    fund: Fund = strawberry.field(description="The fund.")
    at: datetime = strawberry.field(description="The instant the view is of.")
    online_unsettled: Money = strawberry.field(
        description="Online donations recorded in the ledger and not yet settled."
    )
    cash_undeposited: Money = strawberry.field(
        description="Offline donations recorded and not yet deposited."
    )
    ledger_bank: Money = strawberry.field(description="The ledger's bank balance (account 1002).")
    statement_bank: Money | None = strawberry.field(
        description="Closing balance of the latest imported bank statement; null before the first."
    )
    unmatched_lines: list[StatementLine] = strawberry.field(
        description="Lines of every import of this fund that are UNMATCHED or DISCREPANCY."
    )
    unsettled_donations: list[Donation] = strawberry.field(
        description="Donations the payment channel has not reported settled."
    )
    balanced: bool = strawberry.field(
        description="True when a bank statement has been imported, its closing balance equals ledgerBank, and no line of any import is UNMATCHED or DISCREPANCY."
    )

    @classmethod
    def of(cls, view: ReconciliationView) -> Reconciliation:
        cur = view.fund.currency
        return cls(
            view=view,
            fund=Fund.of(view.fund),
            at=view.at,
            online_unsettled=money(view.online_unsettled, cur),
            cash_undeposited=money(view.cash_undeposited, cur),
            ledger_bank=money(view.ledger_bank, cur),
            statement_bank=money(view.statement_bank, cur)
            if view.statement_bank is not None
            else None,
            unmatched_lines=[StatementLine.of(r) for r in view.unmatched_lines],
            unsettled_donations=[Donation.of(r) for r in view.unsettled_donations],
            balanced=view.balanced,
        )


@strawberry.input(description="A statement file to import.")
class ImportStatementInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    source: StatementSource = strawberry.field(description="Settlement file or bank statement.")
    payout_ref: str | None = strawberry.field(
        default=None,
        description="PAYMENT_CHANNEL only, and required there: the reference of the payout with which the channel paid this file's net total to the bank. The whole payout is one entry with this reference (see the domain brief), so the payout's single bank-statement line matches it.",
    )
    csv: str = strawberry.field(
        description="The statement as CSV text, in any format of docs/statement-formats.md (detected from its header)."
    )
    idempotency_key: str = strawberry.field(
        description="Same key and input: the first import, nothing new written."
    )
    payout_date: date | None = strawberry.field(
        default=None,
        description="PAYMENT_CHANNEL only: the day the payout reached the bank, which dates its entry. Without it, the file's payout row (提现/结算) or else its last line's day. A day in a closed period is PERIOD_CLOSED.",
    )


@strawberry.input(description="Settling an UNMATCHED or DISCREPANCY statement line.")
class ResolveStatementLineInput:
    statement_import_id: strawberry.ID = strawberry.field(description="The import.")
    line_no: int = strawberry.field(description="The line's lineNo.")
    resolution: StatementLineResolution = strawberry.field(description="IGNORE or SUSPENSE.")
    note: str = strawberry.field(description="Why; required (non-blank) for IGNORE.")
    idempotency_key: str = strawberry.field(
        description="Same key and input: the first result, nothing new written."
    )


@strawberry.input(
    description="Takes a resolution back: the line is open again as it was before it was resolved."
)
class ReopenStatementLineInput:
    statement_import_id: strawberry.ID = strawberry.field(description="The import.")
    line_no: int = strawberry.field(description="The line's lineNo.")
    reason: str = strawberry.field(description="Why (required, at most 400 characters).")
    idempotency_key: str = strawberry.field(
        description="Same key and input: the first result, nothing new written."
    )
