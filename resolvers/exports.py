"""Exports of a fund's books for finance staff over calendar days: the journal, the
trial balance, the statutory statements (资产负债表, 业务活动表, 现金流量表) and the
plain statement, as CSV, XLSX or PDF (docs/reports.md). The rows come from
reports/documents.py; this module checks the request and writes the bytes.

A CSV is streamed batch by batch; an XLSX is written in openpyxl's write-only mode to
a temporary file that is then streamed; a PDF is built in memory. Money is Decimal
with two places (never float); text cells that a spreadsheet would run as a formula
(= + - @, tab, carriage return) are prefixed with '.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.models import FundRow
from db.uow import read_session
from ledger.money import to_decimal
from reports import documents
from reports.documents import Document
from reports.pdf import render_pdf
from reports.statutory import DATETIME, MONEY, Column, Row
from reports.xlsx import safe
from reports.xlsx import write_xlsx as write_sheet
from resolvers.auth import Action, Viewer, authorize
from resolvers.errors import invalid
from resolvers.funds import check_period

WHATS = documents.KINDS
FORMATS = ("csv", "xlsx", "pdf")
LANGS = ("en", "zh")


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

    async def document(self, engine: AsyncEngine) -> documents.Document:
        return await documents.document(
            engine, self.fund, self.what, self.start, self.end, self.tz, self.lang
        )


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


# ---------------------------------------------------------------- writers


def _csv_value(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == MONEY:
        return str(to_decimal(value))
    if column.kind == DATETIME and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return safe(value) if isinstance(value, str) else str(value)


def _csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


async def csv_stream(
    engine: AsyncEngine, req: ExportRequest, doc: Document | None = None
) -> AsyncIterator[bytes]:
    """UTF-8 with a BOM (so spreadsheets read Chinese headers right), CRLF lines: the
    column header and the rows, without the title rows of the XLSX and PDF."""
    doc = doc or await req.document(engine)
    yield ("\ufeff" + _csv_line([safe(c.title) for c in doc.columns])).encode("utf-8")
    async for batch in doc.batches:
        yield "".join(_rows_csv(batch, doc.columns)).encode("utf-8")


def _rows_csv(batch: list[Row], columns) -> list[str]:
    return [
        _csv_line([_csv_value(v, c) for v, c in zip(row.cells, columns, strict=True)])
        for row in batch
    ]


async def write_xlsx(
    engine: AsyncEngine, req: ExportRequest, path: str, doc: Document | None = None
) -> None:
    doc = doc or await req.document(engine)
    await write_sheet(path, doc.heading, doc.columns, doc.batches, sheet=doc.heading.title)


async def pdf_bytes(engine: AsyncEngine, req: ExportRequest, doc: Document | None = None) -> bytes:
    doc = doc or await req.document(engine)
    return await render_pdf(doc.heading, doc.columns, doc.batches)


async def xlsx_file(engine: AsyncEngine, req: ExportRequest, doc: Document | None = None) -> str:
    """The path of a temporary XLSX file; the caller deletes it."""
    fd, path = tempfile.mkstemp(prefix="jinlin-export-", suffix=".xlsx")
    os.close(fd)
    try:
        await write_xlsx(engine, req, path, doc)
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
