"""Funds, their balances, campaigns, statements and the public report."""

from __future__ import annotations

import contextlib
import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db.models import CampaignRow, FundRow
from ledger import accounts as A
from resolvers import audit as audit_cases
from resolvers import funds as fund_cases
from resolvers.auth import Action, allowed
from resolvers.funds_access import Scope
from resolvers.ids import to_global_id
from resolvers.loaders_visible import EMPTY_PAGE
from resolvers.pagination import PageArgs
from resolvers.validation import instant
from schema.arguments import At, AtOrNow, FromDay, ToDay
from schema.context import Info
from schema.executor import NOT_PRELOADED, preloaded, preloaded_by_node
from schema.query_reports import (
    ReportFormat,
    ReportFormatArg,
    ReportKindArg,
    ReportLanguage,
    ReportLanguageArg,
    ReportLink,
    report_link,
)
from schema.relay import (
    After,
    Before,
    Connection,
    First,
    Last,
    Node,
    argument_values,
    child_connection,
    nodes_at,
    selects,
    to_connection,
)
from schema.types.common import Money, money, shown
from schema.types.ledger import JournalEntry, LedgerAccount, TrialBalance, TrialBalanceLine
from schema.types.receipts import DailyRoot, fund_roots

if TYPE_CHECKING:
    from schema.types.disbursements import Disbursement
    from schema.types.donations import Donation, DonationFilter, PublicDonation
    from schema.types.places import Community, Subdistrict

CommunityRef = Annotated["Community", strawberry.lazy("schema.types.places")]
SubdistrictRef = Annotated["Subdistrict", strawberry.lazy("schema.types.places")]
DonationRef = Annotated["Donation", strawberry.lazy("schema.types.donations")]
DonationFilterRef = Annotated["DonationFilter", strawberry.lazy("schema.types.donations")]
PublicDonationRef = Annotated["PublicDonation", strawberry.lazy("schema.types.donations")]
DisbursementRef = Annotated["Disbursement", strawberry.lazy("schema.types.disbursements")]


@strawberry.enum(description="Whether a fund belongs to a community or a subdistrict.")
class FundLevel(enum.Enum):
    COMMUNITY = strawberry.enum_value("COMMUNITY", description="A community's fund (社区基金).")
    SUBDISTRICT = strawberry.enum_value(
        "SUBDISTRICT", description="A subdistrict's fund (街道基金)."
    )


@strawberry.enum(description="Whether a fund takes new money and spending.")
class FundStatus(enum.Enum):
    OPEN = strawberry.enum_value("OPEN", description="Takes everything.")
    FROZEN = strawberry.enum_value(
        "FROZEN",
        description="Takes only what finishes business begun before the freeze: settlements, refunds, payments of approved disbursements, period close.",
    )
    CLOSED = strawberry.enum_value("CLOSED", description="Takes nothing.")


@strawberry.type(
    description="How the money in a fund is held right now. total = cashOnHand + bank + onlineClearing + inKind."
)
class FundBalances:
    total: Money = strawberry.field(
        description="Everything the fund holds: cashOnHand + bank + onlineClearing + inKind."
    )
    cash_on_hand: Money = strawberry.field(
        description="Cash collected offline and not yet deposited, counted or not (accounts 1001 + 1009.09)."
    )
    bank: Money = strawberry.field(description="Money in the host's bank account for this fund.")
    online_clearing: Money = strawberry.field(
        description="Online donations confirmed by the payment channel but not yet settled to the bank."
    )
    in_kind: Money = strawberry.field(
        description="Declared value of goods received and not yet handed out."
    )
    available: Money = strawberry.field(
        description="What may still be committed: bank + cashOnHand, less approved disbursements not yet paid. Never negative: an approval or a refund that would make it negative is INSUFFICIENT_FUNDS. Payments go out of the bank, so cash must be deposited first."
    )


def balances_of(by_code: dict[str, int], currency: str = "CNY") -> FundBalances:
    p = A.positions(by_code)
    return FundBalances(
        total=money(p.total, currency),
        cash_on_hand=money(p.cash_on_hand, currency),
        bank=money(p.bank, currency),
        online_clearing=money(p.online_clearing, currency),
        in_kind=money(p.in_kind, currency),
        available=money(p.available, currency),
    )


