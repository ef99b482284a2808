"""The ledger as finance staff read it: accounts, postings, journal entries."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from ledger.entries import PostedEntry
from ledger.tables import AccountRow, EntryRow, PostingRow
from resolvers.ids import to_global_id
from resolvers.pagination import PageArgs
from schema.arguments import At
from schema.context import Info
from schema.relay import After, Before, Connection, First, Last, Node, child_connection
from schema.types.common import Money, money, shown

if TYPE_CHECKING:
    from schema.types.funds import Fund

FundRef = Annotated["Fund", strawberry.lazy("schema.types.funds")]


@strawberry.enum(description="The five kinds of account of the NPO accounting system.")
class AccountType(enum.Enum):
    ASSET = strawberry.enum_value(
        "ASSET", description="What the fund holds: cash, bank, money in clearing, goods (1xxx)."
    )
    LIABILITY = strawberry.enum_value(
        "LIABILITY",
        description="What the fund owes, e.g. approved disbursements not yet paid (2xxx).",
    )
    NET_ASSETS = strawberry.enum_value(
        "NET_ASSETS", description="The fund's net assets, moved only by period close (3xxx)."
    )
    INCOME = strawberry.enum_value("INCOME", description="Donations and other income (4xxx).")
    EXPENSE = strawberry.enum_value("EXPENSE", description="Spending, fees and other costs (5xxx).")


@strawberry.enum(description="Debit or credit.")
class EntrySide(enum.Enum):
    DEBIT = strawberry.enum_value(
        "DEBIT", description="Debit (借): raises an asset or expense, lowers the others."
    )
    CREDIT = strawberry.enum_value(
        "CREDIT",
        description="Credit (贷): raises a liability, net assets or income, lowers the others.",
    )


@strawberry.type(description="One account of a fund's sub-ledger, e.g. 1002 Bank.")
class LedgerAccount(Node):
    pk: strawberry.Private[int]
    fund_id: strawberry.Private[int]
    balance_fen: strawberry.Private[int]
    currency: strawberry.Private[str]
    code: str = strawberry.field(description="Account code from the chart, e.g. 1009.01.")
    name: str = strawberry.field(description="Account name.")
    type: AccountType = strawberry.field(
        description="Asset, liability, net assets, income or expense."
    )

    @classmethod
    def of(cls, row: AccountRow) -> LedgerAccount:
        return cls(
            id=to_global_id("LedgerAccount", row.id),
            pk=row.id,
            fund_id=row.fund_id,
            balance_fen=row.balance_fen,
            currency=row.currency,
            code=row.code,
            name=row.name,
            type=AccountType(row.type),
        )

    @strawberry.field(description="The fund whose sub-ledger this is.")
    async def fund(self, info: Info) -> FundRef:
        from schema.types.funds import Fund

        return Fund.of(shown(await info.context.visible.fund.load(self.fund_id), "fund"))

    @strawberry.field(
        description="Signed by the account's normal side: positive means the usual kind of balance."
    )
    def balance(self) -> Money:
        return money(self.balance_fen, self.currency)

    @strawberry.field(description="The balance as it stood at the end of the given instant.")
    async def balance_at(self, info: Info, at: At) -> Money:
        from resolvers.validation import instant

        instant(at, "at")
        found = await info.context.visible.account_balance_at.load((self.pk, at))
        return money(shown(found, "account"), self.currency)

    @strawberry.field(description="Postings to this account, oldest effective first.")
    async def postings(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Posting]:
        return await child_connection(
            info.context.visible.posting_pages,
            self.pk,
            Posting.of,
            PageArgs.of(first, after, last, before),
        )


@strawberry.type(description="One line of a journal entry: an amount on one side of one account.")
class Posting:
    account_id: strawberry.Private[int]
    entry_id: strawberry.Private[int]
    side: EntrySide = strawberry.field(description="Debit or credit.")
    amount: Money = strawberry.field(description="Always positive.")

    @classmethod
    def of(cls, row: PostingRow) -> Posting:
        return cls(
            account_id=row.account_id,
            entry_id=row.entry_id,
            side=EntrySide(row.side),
            amount=money(row.amount_fen, row.currency),
        )

    @strawberry.field(description="The account posted to.")
    async def account(self, info: Info) -> LedgerAccount:
        row = await info.context.visible.account.load(self.account_id)
        return LedgerAccount.of(shown(row, "account"))

    @strawberry.field(description="The entry this posting belongs to.")
    async def entry(self, info: Info) -> JournalEntry:
        return JournalEntry.of(shown(await info.context.visible.entry.load(self.entry_id), "entry"))


@strawberry.type(description="A balanced, append-only journal entry of one fund.")
class JournalEntry(Node):
    pk: strawberry.Private[int]
    reverses_id: strawberry.Private[int | None]
    sequence: int = strawberry.field(
        description="Position in the fund's append-only journal, from 1, without gaps."
    )
    effective_at: datetime = strawberry.field(description="When it happened.")
    recorded_at: datetime = strawberry.field(description="When it was written.")
    memo: str = strawberry.field(description="What it records.")
    recorded_by: str = strawberry.field(description="Username of who recorded it.")
    hash: str = strawberry.field(
        description="SHA-256 over this entry's content and the previous entry's hash, hex."
    )
    previous_hash: str | None = strawberry.field(
        description="The previous entry's hash; null for the first."
    )
    reference: str | None = strawberry.field(
        description="The outside world's reference (bank or payout ref), if any."
    )

    @classmethod
    def of(cls, row: EntryRow | PostedEntry) -> JournalEntry:
        return cls(
            id=to_global_id("JournalEntry", row.id),
            pk=row.id,
            reverses_id=row.reverses_id,
            sequence=row.sequence,
            effective_at=row.effective_at,
            recorded_at=row.recorded_at,
            memo=row.memo,
            recorded_by=row.recorded_by,
            hash=row.hash,
            previous_hash=row.previous_hash,
            reference=row.reference,
        )

    @strawberry.field(description="Its postings; debits equal credits.")
    async def postings(self, info: Info) -> list[Posting]:
        return [Posting.of(p) for p in await info.context.visible.postings_by_entry.load(self.pk)]

    @strawberry.field(description="The entry this one reverses, if it is a reversal.")
    async def reverses(self, info: Info) -> JournalEntry | None:
        if self.reverses_id is None:
            return None
        row = await info.context.visible.entry.load(self.reverses_id)
        return JournalEntry.of(row) if row else None

    @strawberry.field(description="The entry that reversed this one, if any.")
    async def reversed_by(self, info: Info) -> JournalEntry | None:
        row = await info.context.visible.reversal_of.load(self.pk)
        return JournalEntry.of(row) if row else None


@strawberry.type(description="An account's debit and credit totals in a trial balance.")
class TrialBalanceLine:
    account_id: strawberry.Private[int]
    debit: Money = strawberry.field(
        description="Net debit balance (zero if the balance is a credit)."
    )
    credit: Money = strawberry.field(
        description="Net credit balance (zero if the balance is a debit)."
    )

    @strawberry.field(description="The account.")
    async def account(self, info: Info) -> LedgerAccount:
        row = await info.context.visible.account.load(self.account_id)
        return LedgerAccount.of(shown(row, "account"))


@strawberry.type(description="Every account's balance at an instant; debits equal credits.")
class TrialBalance:
    at: datetime = strawberry.field(description="The instant.")
    lines: list[TrialBalanceLine] = strawberry.field(description="One line per account.")
    total_debit: Money = strawberry.field(description="Sum of the debit column.")
    total_credit: Money = strawberry.field(description="Sum of the credit column.")
    balanced: bool = strawberry.field(description="True when the two totals are equal.")


@strawberry.type(description="The result of re-checking a fund's hash chain and balances.")
class JournalVerification:
    first_broken_id: strawberry.Private[int | None]
    ok: bool = strawberry.field(
        description="True when every hash and every stored balance checks out."
    )
    entries_checked: int = strawberry.field(description="How many entries were re-hashed.")

    @strawberry.field(description="The first entry whose hash does not match its content, if any.")
    async def first_broken_entry(self, info: Info) -> JournalEntry | None:
        if self.first_broken_id is None:
            return None
        row = await info.context.visible.entry.load(self.first_broken_id)
        return JournalEntry.of(row) if row else None
