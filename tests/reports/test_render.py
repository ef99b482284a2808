"""The rendered files: XLSX cell types, widths, frozen header, print setup and Chinese
labels; PDF pages rendered to PNG (pdftoppm) and read back (pdftotext): every label
and figure present, page numbers, the CJK font embedded, and no cell's text cut."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from reports.journal import columns as journal_columns
from reports.labels import KINDS
from reports.pdf import MARGIN, PAGE, column_widths
from resolvers import exports
from tests.reports.conftest import (
    END,
    EXPECTED,
    HISTORY,
    LONG_MEMO,
    PAYEE,
    PURPOSE,
    START,
    TZ,
)

E = EXPECTED
POPPLER = all(shutil.which(tool) for tool in ("pdftoppm", "pdftotext", "pdfinfo", "pdffonts"))
needs_poppler = pytest.mark.skipif(
    not POPPLER, reason="poppler-utils is missing (bash scripts/browser-deps.sh)"
)


def yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}"


def fen(value) -> int:
    return round(value * 100)


async def xlsx(engine, book, what: str, tmp_path: Path, lang: str = "zh"):
    path = tmp_path / f"{what}.xlsx"
    req = exports.ExportRequest(book.fund, what, START, END, lang, TZ)
    await exports.write_xlsx(engine, req, str(path))
    return load_workbook(path).active


async def pdf(engine, book, what: str, tmp_path: Path, lang: str = "zh") -> Path:
    path = tmp_path / f"{what}.pdf"
    req = exports.ExportRequest(book.fund, what, START, END, lang, TZ)
    path.write_bytes(await exports.pdf_bytes(engine, req))
    return path


def run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def pages_of(path: Path) -> int:
    return int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", str(path)))[1])


# ---------------------------------------------------------------- XLSX


def march_postings() -> int:
    """Postings dated in March: the entries', and the seven of the close through
    15 March (three income and three expense accounts, and net assets)."""
    return sum(len(p) for when, _, _, p in HISTORY if p and when.month == 3) + 7


async def test_journal_xlsx_is_ready_to_hand_over(engine, book, tmp_path):
    ws = await xlsx(engine, book, "journal", tmp_path)
    rows = list(ws.iter_rows())
    assert rows[0][0].value == "记账凭证序时簿"
    assert "编制单位：郑州市慈善总会" in rows[1][0].value
    assert f"儿童公园社区慈善基金（{book.fund.code}）" in rows[1][0].value
    assert "期间：2025-03-01 至 2025-03-31" in rows[2][0].value
    assert "生成时间：" in rows[2][0].value and "单位：元" in rows[2][0].value
    assert [c.value for c in rows[3]] == [c.title for c in journal_columns("zh")]
    assert ws.freeze_panes == "A5"
    assert ws.print_title_rows == "$1:$4"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    widths = {c: ws.column_dimensions[c].width for c in "ABCDEFGHIJ"}
    assert widths["E"] == max(widths.values())  # the memo
    assert min(widths.values()) >= 8

    body = rows[4:]
    assert len(body) == march_postings()
    first = body[0]
    assert first[1].value == datetime(2025, 3, 2, 10, 0) and first[1].is_date
    assert "yyyy" in first[1].number_format
    assert first[7].data_type == "n" and fen(first[7].value) == 50000
    assert first[7].number_format == "#,##0.00"
    kinds = {r[2].value for r in body}
    assert kinds <= set(KINDS.values()) and {"捐赠", "期末结转", "渠道结算"} <= kinds
    memos = [r[4].value for r in body]
    assert "线上捐赠（参考号 WX-1）" in memos
    assert "现金清点（清点人：王芳, 李强）" in memos
    assert f"支出申请 1 已批准：{PAYEE}，{PURPOSE}" in memos
    assert "期末结转（截至 2025-03-15）" in memos
    assert LONG_MEMO in memos  # typed by a person: kept as written
    assert "'=托管机构管理费" in memos  # never a formula
    english = re.compile(r"donation|settlement|cash count|disbursement|Period close")
    assert not [m for m in memos if english.search(m)]
    assert {r[6].value for r in body if r[5].value == "1002"} == {"银行存款"}


async def test_statement_xlsx_figures_are_numbers(engine, book, tmp_path):
    ws = await xlsx(engine, book, "balance-sheet", tmp_path)
    assert ws["A1"].value == "资产负债表"
    assert [c.value for c in ws[4]] == ["项目", "期初数", "期末数"]
    lines = {r[0].value: r for r in ws.iter_rows(min_row=5)}
    assert fen(lines["货币资金"][2].value) == E["closing_cash"]
    assert lines["货币资金"][2].data_type == "n"
    assert fen(lines["负债和净资产总计"][2].value) == E["closing_cash"] + E["closing_inventory"]
    assert lines["资产总计"][0].font.b  # totals stand out

    ws = await xlsx(engine, book, "activities", tmp_path)
    assert [c.value for c in ws[4]] == ["项目", "非限定性", "限定性", "合计"]
    lines = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=5)}
    assert fen(lines["四、净资产变动额"][3]) == E["change"]

    ws = await xlsx(engine, book, "cash-flow", tmp_path, lang="en")
    assert ws["A1"].value == "Cash flow statement" and "Prepared by" in ws["A2"].value
    lines = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=5)}
    assert fen(lines["Cash received from donations"][1]) == E["cash_received"]


# ---------------------------------------------------------------- PDF


def _png_pages(path: Path, out: Path) -> list[Image.Image]:
    run("pdftoppm", "-r", "40", "-png", str(path), str(out / path.stem))
    return [Image.open(p).convert("L") for p in sorted(out.glob(f"{path.stem}-*.png"))]


def _blank(image: Image.Image, box: tuple[int, int, int, int]) -> bool:
    return image.crop(box).getextrema()[0] > 200


@needs_poppler
@pytest.mark.parametrize(
    ("what", "figures"),
    [
        ("balance-sheet", ["货币资金", "存货（受赠物资）", "负债和净资产总计", "限定性净资产"]),
        ("activities", ["捐赠收入", "（二）管理费用", "限定性净资产转为非限定性净资产"]),
        ("cash-flow", ["接受捐赠收到的现金", "现金及现金等价物净增加额"]),
        ("trial-balance", ["科目余额表", "期初借方", "银行存款", "合计"]),
        ("journal", ["凭证号", "摘要", "渠道结算", "现金清点（清点人：王芳, 李强）"]),
    ],
)
async def test_pdf_pages_carry_every_label_and_figure(engine, book, tmp_path, what, figures):
    path = await pdf(engine, book, what, tmp_path)
    pages = pages_of(path)
    images = _png_pages(path, tmp_path)
    assert len(images) == pages
    margin = int(MARGIN / 72 * 40) - 2
    for image in images:
        w, h = image.size
        assert not _blank(image, (0, 0, w, h))
        # Nothing runs into the side margins: no table wider than the page.
        assert _blank(image, (0, 0, margin, h)) and _blank(image, (w - margin, 0, w, h))
    text = run("pdftotext", "-layout", str(path), "-")
    pages_text = text.split("\f")
    for page in range(1, pages + 1):
        assert f"第{page}页共{pages}页" in re.sub(r"\s+", "", pages_text[page - 1])
    assert "编制单位：郑州市慈善总会" in text and "单位：元" in text
    assert "期间：2025-03-01 至 2025-03-31" in text
    for label in figures:
        assert label in text
    amounts = {
        "balance-sheet": [E["closing_cash"], E["closing_net_assets"], E["closing_suspense"]],
        "activities": [E["income"], E["expenses"], E["change"], E["management"]],
        "cash-flow": [E["cash_received"], E["cash_grants"], E["closing_cash"]],
        "trial-balance": [E["bank_debits"], E["bank_credits"], E["closing_bank"]],
        "journal": [1234, 39760, 29850],
    }[what]
    for amount in amounts:
        assert yuan(amount) in text
    fonts = run("pdffonts", str(path))
    assert re.search(r"WenQuanYi\S*\s+TrueType\s+\S+\s+yes", fonts)


def _column_text(path: Path, pages: int, x: float, width: float) -> str:
    """The text inside one column's band on every page, in reading order."""
    out = []
    for page in range(1, pages + 1):
        out.append(
            run(
                "pdftotext",
                "-f", str(page), "-l", str(page),
                "-x", str(int(x) + 1), "-y", "0",
                "-W", str(int(width) - 2), "-H", str(int(PAGE[1])),
                str(path), "-",
            )
        )  # fmt: skip
    return re.sub(r"\s+", "", "".join(out))


@needs_poppler
async def test_no_cell_is_cut(engine, book, tmp_path):
    """Each long memo is read whole from inside the memo column's band: wrapped onto
    more lines of its row, neither clipped nor spilling into the next column."""
    path = await pdf(engine, book, "journal", tmp_path)
    widths = column_widths(journal_columns("zh"))
    memo_x = MARGIN + sum(widths[:4])
    memos = _column_text(path, pages_of(path), memo_x, widths[4])
    for memo in (LONG_MEMO, f"支出申请1已批准：{PAYEE}，{PURPOSE}"):
        assert re.sub(r"\s+", "", memo) in memos
    # The memo that wraps onto the most lines ends inside its cell on both its rows
    # (one per posting of its entry).
    assert memos.count(re.sub(r"\s+", "", LONG_MEMO)) == 2
    bbox = run("pdftotext", "-bbox", str(path), "-")
    right = PAGE[0] - MARGIN + 1
    for x_max in re.findall(r'xMax="([\d.]+)"', bbox):
        assert float(x_max) <= right