@strawberry.type(
    description="""A fund's activity over calendar days, on the basis of net assets (assets less
liabilities). Always: closing = opening + donationsOnline + donationsOffline + donationsInKind
- refunds - disbursements - fees - otherCosts"""
)
class FundStatement:
    from_: date = strawberry.field(name="from", description="First day (fund time zone).")
    to: date = strawberry.field(description="Last day, inclusive.")
    opening: Money = strawberry.field(description="Net assets at the start of the first day.")
    donations_online: Money = strawberry.field(
        description="Gross online donations recorded in the period."
    )
    donations_offline: Money = strawberry.field(
        description="Gross cash, charity-sale and bank-transfer donations."
    )
    donations_in_kind: Money = strawberry.field(description="Declared value of goods received.")
    refunds: Money = strawberry.field(description="Donations paid back.")
    disbursements: Money = strawberry.field(
        description="Project costs (5101), recognised at approval."
    )
    fees: Money = strawberry.field(description="Channel fees (5301).")
    other_costs: Money = strawberry.field(
        description="Management costs and cash over/short (5201, 5401); negative when cash was over."
    )
    closing: Money = strawberry.field(description="Net assets at the end of the last day.")


def statement_of(s, currency: str = "CNY") -> FundStatement:
    return FundStatement(
        from_=s.from_date,
        to=s.to_date,
        opening=money(s.opening, currency),
        donations_online=money(s.donations_online, currency),
        donations_offline=money(s.donations_offline, currency),
        donations_in_kind=money(s.donations_in_kind, currency),
        refunds=money(s.refunds, currency),
        disbursements=money(s.disbursements, currency),
        fees=money(s.fees, currency),
        other_costs=money(s.other_costs, currency),
        closing=money(s.closing, currency),
    )


async def fund_statement(
    loader, info: Info, fund_id: int, start: date, end: date, currency: str
) -> FundStatement:
    """Through `loader`: the viewer-scoped one for a Fund, the plain one for the public
    report."""
    fund_cases.check_period(start, end)
    s = await loader.load((fund_id, start, end, info.context.app.timezone))
    return statement_of(shown(s, "fund"), currency)


