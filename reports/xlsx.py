"""A report as an XLSX sheet ready to hand over: title rows, a bold frozen header,
column widths, real numbers and dates, and print setup (landscape, fit to one page
wide, title and header rows repeated on every page).

Written in openpyxl's write-only mode, batch by batch, so a long journal is never
held whole. Text that a spreadsheet would run as a formula is prefixed with '.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ledger.money import to_decimal
from reports.heading import Heading
from reports.statutory import DATETIME, MONEY, Column, Row

MONEY_FORMAT = "#,##0.00"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TITLE_ROWS = 3  # the title and the heading's two lines; the column header follows


def safe(value: Any) -> Any:
    """A text cell that cannot run as a formula in a spreadsheet."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _setup(ws, columns: Sequence[Column]) -> None:
    for i, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = column.width
    header_row = TITLE_ROWS + 1
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"1:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "&P / &N"


def _text(ws, value: str, **font) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    cell.font = Font(**font)
    return cell


def _cell(ws, value: Any, column: Column, style: str) -> Any:
    bold = style in ("total", "section")
    if value is None:
        return None
    if column.kind == MONEY:
        cell = WriteOnlyCell(ws, value=to_decimal(value))
        cell.number_format = MONEY_FORMAT
    elif column.kind == DATETIME and isinstance(value, datetime):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATETIME_FORMAT
    else:
        cell = WriteOnlyCell(ws, value=safe(value) if isinstance(value, str) else value)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    if bold:
        cell.font = Font(bold=True)
    return cell


async def write_xlsx(
    path: str,
    heading: Heading,
    columns: Sequence[Column],
    batches: AsyncIterable[list[Row]],
    sheet: str,
) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet[:31])
    _setup(ws, columns)
    ws.append([_text(ws, heading.title, bold=True, size=14)])
    for line in heading.lines():
        ws.append([_text(ws, line, size=10)])
    ws.append([_text(ws, c.title, bold=True) for c in columns])
    async for batch in batches:
        for row in batch:
            ws.append([_cell(ws, v, c, row.style) for v, c in zip(row.cells, columns, strict=True)])
    wb.save(path)
