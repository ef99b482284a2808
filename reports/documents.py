"""One report of one fund over one period, ready for any writer: its heading, its
columns and its rows in batches. The figures are read once, here, and every format
(CSV, XLSX, PDF) renders the same rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import FundRow
from db.types import utcnow
from db.uow import read_session
from ledger import reports
from reports import journal, statutory
from reports.figures import read_figures
from reports.heading import Heading
from reports.labels import word
from reports.statutory import MONEY, TEXT, Column, Row, Table

KINDS = ("journal", "trial-balance", "balance-sheet", "activities", "cash-flow", "statement")
STATEMENT_ITEMS = {
    "en": [
        "opening net assets",
        "donations online",
        "donations offline",
        "donations in kind",
        "refunds",
        "disbursements",
        "fees",
        "other costs",
        "closing net assets",
    ],
    "zh": [
        "期初净资产",
        "线上捐赠",
        "线下捐赠",
        "物资捐赠",
        "退款",
        "项目支出",
        "渠道费用",
        "其他费用",
        "期末净资产",
    ],
}


@dataclass(frozen=True)
class Document:
    heading: Heading
    columns: tuple[Column, ...]
    batches: AsyncIterator[list[Row]]


async def _once(rows: list[Row]) -> AsyncIterator[list[Row]]:
    yield rows


def statement_table(s: reports.Statement, lang: str) -> Table:
    amounts = [
        s.opening,
        s.donations_online,
        s.donations_offline,
        s.donations_in_kind,
        s.refunds,
        s.disbursements,
        s.fees,
        s.other_costs,
        s.closing,
    ]
    rows = [Row((item, fen)) for item, fen in zip(STATEMENT_ITEMS[lang], amounts, strict=True)]
    columns = (Column(word("item", lang), TEXT, 30), Column(word("amount", lang), MONEY, 18))
    return Table("statement", word("statement", lang), columns, rows)


async def build_table(
    engine: AsyncEngine, fund_id: int, what: str, start: date, end: date, tz: ZoneInfo, lang: str
) -> Table:
    """A statement-like report (every kind but the journal) as one table."""
    async with read_session(engine) as session:
        if what == "statement":
            return statement_table(await reports.statement(session, fund_id, start, end, tz), lang)
        figures = await read_figures(session, fund_id, start, end, tz)
    return statutory.BUILDERS[what](figures, lang)


async def document(
    engine: AsyncEngine,
    fund: FundRow,
    what: str,
    start: date,
    end: date,
    tz: ZoneInfo,
    lang: str,
    now: datetime | None = None,
) -> Document:
    heading = Heading(
        title=word(what, lang),
        host=fund.host,
        fund_name=fund.name,
        fund_code=fund.code,
        start=start,
        end=end,
        generated_at=(now or utcnow()).astimezone(tz),
        lang=lang,
    )
    if what == "journal":
        rows = journal.journal_rows(engine, fund.id, start, end, tz, lang)
        return Document(heading, journal.columns(lang), rows)
    table = await build_table(engine, fund.id, what, start, end, tz, lang)
    return Document(heading, table.columns, _once(table.rows))
