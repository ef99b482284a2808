"""The commands write use cases take: frozen values holding database keys, amounts
and plain strings, never Relay global IDs or GraphQL inputs (schema/mutations/ decodes
those). A key that named nothing of its type arrives as ids.NO_ROW, which no row has,
so the use case answers NOT_FOUND in its usual order, after the viewer's checks.

Amounts are `Amount`: the client's text as it came (a Decimal from the project's own
callers), read by ledger.money so that a malformed one is refused naming its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

Amount = str | Decimal


@dataclass(frozen=True, slots=True)
class Money:
    amount: Amount
    currency: str


# ---------------------------------------------------------------- places, partners, users


@dataclass(frozen=True, slots=True)
class CreateSubdistrict:
    name: str
    district: str


@dataclass(frozen=True, slots=True)
class CreateCommunity:
    subdistrict_id: int
    name: str
    grids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RegisterPartner:
    name: str
    kind: str
    community_id: int
    signed_on: date
    certificate_no: str | None = None


@dataclass(frozen=True, slots=True)
class RecordService:
    partner_id: int
    hours: Amount
    description: str
    idempotency_key: str
    occurred_at: datetime | None = None
    campaign_id: int | None = None


@dataclass(frozen=True, slots=True)
class CreateUser:
    username: str
    password: str
    roles: tuple[str, ...]
    community_id: int | None = None
    partner_id: int | None = None


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    password: str


# ---------------------------------------------------------------- funds


@dataclass(frozen=True, slots=True)
class OpenFund:
    code: str
    name: str
    level: str
    host: str
    community_id: int | None = None
    subdistrict_id: int | None = None
    restricted_purpose: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeFundStatus:
    fund_id: int
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class CreateCampaign:
    fund_id: int
    name: str
    starts_at: datetime
    ends_at: datetime | None = None
    goal: Money | None = None


# ---------------------------------------------------------------- money


@dataclass(frozen=True, slots=True)
class RecordDonation:
    fund_id: int
    channel: str
    amount: Amount
    currency: str
    idempotency_key: str
    campaign_id: int | None = None
    donor_name: str | None = None
    anonymous: bool | None = None
    partner_id: int | None = None
    external_ref: str | None = None
    description: str | None = None
    received_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RefundDonation:
    donation_id: int
    reason: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class RecordCashCount:
    fund_id: int
    counted: Money
    counted_by: tuple[str, ...]
    idempotency_key: str
    campaign_id: int | None = None


@dataclass(frozen=True, slots=True)
class DepositCash:
    fund_id: int
    amount: Money
    idempotency_key: str
    bank_ref: str | None = None


@dataclass(frozen=True, slots=True)
class RequestDisbursement:
    fund_id: int
    amount: Money
    payee: str
    purpose: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class DecideDisbursement:
    decision: str  # approve, reject or pay
    disbursement_id: int
    idempotency_key: str
    note: str | None = None


# ---------------------------------------------------------------- journal


@dataclass(frozen=True, slots=True)
class PostingLine:
    account_code: str
    side: str  # DEBIT or CREDIT
    amount: Money


@dataclass(frozen=True, slots=True)
class PostJournalEntry:
    fund_id: int
    memo: str
    postings: tuple[PostingLine, ...]
    idempotency_key: str
    effective_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ReverseJournalEntry:
    entry_id: int
    reason: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class ClosePeriod:
    fund_id: int
    through: date


# ---------------------------------------------------------------- reconciliation


@dataclass(frozen=True, slots=True)
class ImportStatement:
    fund_id: int
    source: str
    csv: str | bytes
    idempotency_key: str
    payout_ref: str | None = None
    payout_date: date | None = None


@dataclass(frozen=True, slots=True)
class ResolveStatementLine:
    statement_import_id: int
    line_no: int
    resolution: str
    idempotency_key: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ReopenStatementLine:
    statement_import_id: int
    line_no: int
    reason: str
    idempotency_key: str
