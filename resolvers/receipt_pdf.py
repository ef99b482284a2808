"""A donation receipt as a one-page A5 PDF (reportlab), with its verify QR code (segno).

The Chinese text is set in an embedded TrueType font: WenQuanYi Zen Hei from Debian's
fonts-wqy-zenhei (scripts/browser-deps.sh installs it). Without it, the text falls
back to reportlab's CID font STSong-Light, which is not embedded and needs a viewer
with the Adobe Chinese fonts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import segno
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from resolvers.capital_numerals import capital_amount

FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
CHANNELS = {
    "ONLINE": "线上支付",
    "CASH": "现金",
    "CHARITY_SALE": "义卖",
    "BANK_TRANSFER": "银行转账",
    "IN_KIND": "物资（申报价值）",
}
RED = Color(0.75, 0.1, 0.1)
GREY = Color(0.35, 0.35, 0.35)


@cache
def cjk_font() -> str:
    """The registered name of the font the receipt is set in."""
    for path in FONT_FILES:
        if path.exists():
            pdfmetrics.registerFont(TTFont("ReceiptCJK", str(path), subfontIndex=0))
            return "ReceiptCJK"
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    return "STSong-Light"


@dataclass(frozen=True)
class ReceiptContent:
    number: str
    fund_name: str
    fund_code: str
    host: str
    donor: str
    amount_fen: int
    channel: str
    received_at: datetime
    entry_sequence: int
    entry_hash: str
    verify_url: str
    void: bool


def amount_figures(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def render_receipt(content: ReceiptContent, tz: ZoneInfo) -> bytes:
    font = cjk_font()
    buffer = io.BytesIO()
    width, height = A5
    c = Canvas(buffer, pagesize=A5, pageCompression=1)
    c.setTitle(f"捐赠收据 {content.number}")
    c.setAuthor(content.host)
    left, top = 16 * mm, height - 20 * mm
    c.setFont(font, 18)
    c.drawCentredString(width / 2, top, "捐 赠 收 据")
    c.setFont(font, 9)
    c.setFillColor(GREY)
    c.drawCentredString(width / 2, top - 7 * mm, f"No. {content.number}")
    c.setFillColor(black)
    when = content.received_at.astimezone(tz)
    rows = [
        ("基金", f"{content.fund_name}（{content.fund_code}）"),
        ("托管机构", content.host),
        ("捐赠人", content.donor),
        ("金额（小写）", amount_figures(content.amount_fen)),
        ("金额（大写）", capital_amount(content.amount_fen)),
        ("捐赠方式", CHANNELS.get(content.channel, content.channel)),
        ("捐赠日期", f"{when:%Y年%m月%d日}（{tz.key}）"),
        ("账目序号", f"第 {content.entry_sequence} 笔"),
    ]
    y = top - 20 * mm
    for label, value in rows:
        c.setFont(font, 10)
        c.setFillColor(GREY)
        c.drawString(left, y, label)
        c.setFillColor(black)
        c.setFont(font, 12 if label.startswith("金额") else 11)
        c.drawString(left + 28 * mm, y, value)
        y -= 9 * mm
    c.setFont(font, 10)
    c.setFillColor(GREY)
    c.drawString(left, y, "账目哈希")
    c.setFillColor(black)
    c.setFont("Courier", 8.5)
    c.drawString(left + 28 * mm, y, content.entry_hash[:32])
    c.drawString(left + 28 * mm, y - 4 * mm, content.entry_hash[32:])
    _qr(c, content.verify_url, x=width - left - 34 * mm, y=16 * mm, size=34 * mm)
    c.setFont(font, 8.5)
    c.setFillColor(GREY)
    note = ["扫码核验：此笔捐赠已记入基金", "公开账本，并包含在当日公布的", "默克尔根中。"]
    for i, line in enumerate(note):
        c.drawString(left, 40 * mm - i * 5 * mm, line)
    c.setFont("Courier", 7)
    c.drawString(left, 16 * mm, content.verify_url)
    if content.void:
        _void_stamp(c, font, width, height)
    c.showPage()
    c.save()
    return buffer.getvalue()


def _qr(c: Canvas, url: str, *, x: float, y: float, size: float) -> None:
    """The QR code drawn as vector squares, with its quiet zone of four modules."""
    matrix = segno.make(url, error="m", micro=False).matrix
    modules = len(matrix) + 8
    cell = size / modules
    c.setFillColor(black)
    for row, line in enumerate(matrix):
        for col, dark in enumerate(line):
            if dark:
                c.rect(
                    x + (col + 4) * cell,
                    y + size - (row + 5) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def _void_stamp(c: Canvas, font: str, width: float, height: float) -> None:
    c.saveState()
    c.setFillColor(RED)
    c.setFont(font, 10)
    c.drawCentredString(width / 2, height - 33 * mm, "本收据已作废：捐赠已退款或冲销")
    c.setStrokeColor(RED)
    c.translate(width / 2, height / 2 + 10 * mm)
    c.rotate(20)
    c.setLineWidth(3)
    c.rect(-32 * mm, -11 * mm, 64 * mm, 26 * mm, stroke=1, fill=0)
    c.setFont(font, 44)
    c.drawCentredString(0, -5 * mm, "作废")
    c.restoreState()
