"""Query fields for reports, merged into Query (schema/__init__.py):

- fundReport (FINANCE, ADMIN): a short-lived signed link to download one of a fund's
  reports (resolvers/exports_http.py serves it). Meant to become Fund.report(kind,
  from, to) once schema/types/ settles; this top-level field can then stay as an alias.
- fundDisclosure (public): income, spending and balance by campaign over a period,
  the table the /funds/{code} page shows and /exports/{code}/disclosure.xlsx holds.
"""

from __future__ import annotations

import enum
import os
from datetime import date, datetime
from typing import Annotated

import strawberry

from db.models import FundRow
from db.uow import read_session
from reports import disclosure as public
from reports.links import LinkFile, sign_link
from resolvers.auth import Action, authorize
from resolvers.funds import check_period, public_fund
from resolvers.ids import decode_id, to_global_id
from schema.arguments import FromDay, FromDayOrQuarter, FundCode, FundId, ToDay, ToDayOrQuarter
from schema.context import Info
from schema.types.common import Money, money


@strawberry.enum(description="A report an accountant signs.")
class ReportKind(enum.Enum):
    JOURNAL = strawberry.enum_value(
        "journal",
        description="The journal: every entry of the period with its postings (记账凭证序时簿).",
    )
    TRIAL_BALANCE = strawberry.enum_value(
        "trial-balance",
        description="Opening balance, movements and closing balance of every account (科目余额表).",
    )
    BALANCE_SHEET = strawberry.enum_value(
        "balance-sheet", description="The balance sheet at the period's end (资产负债表)."
    )
    ACTIVITIES = strawberry.enum_value(
        "activities", description="The statement of activities over the period (业务活动表)."
    )
    CASH_FLOW = strawberry.enum_value(
        "cash-flow", description="The cash flow statement over the period (现金流量表)."
    )


@strawberry.enum(description="A report's file format.")
class ReportFormat(enum.Enum):
    PDF = strawberry.enum_value("pdf", description="PDF, to print and sign.")
    XLSX = strawberry.enum_value("xlsx", description="Excel workbook.")
    CSV = strawberry.enum_value("csv", description="CSV, UTF-8.")


@strawberry.enum(description="A report's language.")
class ReportLanguage(enum.Enum):
    ZH = strawberry.enum_value("zh", description="Chinese.")
    EN = strawberry.enum_value("en", description="English.")


ReportKindArg = Annotated[ReportKind, strawberry.argument(description="Which report.")]
ReportFormatArg = Annotated[
    ReportFormat, strawberry.argument(description="The file's format; PDF by default.")
]
ReportLanguageArg = Annotated[
    ReportLanguage, strawberry.argument(description="The report's language; Chinese by default.")
]


@strawberry.type(description="Where to download a report, without an Authorization header.")
class ReportLink:
    url: str = strawberry.field(
        description="The file's address: absolute when JINLIN_PUBLIC_URL is set, else a path on this server."
    )
    expires_at: datetime = strawberry.field(description="The link works until then.")


@strawberry.type(description="One line of the public disclosure.")
class DisclosureLine:
    project: str = strawberry.field(description="The campaign's name, or what the line holds.")
    campaign_id: strawberry.ID | None = strawberry.field(
        description="The campaign, for a campaign's line."
    )
    income: Money = strawberry.field(description="收入: gifts less refunds and voids.")
    spending: Money = strawberry.field(description="支出.")
    balance: Money = strawberry.field(description="结余: income less spending.")


@strawberry.type(description="Income, spending and balance by campaign over a period (public).")
class FundDisclosure:
    code: str = strawberry.field(description="The fund's code.")
    from_: date = strawberry.field(name="from", description="First day of the period.")
    to: date = strawberry.field(description="Last day of the period, inclusive.")
    lines: list[DisclosureLine] = strawberry.field(
        description="One line per campaign with gifts or running in the period, then gifts outside any campaign, then the fund's spending."
    )
    income: Money = strawberry.field(description="收入 of all lines.")
    spending: Money = strawberry.field(description="支出 of all lines.")
    balance: Money = strawberry.field(description="结余 of all lines: income less spending.")


def _disclosure_of(fund: FundRow, d: public.Disclosure) -> FundDisclosure:
    c = fund.currency
    return FundDisclosure(
        code=fund.code,
        from_=d.start,
        to=d.end,
        lines=[
            DisclosureLine(
                project=r.project,
                campaign_id=to_global_id("Campaign", r.campaign_id) if r.campaign_id else None,
                income=money(r.income, c),
                spending=money(r.spending, c),
                balance=money(r.balance, c),
            )
            for r in d.rows
        ],
        income=money(d.income, c),
        spending=money(d.spending, c),
        balance=money(d.balance, c),
    )


async def report_link(
    info: Info,
    fund_pk: int,
    kind: ReportKind,
    from_: date,
    to: date,
    format: ReportFormat,
    lang: ReportLanguage,
) -> ReportLink | None:
    """A five-minute link signed for the viewer (finance staff) to one report file."""
    viewer = await info.context.viewer()
    authorize(viewer, Action.RECONCILE)
    check_period(from_, to)
    async with read_session(info.context.engine) as session:
        fund = await session.get(FundRow, fund_pk)
    if fund is None:
        return None
    user = await info.context.loaders.user.load(viewer.user_id)
    file = LinkFile(fund.code, kind.value, format.value, from_, to, lang.value)
    link = sign_link(file, user.id, user.token_version or 0, info.context.app.keys.secret)
    base = os.environ.get("JINLIN_PUBLIC_URL", "").strip().rstrip("/")
    return ReportLink(url=base + link.url, expires_at=link.expires_at)


@strawberry.type
class ReportQueries:
    @strawberry.field(
        description="A signed link, valid for five minutes, to download a fund's report for a period (FINANCE, ADMIN); the same as Fund.report."
    )
    async def fund_report(
        self,
        info: Info,
        fund_id: FundId,
        kind: ReportKindArg,
        from_: FromDay,
        to: ToDay,
        format: ReportFormatArg = ReportFormat.PDF,
        lang: ReportLanguageArg = ReportLanguage.ZH,
    ) -> ReportLink | None:
        pk = decode_id(fund_id, "Fund", field="fundId")
        return await report_link(info, pk, kind, from_, to, format, lang)

    @strawberry.field(
        description="Income, spending and balance by campaign (收入, 支出, 结余) over a period, by default the current quarter (public)."
    )
    async def fund_disclosure(
        self,
        info: Info,
        code: FundCode,
        from_: FromDayOrQuarter = None,
        to: ToDayOrQuarter = None,
    ) -> FundDisclosure | None:
        tz = info.context.app.timezone
        start, end = public.quarter_of(datetime.now(tz).date())
        start, end = from_ or start, to or end
        check_period(start, end)
        fund = await public_fund(info.context.read_engine, code)
        if fund is None:
            return None
        async with read_session(info.context.read_engine) as session:
            d = await public.disclosure(session, fund.id, start, end, tz)
        return _disclosure_of(fund, d)
