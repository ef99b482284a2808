"""Exports of a fund's books for finance staff: the journal, the statement and the trial
balance over calendar days, as CSV or XLSX (docs/reconciliation.md).

Rows are read in batches and written as they come: a CSV is streamed batch by batch,
an XLSX is written in openpyxl's write-only mode to a temporary file that is then
streamed. Money is Decimal with two places (never float); text cells that a
spreadsheet would run as a formula (= + - @, tab, carriage return) are prefixed with '.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import FundRow
from db.uow import read_session
from ledger import reports
from ledger.money import to_decimal
from ledger.tables import AccountRow, EntryRow, PostingRow
from resolvers.auth import Action, Viewer, authorize
from resolvers.errors import invalid
from resolvers.funds import check_period

WHATS = ("journal", "statement", "trial-balance")
FORMATS = ("csv", "xlsx")
LANGS = ("en", "zh")
BATCH = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

HEADERS: dict[str, dict[str, list[str]]] = {
    "journal": {
        "en": [
            "sequence",
            "effective at",
            "kind",
            "reference",
            "memo",
            "account",
            "account name",
            "debit",
            "credit",
            "recorded by",
        ],
        "zh": [
            "凭证号",
            "日期",
            "类型",
            "参考号",
            "摘要",
            "科目代码",
            "科目名称",
            "借方",
            "贷方",
            "记账人",
        ],
    },
    "statement": {"en": ["item", "amount"], "zh": ["项目", "金额"]},
    "trial-balance": {
        "en": [
            "account",
            "account name",
            "opening debit",
            "opening credit",
            "period debit",
            "period credit",
            "closing debit",
            "closing credit",
        ],
        "zh": [
            "科目代码",
            "科目名称",
            "期初借方",
            "期初贷方",
            "本期借方",
            "本期贷方",
            "期末借方",
            "期末贷方",
        ],
    },
}
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
TOTAL = {"en": "total", "zh": "合计"}


@dataclass(frozen=True)
class ExportRequest:
    fund: FundRow
    what: str
    start: date
    end: date
    lang: str = "en"
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    @property
    def filename(self) -> str:
        return f"{self.fund.code}-{self.what}-{self.start}-{self.end}"

    @property
    def headers(self) -> list[str]:
        return HEADERS[self.what][self.lang]


def check_request(what: str, fmt: str, start: date, end: date, lang: str) -> None:
    if what not in WHATS:
        raise invalid(f"what must be one of {', '.join(WHATS)}", "what")
    if fmt not in FORMATS:
        raise invalid(f"format must be one of {', '.join(FORMATS)}", "format")
    if lang not in LANGS:
        raise invalid("lang must be en or zh", "lang")
    check_period(start, end)


async def fund_by_code(engine: AsyncEngine, viewer: Viewer | None, code: str) -> FundRow | None:
    authorize(viewer, Action.RECONCILE)
    async with read_session(engine) as session:
        return await session.scalar(select(FundRow).where(FundRow.code == code.strip().upper()))


def safe(value: Any) -> Any:
    """A text cell that cannot run as a formula in a spreadsheet."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _money(fen: int | None) -> Decimal | None:
    return None if fen is None else to_decimal(fen)


def _bounds(req: ExportRequest) -> tuple[datetime, datetime]:
    start = datetime.combine(req.start, time(0), tzinfo=req.tz)
    end = datetime.combine(req.end + timedelta(days=1), time(0), tzinfo=req.tz)
    return start, end


async def rows(engine: AsyncEngine, req: ExportRequest) -> AsyncIterator[list[list[Any]]]:
    """Batches of rows (without the header), as typed values."""
    if req.what == "journal":
        async for batch in _journal(engine, req):
            yield batch
    elif req.what == "statement":
        async with read_session(engine) as session:
            s = await reports.statement(session, req.fund.id, req.start, req.end, req.tz)
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
        yield [
            [item, to_decimal(fen)]
            for item, fen in zip(STATEMENT_ITEMS[req.lang], amounts, strict=True)
        ]
    else:
        yield await _trial_balance(engine, req)