@strawberry.type(
    description="A community charity fund (社区慈善基金): a restricted sub-ledger of its host charity."
)
class Fund(Node):
    pk: strawberry.Private[int]
    community_id: strawberry.Private[int | None]
    subdistrict_id: strawberry.Private[int | None]
    currency: strawberry.Private[str]
    code: str = strawberry.field(description="Short unique code, e.g. ETGY-2023.")
    name: str = strawberry.field(description="Name, e.g. 儿童公园社区慈善基金.")
    level: FundLevel = strawberry.field(description="Community or subdistrict fund.")
    status: FundStatus = strawberry.field(description="Open, frozen or closed.")
    host: str = strawberry.field(
        description="The charity organisation that legally holds the fund, e.g. a city charity federation."
    )
    restricted_purpose: str | None = strawberry.field(
        description="What donations to this fund may be spent on; null for unrestricted funds."
    )
    # Set by a list that preloaded its funds' pages of donations (preload_donations).
    preloaded_donations: strawberry.Private[dict | None] = None  # node id -> Connection
    # Set by a list that preloaded its funds' balances (fund_connection).
    preloaded_balances: strawberry.Private[Any] = NOT_PRELOADED

    @classmethod
    def of(cls, row: FundRow) -> Fund:
        return cls(
            id=to_global_id("Fund", row.id),
            pk=row.id,
            community_id=row.community_id,
            subdistrict_id=row.subdistrict_id,
            currency=row.currency,
            code=row.code,
            name=row.name,
            level=FundLevel(row.level),
            status=FundStatus(row.status),
            host=row.host,
            restricted_purpose=row.restricted_purpose,
        )

    @strawberry.field(description="The community of a community fund.")
    async def community(self, info: Info) -> CommunityRef | None:
        from schema.types.places import Community

        if self.community_id is None:
            return None
        return Community.of(await info.context.loaders.community.load(self.community_id))

    @strawberry.field(description="The subdistrict of a subdistrict fund.")
    async def subdistrict(self, info: Info) -> SubdistrictRef | None:
        from schema.types.places import Subdistrict

        if self.subdistrict_id is None:
            return None
        return Subdistrict.of(await info.context.loaders.subdistrict.load(self.subdistrict_id))

    @strawberry.field(description="How the money is held right now (from stored balances).")
    @preloaded("preloaded_balances")
    def balances(self, info: Info) -> FundBalances:
        # Synchronous when the list this fund came in preloaded its balances.
        if self.preloaded_balances is not NOT_PRELOADED:
            return self.preloaded_balances
        return self._load_balances(info.context.visible.fund_balances)

    async def _load_balances(self, loader) -> FundBalances:
        return balances_of(shown(await loader.load(self.pk), "fund"), self.currency)

    @strawberry.field(description="Balances as they stood at the end of the given instant.")
    async def balances_at(self, info: Info, at: At) -> FundBalances:
        instant(at, "at")
        found = await info.context.visible.fund_balances_at.load((self.pk, at))
        return balances_of(shown(found, "fund"), self.currency)

    @strawberry.field(description="Campaigns of this fund, in creation order.")
    async def campaigns(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Campaign]:
        return await child_connection(
            info.context.visible.campaign_pages,
            self.pk,
            Campaign.of,
            PageArgs.of(first, after, last, before),
        )

    @strawberry.field(description="Donations, newest first (receivedAt, then id).")
    @preloaded_by_node("preloaded_donations")
    async def donations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: Annotated[
            DonationFilterRef | None,
            strawberry.argument(description="Only the donations that match; all by default."),
        ] = None,
    ) -> Connection[DonationRef]:
        from schema.types.donations import Donation

        with_campaigns = selects(info, "edges", "node", "campaign")
        key = _donation_page_key(first, after, last, before, filter, with_campaigns)
        connection = await child_connection(
            info.context.visible.donation_pages, self.pk, Donation.of, *key
        )
        if with_campaigns:
            await Donation.preload_campaigns(info, [edge.node for edge in connection.edges])
        return connection

    @staticmethod
    async def preload_donations(info: Info, funds: list[Fund]) -> None:
        """Read, in one batch, each fund's page of donations for the `donations` fields
        the query selects below a list of funds, as Fund.donations would read it (same
        loader, same key), so that the field answers without a resolver call per fund
        (schema/executor.preloaded_by_node). A field with a filter, or whose arguments
        are refused, is left to the resolver, which reports it at its path."""
        from schema.types.donations import Donation

        raw = info._raw_info
        if any(d.variable_definitions for d in raw.fragments.values()):
            return  # fragment arguments: the nodes' values depend on the spread
        nodes = nodes_at(raw.field_nodes, raw.fragments, ("edges", "node", "donations"))
        keys = _donation_page_keys(raw, nodes)
        if not keys or not funds:
            return
        distinct = list(dict.fromkeys(keys.values()))
        loads = [(fund.pk, *key) for key in distinct for fund in funds]
        pages = await info.context.visible.donation_pages.load_many(loads)
        by_key = dict(zip(loads, pages, strict=True))
        campaigns_for: list[Donation] = []
        for fund in funds:
            made = {key: to_connection(by_key[(fund.pk, *key)], Donation.of) for key in distinct}
            fund.preloaded_donations = {node: made[key] for node, key in keys.items()}
            for key, connection in made.items():
                if key[2]:
                    campaigns_for.extend(edge.node for edge in connection.edges)
        if campaigns_for:
            await Donation.preload_campaigns(info, campaigns_for)

    @strawberry.field(description="Disbursements, in request order.")
    async def disbursements(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[DisbursementRef]:
        from schema.types.disbursements import Disbursement

        return await child_connection(
            info.context.visible.disbursement_pages,
            self.pk,
            Disbursement.of,
            PageArgs.of(first, after, last, before),
        )

    @strawberry.field(description="The fund's ledger accounts, by code.")
    async def ledger_accounts(self, info: Info) -> list[LedgerAccount]:
        return [
            LedgerAccount.of(a) for a in await info.context.visible.accounts_by_fund.load(self.pk)
        ]

    @strawberry.field(description="The journal, by sequence.")
    async def journal_entries(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[JournalEntry]:
        return await child_connection(
            info.context.visible.entry_pages,
            self.pk,
            JournalEntry.of,
            PageArgs.of(first, after, last, before),
        )

    @strawberry.field(description="Every account's balance at an instant (now when omitted).")
    async def trial_balance(self, info: Info, at: AtOrNow = None) -> TrialBalance:
        instant(at, "at")
        tb = shown(await info.context.visible.trial_balance.load((self.pk, at)), "fund")
        return TrialBalance(
            at=tb.at,
            lines=[
                TrialBalanceLine(
                    account_id=line.account_id,
                    debit=money(line.debit_fen, self.currency),
                    credit=money(line.credit_fen, self.currency),
                )
                for line in tb.lines
            ],
            total_debit=money(tb.total_debit, self.currency),
            total_credit=money(tb.total_credit, self.currency),
            balanced=tb.balanced,
        )

    @strawberry.field(description="Activity over whole days in the fund's time zone.")
    async def statement(self, info: Info, from_: FromDay, to: ToDay) -> FundStatement:
        loader = info.context.visible.fund_statement
        return await fund_statement(loader, info, self.pk, from_, to, self.currency)

    @strawberry.field(
        description="A signed link, valid for five minutes, to download this fund's report for "
        "a period (FINANCE, ADMIN): balance sheet, statement of activities, cash flow "
        "statement, journal or trial balance, as PDF, XLSX or CSV (docs/reports.md)."
    )
    async def report(
        self,
        info: Info,
        kind: ReportKindArg,
        from_: FromDay,
        to: ToDay,
        format: ReportFormatArg = ReportFormat.PDF,
        lang: ReportLanguageArg = ReportLanguage.ZH,
    ) -> ReportLink | None:
        return await report_link(info, self.pk, kind, from_, to, format, lang)

    @strawberry.field(
        description="The audit beyond the journal (FINANCE, ADMIN): every position re-derived "
        "from the business records and compared with the ledger, each record's status with the "
        "entries it owns, guards at every instant. `ok` with no findings is a clean audit; "
        "`jinlin audit` is the same on the command line."
    )
    async def audit(self, info: Info) -> FundAudit:
        found = await audit_cases.audit_of(
            info.context.engine, await info.context.viewer(), self.pk
        )
        return FundAudit(
            ok=found.ok,
            findings=[AuditFinding(check=f.check, message=f.message) for f in found.findings],
        )


@strawberry.type(description="One disagreement the audit found.")
class AuditFinding:
    check: str = strawberry.field(
        description="Which check: position, status, owner, guard or statement line."
    )
    message: str = strawberry.field(description="What disagrees, with both figures.")


@strawberry.type(description="A fund's audit: its records against its ledger.")
class FundAudit:
    ok: bool = strawberry.field(description="True when nothing disagrees.")
    findings: list[AuditFinding] = strawberry.field(description="Every disagreement found.")


async def fund_connection(info: Info, scope: Scope, args: PageArgs) -> Connection[Fund]:
    """The funds the viewer may see; empty for a viewer who may see none (anonymous
    callers, partners), never an error that would null the parent."""
    viewer = await info.context.viewer()
    if not allowed(viewer, Action.READ_FUNDS):
        return to_connection(EMPTY_PAGE, Fund.of)
    page = await fund_cases.fund_page(info.context.engine, viewer, scope, args)
    # The rows just read are what the fund loader would read again for the fields
    # below (visibility is still decided on each row by the viewer-scoped loader).
    info.context.loaders.fund.prime_many({row.id: row for row in page.rows})
    connection = to_connection(page, Fund.of)
    funds = [edge.node for edge in connection.edges]
    # In one batch each, before the funds' fields, which then read them as attributes;
    # what fails here is left to the fields, which report it at their paths.
    if selects(info, "edges", "node", "balances"):
        with contextlib.suppress(Exception):
            found = await info.context.visible.fund_balances.load_many([f.pk for f in funds])
            for fund, by_code in zip(funds, found, strict=True):
                if by_code is not None:  # else the field refuses it
                    fund.preloaded_balances = balances_of(by_code, fund.currency)
    with contextlib.suppress(Exception):
        await Fund.preload_donations(info, funds)
    return connection


def _donation_page_key(first, after, last, before, filter, with_campaigns: bool) -> tuple:
    """The donation page loader's key after the fund id, from Fund.donations' arguments:
    what the field reads, and what a list of funds preloads for it."""
    key_filter = filter.to_query() if filter is not None else None
    return PageArgs.of(first, after, last, before), key_filter, with_campaigns


def _donation_page_keys(raw: Any, nodes: list[Any]) -> dict[int, tuple]:
    """The donation page key (PageArgs, no filter, with campaigns) of each `donations`
    node, by the node's id; nodes with a filter or refused arguments are left out. The
    nodes of one response name share the key of their first (validation made their
    arguments equal), with campaigns if any of them shows them, as the resolver's
    `selects` looks below all of them."""
    field_def = raw.schema.get_type("Fund").fields["donations"]
    groups: dict[str, list[Any]] = {}
    for node in nodes:
        groups.setdefault((node.alias or node.name).value, []).append(node)
    keys: dict[int, tuple] = {}
    for group in groups.values():
        with_campaigns = bool(nodes_at(group, raw.fragments, ("edges", "node", "campaign")))
        try:
            values = argument_values(field_def, group[0], raw)
            if values.get("filter") is not None:
                continue
            paging = (values.get(k) for k in ("first", "after", "last", "before"))
            key = _donation_page_key(*paging, None, with_campaigns)
        except Exception:  # the resolver refuses them, at the field's path
            continue
        keys.update((id(node), key) for node in group)
    return keys


@strawberry.type(description="A fundraising event of a fund, e.g. the 2023 Neighbours' Festival.")
class Campaign(Node):
    pk: strawberry.Private[int]
    fund_id: strawberry.Private[int]
    goal_fen: strawberry.Private[int | None]
    name: str = strawberry.field(description="Name, e.g. 2023邻居节.")
    starts_at: datetime = strawberry.field(description="When donations to it open.")
    ends_at: datetime | None = strawberry.field(description="When they close; null for open-ended.")

    @classmethod
    def of(cls, row: CampaignRow) -> Campaign:
        return cls(
            id=to_global_id("Campaign", row.id),
            pk=row.id,
            fund_id=row.fund_id,
            goal_fen=row.goal_fen,
            name=row.name,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
        )

    @strawberry.field(
        description="The fund it raises for, to a viewer who may read it (ADMIN, FINANCE, the fund's community staff); anyone else gets a NOT_FOUND error here, which nulls the campaign: ask publicFund instead."
    )
    async def fund(self, info: Info) -> Fund:
        return Fund.of(shown(await info.context.visible.fund.load(self.fund_id), "fund"))

    @strawberry.field(
        description="The public face of the fund it raises for (code, name, host, the public report): anyone who sees the campaign sees it."
    )
    async def public_fund(self, info: Info) -> PublicFundReport:
        return PublicFundReport.of(await info.context.loaders.fund.load(self.fund_id))

    @strawberry.field(description="The fundraising goal, if any.")
    def goal(self) -> Money | None:
        return money(self.goal_fen) if self.goal_fen is not None else None

    @strawberry.field(description="Totals so far, refunded donations left out.")
    async def progress(self, info: Info) -> CampaignProgress:
        return await campaign_progress(info, self)


@strawberry.type(description="Totals of the campaign's donations that are not refunded.")
class CampaignProgress:
    campaign: Campaign = strawberry.field(description="The campaign.")
    online: Money = strawberry.field(description="Online donations.")
    offline: Money = strawberry.field(description="Cash, charity-sale and bank-transfer donations.")
    in_kind: Money = strawberry.field(description="Declared value of goods.")
    total: Money = strawberry.field(description="All given so far: online + offline + inKind.")
    donation_count: int = strawberry.field(description="How many donations.")


async def campaign_progress(info: Info, campaign: Campaign, loaders=None) -> CampaignProgress:
    totals = await (loaders or info.context.loaders).campaign_progress.load(campaign.pk)
    online, offline, in_kind = (
        totals.get("online", 0),
        totals.get("offline", 0),
        totals.get("in_kind", 0),
    )
    return CampaignProgress(
        campaign=campaign,
        online=money(online),
        offline=money(offline),
        in_kind=money(in_kind),
        total=money(online + offline + in_kind),
        donation_count=totals.get("count", 0),
    )


@strawberry.type(
    description="What anyone may see of a fund, with donors' names masked: the fund's public face."
)
class PublicFundReport:
    pk: strawberry.Private[int]
    currency: strawberry.Private[str]
    code: str = strawberry.field(description="The fund's code.")
    name: str = strawberry.field(description="The fund's name.")
    host: str = strawberry.field(description="The charity that holds it.")

    @classmethod
    def of(cls, row: FundRow) -> PublicFundReport:
        return cls(pk=row.id, currency=row.currency, code=row.code, name=row.name, host=row.host)

    @strawberry.field(description="How the money is held right now.")
    async def balances(self, info: Info) -> FundBalances:
        loaders = info.context.public_loaders
        return balances_of(await loaders.fund_balances.load(self.pk), self.currency)

    @strawberry.field(description="Activity over whole days in the fund's time zone.")
    async def statement(self, info: Info, from_: FromDay, to: ToDay) -> FundStatement:
        loader = info.context.public_loaders.fund_statement
        return await fund_statement(loader, info, self.pk, from_, to, self.currency)

    @strawberry.field(
        description="Latest donations; donor names masked (e.g. 张*), anonymous ones shown as such."
    )
    async def recent_donations(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many, newest first: 20 by default, at most 100."),
        ] = None,
    ) -> list[PublicDonationRef]:
        from schema.types.donations import public_donations

        return await public_donations(info, self.pk, first)

    @strawberry.field(
        description="Published daily Merkle roots of the fund's journal, newest first (default 30, at most 100)."
    )
    async def roots(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many days, newest first: 30 by default."),
        ] = None,
    ) -> list[DailyRoot]:
        return await fund_roots(info, self.pk, first)
