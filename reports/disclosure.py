"""The quarterly public disclosure (慈善中国-style): income, spending and what is left
(收入, 支出, 结余) for each campaign of a fund over a period.

Income by campaign is the income accounts' postings of the entries a donation owns
(its record, its refund, its void), grouped by the donation's campaign: net of refunds
and voids. Spending is not tied to campaigns in the ledger (a disbursement belongs to
the fund), so it is one row of its own, as are gifts to no campaign and any other
income. The totals equal the ledger's statement of the period, to the fen: income is
donations less refunds, spending is disbursements, fees and other costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CampaignRow, DonationRow
from ledger import reports
from ledger.tables import AccountRow, PostingRow
from reports.figures import period_bounds
from reports.statutory import MONEY, TEXT, Column, Row, Table


@dataclass(frozen=True)
class DisclosureRow:
    project: str  # the campaign's name, or a label (zh) for the rows of the fund itself
    campaign_id: int | None
    income: int
    spending: int

    @property
    def balance(self) -> int:
        return self.income - self.spending


@dataclass(frozen=True)
class Disclosure:
    start: date
    end: date
    rows: list[DisclosureRow]

    @property
    def income(self) -> int:
        return sum(r.income for r in self.rows)

    @property
    def spending(self) -> int:
        return sum(r.spending for r in self.rows)

    @property
    def balance(self) -> int:
        return self.income - self.spending


NO_CAMPAIGN = "未指定活动的捐赠及其他收入"
FUND_SPENDING = "基金统筹支出（项目支出、渠道手续费、其他费用）"


async def disclosure(
    session: AsyncSession, fund_id: int, start: date, end: date, tz: ZoneInfo
) -> Disclosure:
    begin, after = period_bounds(start, end, tz)
    statement = await reports.statement(session, fund_id, start, end, tz)
    by_campaign = dict(
        (
            await session.execute(
                select(DonationRow.campaign_id, func.sum(PostingRow.normal_delta_fen))
                .select_from(PostingRow)
                .join(AccountRow, AccountRow.id == PostingRow.account_id)
                .join(
                    DonationRow,
                    or_(
                        PostingRow.entry_id == DonationRow.entry_id,
                        PostingRow.entry_id == DonationRow.refund_entry_id,
                        PostingRow.entry_id == DonationRow.void_entry_id,
                    ),
                )
                .where(
                    AccountRow.fund_id == fund_id,
                    AccountRow.type == "INCOME",
                    DonationRow.fund_id == fund_id,
                    DonationRow.campaign_id.is_not(None),
                    PostingRow.effective_at >= begin,
                    PostingRow.effective_at < after,
                )
                .group_by(DonationRow.campaign_id)
            )
        ).all()
    )
    campaigns = (
        await session.execute(
            select(CampaignRow.id, CampaignRow.name)
            .where(
                CampaignRow.fund_id == fund_id,
                or_(CampaignRow.id.in_(list(by_campaign)), _running(begin, after)),
            )
            .order_by(CampaignRow.starts_at, CampaignRow.id)
        )
    ).all()
    rows = [DisclosureRow(name, pk, int(by_campaign.get(pk, 0)), 0) for pk, name in campaigns]
    income = statement.donations - statement.refunds
    spending = statement.disbursements + statement.fees + statement.other_costs
    rows.append(DisclosureRow(NO_CAMPAIGN, None, income - sum(r.income for r in rows), 0))
    rows.append(DisclosureRow(FUND_SPENDING, None, 0, spending))
    return Disclosure(start, end, rows)


def _running(begin, after):
    """Campaigns running at some time in the period, with or without gifts in it."""
    return (CampaignRow.starts_at < after) & (
        CampaignRow.ends_at.is_(None) | (CampaignRow.ends_at >= begin)
    )


def quarter_of(day: date) -> tuple[date, date]:
    """The calendar quarter holding `day`, as (first day, last day)."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    after = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return date(day.year, first_month, 1), after - timedelta(days=1)


def disclosure_table(d: Disclosure) -> Table:
    """The table as published (in Chinese, as the page and 慈善中国 show it)."""
    rows = [Row((r.project, r.income, r.spending, r.balance)) for r in d.rows]
    rows.append(Row(("合计", d.income, d.spending, d.balance), "total"))
    columns = (
        Column("募捐活动 / 项目", TEXT, 44),
        Column("收入", MONEY, 16),
        Column("支出", MONEY, 16),
        Column("结余", MONEY, 16),
    )
    return Table("disclosure", "募捐活动收支公示", columns, rows)
