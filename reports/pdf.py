"""A report as a landscape A4 PDF (reportlab) with the CJK font embedded: the title,
编制单位 and the period above the table, 单位：元, the header row repeated on every
page, and 第 x 页 共 y 页 at the foot.

Every text cell is a Paragraph that wraps (anywhere, as Chinese text does), so a
long memo grows its row instead of being cut at the column's edge.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterable, Sequence
from datetime import datetime
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from reports.heading import Heading
from reports.labels import word
from reports.statutory import DATETIME, MONEY, Column, Row
from resolvers.receipt_pdf import cjk_font

PAGE = landscape(A4)
MARGIN = 12 * mm
GRID = colors.Color(0.6, 0.6, 0.6)
SHADE = colors.Color(0.93, 0.93, 0.93)


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100:,}.{abs(fen) % 100:02d}"


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    return {
        "cell": base,
        "num": ParagraphStyle("num", parent=base, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontSize=16, leading=22, alignment=TA_CENTER),
        "line": ParagraphStyle("line", parent=base, fontSize=9.5, leading=14),
    }


def _text(value, column: Column) -> str:
    if value is None:
        return ""
    if column.kind == MONEY:
        return yuan(value)
    if column.kind == DATETIME and isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def column_widths(columns: Sequence[Column]) -> list[float]:
    """Each column's width in points: the page's width between the margins, shared in
    proportion to the columns' spreadsheet widths."""
    width = PAGE[0] - 2 * MARGIN
    total = sum(c.width for c in columns)
    return [width * c.width / total for c in columns]


def _table(columns: Sequence[Column], rows: list[Row], styles) -> Table:
    widths = column_widths(columns)
    data = [[Paragraph(escape(c.title), styles["head"]) for c in columns]]
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for i, row in enumerate(rows, start=1):
        data.append(
            [
                Paragraph(escape(_text(v, c)), styles["num" if c.kind == MONEY else "cell"])
                for v, c in zip(row.cells, columns, strict=True)
            ]
        )
        if row.style in ("total", "section"):
            commands.append(("BACKGROUND", (0, i), (-1, i), SHADE))
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(commands))
    return table


def _numbered(heading: Heading, font: str):
    """A canvas that knows the page count when it writes each page's foot."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            for state in self._pages:
                self.__dict__.update(state)
                self._foot(len(self._pages))
                super().showPage()
            super().save()

        def _foot(self, pages: int) -> None:
            self.setFont(font, 8)
            text = word("page", heading.lang).format(page=self._pageNumber, pages=pages)
            self.drawCentredString(PAGE[0] / 2, 7 * mm, text)
            self.drawString(MARGIN, 7 * mm, f"{heading.title} · {heading.fund_name}")
            self.drawRightString(PAGE[0] - MARGIN, 7 * mm, word("unit", heading.lang))

    return NumberedCanvas


async def render_pdf(
    heading: Heading, columns: Sequence[Column], batches: AsyncIterable[list[Row]]
) -> bytes:
    font = cjk_font()
    styles = _styles(font)
    rows: list[Row] = []
    async for batch in batches:
        rows.extend(batch)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=14 * mm,
        title=f"{heading.title} {heading.fund_code} {heading.start}–{heading.end}",
        author=heading.host,
    )
    story = [
        Paragraph(escape(heading.title), styles["title"]),
        *(Paragraph(escape(line), styles["line"]) for line in heading.lines()),
        Spacer(1, 3 * mm),
        _table(columns, rows, styles),
    ]
    doc.build(story, canvasmaker=_numbered(heading, font))
    return buffer.getvalue()