async def _journal(engine: AsyncEngine, req: ExportRequest) -> AsyncIterator[list[list[Any]]]:
    start, end = _bounds(req)
    last: tuple[int, int] = (0, 0)
    while True:
        async with read_session(engine) as session:
            result = await session.execute(
                select(
                    EntryRow.sequence,
                    EntryRow.effective_at,
                    EntryRow.kind,
                    EntryRow.reference,
                    EntryRow.memo,
                    AccountRow.code,
                    AccountRow.name,
                    PostingRow.side,
                    PostingRow.amount_fen,
                    EntryRow.recorded_by,
                    PostingRow.id,
                )
                .select_from(PostingRow)
                .join(EntryRow, EntryRow.id == PostingRow.entry_id)
                .join(AccountRow, AccountRow.id == PostingRow.account_id)
                .where(
                    EntryRow.fund_id == req.fund.id,
                    EntryRow.effective_at >= start,
                    EntryRow.effective_at < end,
                    or_(
                        EntryRow.sequence > last[0],
                        and_(EntryRow.sequence == last[0], PostingRow.id > last[1]),
                    ),
                )
                .order_by(EntryRow.sequence, PostingRow.id)
                .limit(BATCH)
            )
            fetched = result.all()
        if not fetched:
            return
        yield [
            [
                seq,
                at.astimezone(req.tz).strftime("%Y-%m-%d %H:%M:%S"),
                kind,
                ref,
                memo,
                code,
                name,
                to_decimal(amount) if side == "DEBIT" else None,
                to_decimal(amount) if side == "CREDIT" else None,
                by,
            ]
            for seq, at, kind, ref, memo, code, name, side, amount, by, _ in fetched
        ]
        last = (fetched[-1][0], fetched[-1][-1])
        if len(fetched) < BATCH:
            return


async def _trial_balance(engine: AsyncEngine, req: ExportRequest) -> list[list[Any]]:
    start, end = _bounds(req)
    tick = timedelta(microseconds=1)
    async with read_session(engine) as session:
        opening = (await reports.balances_at(session, [req.fund.id], start - tick))[req.fund.id]
        closing = (await reports.balances_at(session, [req.fund.id], end - tick))[req.fund.id]
        accounts = (
            await session.execute(
                select(AccountRow.id, AccountRow.code, AccountRow.name, AccountRow.normal_side)
                .where(AccountRow.fund_id == req.fund.id)
                .order_by(AccountRow.code)
            )
        ).all()
        moves = await session.execute(
            select(PostingRow.account_id, PostingRow.side, func.sum(PostingRow.amount_fen))
            .where(
                PostingRow.account_id.in_([a[0] for a in accounts]),
                PostingRow.effective_at >= start,
                PostingRow.effective_at < end,
            )
            .group_by(PostingRow.account_id, PostingRow.side)
        )
        moved = {(account_id, side): int(total) for account_id, side, total in moves}

    def columns(signed: int, normal_side: str) -> tuple[int, int]:
        debit = signed if normal_side == "DEBIT" else -signed
        return max(debit, 0), max(-debit, 0)

    out: list[list[Any]] = []
    totals = [0] * 6
    for account_id, code, name, normal_side in accounts:
        values = [
            *columns(opening.get(code, 0), normal_side),
            moved.get((account_id, "DEBIT"), 0),
            moved.get((account_id, "CREDIT"), 0),
            *columns(closing.get(code, 0), normal_side),
        ]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        out.append([code, name, *(to_decimal(v) for v in values)])
    out.append([TOTAL[req.lang], "", *(to_decimal(v) for v in totals)])
    return out


# ---------------------------------------------------------------- writers


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(
        ["" if v is None else safe(v) if isinstance(v, str) else str(v) for v in values]
    )
    return buffer.getvalue()


async def csv_stream(engine: AsyncEngine, req: ExportRequest) -> AsyncIterator[bytes]:
    """UTF-8 with a BOM (so spreadsheets read Chinese headers right), CRLF lines."""
    yield ("\ufeff" + _csv_line(req.headers)).encode("utf-8")
    async for batch in rows(engine, req):
        yield "".join(_csv_line(row) for row in batch).encode("utf-8")


async def write_xlsx(engine: AsyncEngine, req: ExportRequest, path: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=req.what)
    header = []
    for name in req.headers:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    async for batch in rows(engine, req):
        for row in batch:
            cells = []
            for value in row:
                if isinstance(value, Decimal):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = "#,##0.00"
                    cells.append(cell)
                else:
                    cells.append(safe(value))
            ws.append(cells)
    wb.save(path)


async def xlsx_file(engine: AsyncEngine, req: ExportRequest) -> str:
    """The path of a temporary XLSX file; the caller deletes it."""
    fd, path = tempfile.mkstemp(prefix="jinlin-export-", suffix=".xlsx")
    os.close(fd)
    try:
        await write_xlsx(engine, req, path)
    except BaseException:
        os.unlink(path)
        raise
    return path


async def file_stream(path: str, chunk: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A file's bytes, then the file is removed."""
    try:
        async with await anyio.open_file(path, "rb") as f:
            while data := await f.read(chunk):
                yield data
    finally:
        os.unlink(path)
