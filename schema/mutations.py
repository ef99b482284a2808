"""Every mutation: one `input`, a payload with `errors`. A payload with errors wrote nothing.

Each resolver here is thin: it calls a use case in resolvers/ and maps the result
or the domain's refusal. Transient database conflicts (a unique key claimed by a
concurrent request, a serialization failure) re-run the whole use case, whose
idempotency check then answers as if the request had come second.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

import strawberry

from db.driver import TRANSIENT_ERRORS, is_transient
from ledger.errors import LedgerError
from resolvers import cash, disbursements, donations, funds, journal, partners, places, users
from schema.context import Info
from schema.errors import UserError, user_error
from schema.types.common import MoneyInput
from schema.types.disbursements import Disbursement
from schema.types.donations import CashCount, Donation, DonationChannel
from schema.types.funds import Campaign, Fund, FundLevel, FundStatus
from schema.types.ledger import EntrySide, JournalEntry
from schema.types.partners import Contribution, Partner, PartnerKind
from schema.types.places import Community, Subdistrict
from schema.types.reconciliation import (
    ImportStatementInput,
    ResolveStatementLineInput,
    StatementImport,
    StatementLine,
)
from schema.types.users import User

log = logging.getLogger("jinlin.mutations")
ATTEMPTS = 3


async def run(call, *args, **kwargs):
    """(result, errors) of a use case; refusals become payload errors."""
    for attempt in range(ATTEMPTS):
        try:
            return await call(*args, **kwargs), []
        except LedgerError as exc:
            return None, [user_error(exc)]
        except TRANSIENT_ERRORS as exc:
            if attempt == ATTEMPTS - 1 or not is_transient(exc):
                raise
            orig = getattr(exc, "orig", exc)
            log.info("retrying after a transient conflict: %s", type(orig).__name__)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- inputs


@strawberry.input(description="Credentials.")
class LoginInput:
    username: str = strawberry.field(description="The username.")
    password: str = strawberry.field(description="The password.")


@strawberry.input(description="A new subdistrict.")
class CreateSubdistrictInput:
    name: str = strawberry.field(description="Name, e.g. 建设路街道.")
    district: str = strawberry.field(description="The district it belongs to, e.g. 中原区.")


@strawberry.input(description="A new community and its grids.")
class CreateCommunityInput:
    subdistrict_id: strawberry.ID = strawberry.field(description="Its subdistrict.")
    name: str = strawberry.field(description="Name, e.g. 百花社区.")
    grids: list[str] | None = strawberry.field(default=None, description="Names of its grids.")


@strawberry.input(description="A partner signing with a community.")
class RegisterPartnerInput:
    name: str = strawberry.field(description="The partner's name.")
    kind: PartnerKind = strawberry.field(description="What kind of partner.")
    community_id: strawberry.ID = strawberry.field(description="The community signed with.")
    signed_on: date = strawberry.field(description="The day it was signed.")
    certificate_no: str | None = strawberry.field(default=None, description="Certificate number.")


@strawberry.input(description="Volunteer hours a partner gave.")
class RecordServiceInput:
    partner_id: strawberry.ID = strawberry.field(description="The partner.")
    hours: Decimal = strawberry.field(description="Hours, at most two decimals.")
    description: str = strawberry.field(description="What was done.")
    occurred_at: datetime | None = strawberry.field(default=None, description="When (default now).")
    idempotency_key: str = strawberry.field(
        description="Same key and input: the first result, nothing new written."
    )


@strawberry.input(description="A new fund and its ledger.")
class OpenFundInput:
    code: str = strawberry.field(description="Short unique code (letters, digits, - and _).")
    name: str = strawberry.field(description="Name.")
    level: FundLevel = strawberry.field(description="Community or subdistrict fund.")
    host: str = strawberry.field(description="The charity that holds it, e.g. 郑州市慈善总会.")
    community_id: strawberry.ID | None = strawberry.field(
        default=None, description="For a COMMUNITY fund."
    )
    subdistrict_id: strawberry.ID | None = strawberry.field(
        default=None, description="For a SUBDISTRICT fund."
    )
    restricted_purpose: str | None = strawberry.field(
        default=None, description="Purpose a restricted fund is held for."
    )


@strawberry.input(description="Freezing, reopening or closing a fund (ADMIN).")
class ChangeFundStatusInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    status: FundStatus = strawberry.field(
        description="OPEN, FROZEN or CLOSED; CLOSED is final and needs an empty fund."
    )
    reason: str = strawberry.field(description="Why, for the record.")


@strawberry.input(description="A new campaign of a fund.")
class CreateCampaignInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund.")
    name: str = strawberry.field(description="Name.")
    starts_at: datetime = strawberry.field(description="When donations open.")
    ends_at: datetime | None = strawberry.field(default=None, description="When they close.")
    goal: MoneyInput | None = strawberry.field(default=None, description="Fundraising goal.")


@strawberry.input(description="A donation to record.")
class RecordDonationInput:
    fund_id: strawberry.ID = strawberry.field(description="The fund given to.")
    campaign_id: strawberry.ID | None = strawberry.field(
        default=None, description="The campaign, if any."
    )
    channel: DonationChannel = strawberry.field(description="How it was given.")
    amount: MoneyInput = strawberry.field(description="The amount, or the declared value of goods.")
    donor_name: str | None = strawberry.field(default=None, description="The donor's name.")
    anonymous: bool | None = strawberry.field(
        default=None, description="The donor asks not to be named."
    )
    partner_id: strawberry.ID | None = strawberry.field(
        default=None, description="The partner who gave it."
    )
    external_ref: str | None = strawberry.field(
        default=None, description="The channel's transaction id (required for ONLINE)."
    )
    description: str | None = strawberry.field(
        default=None, description="What was given (required for IN_KIND)."
    )
    received_at: datetime | None = strawberry.field(default=None, description="When (default now).")
    idempotency_key: str = strawberry.field(
        description="Same key and input: the first result, nothing new written."
    )


@strawberry.input(description="A refund of a donation.")
class RefundDonationInput:
    donation_id: strawberry.ID = strawberry.field(description="The donation.")
    reason: str = strawberry.field(description="Why.")
    idempotency_key: str = strawberry.field(description="Same key and input: the first result.")


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


# ---------------------------------------------------------------- payloads


@strawberry.type(description="Result of login.")
class LoginPayload:
    token: str | None = strawberry.field(description="Bearer token for the Authorization header.")
    user: User | None = strawberry.field(description="Who signed in.")
    errors: list[UserError] = strawberry.field(description="Why it failed.")


def _payload(name: str, field: str, type_, description: str):
    cls = type(name, (), {"__annotations__": {field: type_ | None, "errors": list[UserError]}})
    return strawberry.type(cls, description=description)


CreateSubdistrictPayload = _payload(
    "CreateSubdistrictPayload", "subdistrict", Subdistrict, "Result of createSubdistrict."
)
CreateCommunityPayload = _payload(
    "CreateCommunityPayload", "community", Community, "Result of createCommunity."
)
RegisterPartnerPayload = _payload(
    "RegisterPartnerPayload", "partner", Partner, "Result of registerPartner."
)
RecordServicePayload = _payload(
    "RecordServicePayload", "contribution", Contribution, "Result of recordService."
)
ChangeFundStatusPayload = _payload(
    "ChangeFundStatusPayload", "fund", Fund, "Result of changeFundStatus."
)
OpenFundPayload = _payload("OpenFundPayload", "fund", Fund, "Result of openFund.")
CreateCampaignPayload = _payload(
    "CreateCampaignPayload", "campaign", Campaign, "Result of createCampaign."
)
RecordDonationPayload = _payload(
    "RecordDonationPayload", "donation", Donation, "Result of recordDonation."
)
RefundDonationPayload = _payload(
    "RefundDonationPayload", "donation", Donation, "Result of refundDonation."
)
DepositCashPayload = _payload(
    "DepositCashPayload", "journal_entry", JournalEntry, "Result of depositCash."
)
RecordCashCountPayload = _payload(
    "RecordCashCountPayload", "cash_count", CashCount, "Result of recordCashCount."
)
DisbursementPayload = _payload(
    "DisbursementPayload", "disbursement", Disbursement, "Result of a disbursement mutation."
)
JournalEntryPayload = _payload(
    "JournalEntryPayload", "journal_entry", JournalEntry, "Result of a journal mutation."
)
ClosePeriodPayload = _payload("ClosePeriodPayload", "fund", Fund, "Result of closePeriod.")
ImportStatementPayload = _payload(
    "ImportStatementPayload", "statement_import", StatementImport, "Result of importStatement."
)
ResolveStatementLinePayload = _payload(
    "ResolveStatementLinePayload", "line", StatementLine, "Result of resolveStatementLine."
)


def _of(convert, row):
    return convert(row) if row is not None else None


@strawberry.type(description="Everything that changes state.")
class Mutation:
    @strawberry.mutation(description="Sign in; returns a bearer token.")
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        result, errors = await run(
            users.login, info.context.engine, input.username, input.password, info.context.app.keys
        )
        if errors:
            return LoginPayload(token=None, user=None, errors=errors)
        token, row = result
        return LoginPayload(token=token, user=User.of(row), errors=[])

    @strawberry.mutation(description="Create a subdistrict (ADMIN).")
    async def create_subdistrict(
        self, info: Info, input: CreateSubdistrictInput
    ) -> CreateSubdistrictPayload:
        row, errors = await run(
            places.create_subdistrict,
            info.context.engine,
            await info.context.viewer(),
            input.name,
            input.district,
        )
        return CreateSubdistrictPayload(subdistrict=_of(Subdistrict.of, row), errors=errors)

    @strawberry.mutation(description="Create a community with its grids (ADMIN).")
    async def create_community(
        self, info: Info, input: CreateCommunityInput
    ) -> CreateCommunityPayload:
        row, errors = await run(
            places.create_community,
            info.context.engine,
            await info.context.viewer(),
            input.subdistrict_id,
            input.name,
            input.grids,
        )
        return CreateCommunityPayload(community=_of(Community.of, row), errors=errors)

    @strawberry.mutation(
        description="Register a partner's partnership with a community (ADMIN, or COMMUNITY_STAFF of that community)."
    )
    async def register_partner(
        self, info: Info, input: RegisterPartnerInput
    ) -> RegisterPartnerPayload:
        row, errors = await run(
            partners.register_partner,
            info.context.engine,
            await info.context.viewer(),
            name=input.name,
            kind=input.kind.value,
            community_id=input.community_id,
            signed_on=input.signed_on,
            certificate_no=input.certificate_no,
        )
        return RegisterPartnerPayload(partner=_of(Partner.of, row), errors=errors)

    @strawberry.mutation(description="Record a partner's volunteer hours.")
    async def record_service(self, info: Info, input: RecordServiceInput) -> RecordServicePayload:
        row, errors = await run(
            partners.record_service,
            info.context.engine,
            await info.context.viewer(),
            partner_id=input.partner_id,
            hours=input.hours,
            description=input.description,
            occurred_at=input.occurred_at,
            idempotency_key=input.idempotency_key,
        )
        return RecordServicePayload(contribution=_of(Contribution.of, row), errors=errors)

    @strawberry.mutation(description="Open a fund and its ledger accounts (ADMIN).")
    async def open_fund(self, info: Info, input: OpenFundInput) -> OpenFundPayload:
        row, errors = await run(
            funds.open_fund,
            info.context.engine,
            await info.context.viewer(),
            code=input.code,
            name=input.name,
            level=input.level.value,
            host=input.host,
            community_id=input.community_id,
            subdistrict_id=input.subdistrict_id,
            restricted_purpose=input.restricted_purpose,
        )
        return OpenFundPayload(fund=_of(Fund.of, row), errors=errors)

    @strawberry.mutation(
        description="Freeze, reopen or close a fund (ADMIN). A frozen or closed fund refuses new donations and spending."
    )
    async def change_fund_status(
        self, info: Info, input: ChangeFundStatusInput
    ) -> ChangeFundStatusPayload:
        row, errors = await run(
            funds.change_fund_status,
            info.context.engine,
            await info.context.viewer(),
            fund_id=input.fund_id,
            status=input.status.value,
            reason=input.reason,
        )
        return ChangeFundStatusPayload(fund=_of(Fund.of, row), errors=errors)

    @strawberry.mutation(description="Create a campaign of a fund.")
    async def create_campaign(
        self, info: Info, input: CreateCampaignInput
    ) -> CreateCampaignPayload:
        row, errors = await run(
            funds.create_campaign,
            info.context.engine,
            await info.context.viewer(),
            fund_id=input.fund_id,
            name=input.name,
            starts_at=input.starts_at,
            ends_at=input.ends_at,
            goal=(input.goal.amount, input.goal.currency) if input.goal else None,
        )
        return CreateCampaignPayload(campaign=_of(Campaign.of, row), errors=errors)

    @strawberry.mutation(description="Record a donation on any channel; posts it to the ledger.")
    async def record_donation(
        self, info: Info, input: RecordDonationInput
    ) -> RecordDonationPayload:
        inp = donations.DonationInput(
            fund_id=input.fund_id,
            channel=input.channel.value,
            amount=input.amount.amount,
            currency=input.amount.currency,
            idempotency_key=input.idempotency_key,
            campaign_id=input.campaign_id,
            donor_name=input.donor_name,
            anonymous=input.anonymous,
            partner_id=input.partner_id,
            external_ref=input.external_ref,
            description=input.description,
            received_at=input.received_at,
        )
        row, errors = await run(
            donations.record_donation, info.context.engine, await info.context.viewer(), inp
        )
        if row is not None and not getattr(row, "announced", False):
            await info.context.app.events.publish(row.campaign_id)
        # The use case checked that the viewer may see the fund.
        return RecordDonationPayload(donation=_of(Donation.in_visible_fund, row), errors=errors)

    @strawberry.mutation(description="Pay a donation back from where the money is now (once).")
    async def refund_donation(
        self, info: Info, input: RefundDonationInput
    ) -> RefundDonationPayload:
        row, errors = await run(
            donations.refund_donation,
            info.context.engine,
            await info.context.viewer(),
            donation_id=input.donation_id,
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        if row is not None:
            await info.context.app.events.publish(row.campaign_id)
        return RefundDonationPayload(donation=_of(Donation.in_visible_fund, row), errors=errors)

    @strawberry.mutation(description="Deposit counted cash in the bank.")
    async def deposit_cash(self, info: Info, input: DepositCashInput) -> DepositCashPayload:
        row, errors = await run(
            cash.deposit_cash,
            info.context.engine,
            await info.context.viewer(),
            fund_id=input.fund_id,
            amount=input.amount,
            bank_ref=input.bank_ref,
            idempotency_key=input.idempotency_key,
        )
        return DepositCashPayload(journal_entry=_of(JournalEntry.of, row), errors=errors)

    @strawberry.mutation(description="Record a two-person count of the uncounted cash.")
    async def record_cash_count(
        self, info: Info, input: RecordCashCountInput
    ) -> RecordCashCountPayload:
        row, errors = await run(
            cash.record_cash_count,
            info.context.engine,
            await info.context.viewer(),
            fund_id=input.fund_id,
            campaign_id=input.campaign_id,
            counted=input.counted,
            counted_by=input.counted_by,
            idempotency_key=input.idempotency_key,
        )
        return RecordCashCountPayload(cash_count=_of(CashCount.of, row), errors=errors)

    @strawberry.mutation(description="Ask to spend money from a fund.")
    async def request_disbursement(
        self, info: Info, input: RequestDisbursementInput
    ) -> DisbursementPayload:
        row, errors = await run(
            disbursements.request_disbursement,
            info.context.engine,
            await info.context.viewer(),
            fund_id=input.fund_id,
            amount=input.amount,
            payee=input.payee,
            purpose=input.purpose,
            idempotency_key=input.idempotency_key,
        )
        return DisbursementPayload(disbursement=_of(Disbursement.of, row), errors=errors)

    async def _decide(
        self, info: Info, decision: str, input: DecideDisbursementInput
    ) -> DisbursementPayload:
        row, errors = await run(
            disbursements.decide_disbursement,
            info.context.engine,
            await info.context.viewer(),
            decision,
            disbursement_id=input.disbursement_id,
            note=input.note,
            idempotency_key=input.idempotency_key,
        )
        return DisbursementPayload(disbursement=_of(Disbursement.of, row), errors=errors)

    @strawberry.mutation(
        description="Approve a request (FINANCE, not the requester); commits the money."
    )
    async def approve_disbursement(
        self, info: Info, input: DecideDisbursementInput
    ) -> DisbursementPayload:
        return await Mutation._decide(self, info, "approve", input)

    @strawberry.mutation(description="Reject a request (FINANCE).")
    async def reject_disbursement(
        self, info: Info, input: DecideDisbursementInput
    ) -> DisbursementPayload:
        return await Mutation._decide(self, info, "reject", input)

    @strawberry.mutation(description="Pay an approved disbursement from the bank (FINANCE).")
    async def pay_disbursement(
        self, info: Info, input: DecideDisbursementInput
    ) -> DisbursementPayload:
        return await Mutation._decide(self, info, "pay", input)

    @strawberry.mutation(description="Post a manual balanced entry (FINANCE).")
    async def post_journal_entry(
        self, info: Info, input: PostJournalEntryInput
    ) -> JournalEntryPayload:
        row, errors = await run(
            journal.post_journal_entry,
            info.context.engine,
            await info.context.viewer(),
            fund_id=input.fund_id,
            memo=input.memo,
            effective_at=input.effective_at,
            postings=input.postings,
            idempotency_key=input.idempotency_key,
        )
        return JournalEntryPayload(journal_entry=_of(JournalEntry.of, row), errors=errors)

    @strawberry.mutation(description="Reverse an entry with a new, opposite entry (FINANCE).")
    async def reverse_journal_entry(
        self, info: Info, input: ReverseJournalEntryInput
    ) -> JournalEntryPayload:
        row, errors = await run(
            journal.reverse_journal_entry,
            info.context.engine,
            await info.context.viewer(),
            entry_id=input.entry_id,
            reason=input.reason,
            idempotency_key=input.idempotency_key,
        )
        return JournalEntryPayload(journal_entry=_of(JournalEntry.of, row), errors=errors)

    @strawberry.mutation(description="Close a fund's books through a day (FINANCE).")
    async def close_period(self, info: Info, input: ClosePeriodInput) -> ClosePeriodPayload:
        row, errors = await run(
            journal.close_period,
            info.context.engine,
            await info.context.viewer(),
            info.context.app.timezone,
            fund_id=input.fund_id,
            through=input.through,
        )
        return ClosePeriodPayload(fund=_of(Fund.of, row), errors=errors)

    @strawberry.mutation(
        description="Import a settlement file or bank statement and match its lines (FINANCE, ADMIN); a settlement file's payout is booked as one entry."
    )
    async def import_statement(
        self, info: Info, input: ImportStatementInput
    ) -> ImportStatementPayload:
        from resolvers import reconciliation

        row, errors = await run(
            reconciliation.import_statement,
            info.context.engine,
            await info.context.viewer(),
            fund_id=input.fund_id,
            source=input.source.value,
            payout_ref=input.payout_ref,
            csv=input.csv,
            idempotency_key=input.idempotency_key,
            payout_date=input.payout_date,
            tz=info.context.app.timezone,
        )
        return ImportStatementPayload(statement_import=_of(StatementImport.of, row), errors=errors)

    @strawberry.mutation(
        description="Resolve an UNMATCHED or DISCREPANCY statement line: IGNORE or SUSPENSE (FINANCE, ADMIN)."
    )
    async def resolve_statement_line(
        self, info: Info, input: ResolveStatementLineInput
    ) -> ResolveStatementLinePayload:
        from resolvers import reconciliation

        row, errors = await run(
            reconciliation.resolve_statement_line,
            info.context.engine,
            await info.context.viewer(),
            statement_import_id=input.statement_import_id,
            line_no=input.line_no,
            resolution=input.resolution.value,
            note=input.note,
            idempotency_key=input.idempotency_key,
        )
        return ResolveStatementLinePayload(line=_of(StatementLine.of, row), errors=errors)
