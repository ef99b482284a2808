"""Hypothesis on every statement format: generated files read back exactly, and damaged
files are refused with StatementFileError, never another exception."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from reconciliation.detect import read_statement
from reconciliation.statement_files import BankLine, SettlementLine, StatementFileError

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# References as people and channels write them: ASCII ids, dashes, some Chinese, and
# characters a CSV writer must quote.
reference = st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9\-_/中原区建设路 ,\"]{0,28}[A-Za-z0-9]", fullmatch=True
)
day = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))
fen = st.integers(min_value=1, max_value=10**10)


def _yuan(fen: int, thousands: bool = False) -> str:
    sign = "-" if fen < 0 else ""
    whole = f"{abs(fen) // 100:,}" if thousands else str(abs(fen) // 100)
    return f"{sign}{whole}.{abs(fen) % 100:02d}"


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


@st.composite
def settlement_lines(draw) -> list[SettlementLine]:
    refs = draw(st.lists(reference, min_size=1, max_size=12, unique=True))
    lines = []
    for n, ref in enumerate(refs, start=1):
        amount = draw(fen)
        fee = draw(st.integers(min_value=0, max_value=amount))
        lines.append(SettlementLine(n, draw(day), ref, amount, fee))
    return sorted(lines, key=lambda line: line.line_no)


@st.composite
def bank_lines(draw) -> list[BankLine]:
    balance = draw(st.integers(min_value=-(10**10), max_value=10**10))
    lines = []
    for n in range(1, draw(st.integers(min_value=1, max_value=12)) + 1):
        amount = draw(fen) * draw(st.sampled_from([1, -1]))
        balance += amount
        lines.append(BankLine(n, draw(day), draw(reference), amount, balance))
    return lines


# ---------------------------------------------------------------- writers


def wechat_trade(lines: list[SettlementLine]) -> bytes:
    head = [
        "交易时间",
        "商户号",
        "微信订单号",
        "商户订单号",
        "交易状态",
        "应结订单金额",
        "商品名称",
        "手续费",
        "费率",
    ]
    rows = [head]
    for line in lines:
        rows.append(
            [
                f"`{line.date} 10:00:00",
                "`1612345678",
                f"`{line.reference}",
                "`JL1",
                "`SUCCESS",
                f"`{_yuan(line.amount_fen)}",
                "`捐赠",
                f"`{_yuan(line.fee_fen)}",
                "`0.60%",
            ]
        )
    rows.append(["总交易单数", "应结订单总金额", "退款总金额", "手续费总金额"])
    gross = sum(line.amount_fen for line in lines)
    fees = sum(line.fee_fen for line in lines)
    rows.append([f"`{len(lines)}", f"`{_yuan(gross)}", "`0.00", f"`{_yuan(fees)}"])
    return _csv(rows).encode("utf-8")


def _flows(lines: list[SettlementLine]) -> list[tuple[str, date, str, int]]:
    """(kind, day, reference, signed fen) of a channel account's moves for these lines."""
    moves = []
    for line in lines:
        moves.append(("trade", line.date, line.reference, line.amount_fen))
        if line.fee_fen:
            moves.append(("fee", line.date, line.reference, -line.fee_fen))
    net = sum(line.amount_fen - line.fee_fen for line in lines)
    if net:  # a payout of nothing is not made
        moves.append(("payout", max(line.date for line in lines), "PAYOUT-1", -net))
    return moves


def wechat_funds(lines: list[SettlementLine]) -> bytes:
    rows = [
        [
            "记账时间",
            "微信支付业务单号",
            "业务名称",
            "业务类型",
            "收支类型",
            "收支金额（元）",
            "账户结余（元）",
            "备注",
        ]
    ]
    balance = 0
    kinds = {"trade": "交易", "fee": "手续费", "payout": "提现"}
    for kind, when, ref, amount in _flows(lines):
        balance += amount
        rows.append(
            [
                f"`{when} 10:00:00",
                f"`{ref}",
                f"`{kinds[kind]}",
                f"`{kinds[kind]}",
                "`收入" if amount > 0 else "`支出",
                f"`{_yuan(abs(amount))}",
                f"`{_yuan(balance)}",
                "`",
            ]
        )
    return _csv(rows).encode("utf-8")


def alipay(lines: list[SettlementLine]) -> bytes:
    rows = [["#支付宝账务明细查询"], ["#账号：[20880123456789010156]"]]
    rows.append(
        "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注".split(
            ","
        )
    )
    balance = 0
    kinds = {"trade": "在线支付", "fee": "服务费", "payout": "提现"}
    for n, (kind, when, ref, amount) in enumerate(_flows(lines)):
        balance += amount
        money_in = f"+{_yuan(amount)}" if amount > 0 else ""
        money_out = _yuan(amount) if amount < 0 else ""
        rows.append(
            [
                f"{n}\t",
                f"{ref}\t",
                "",
                "捐赠",
                f"{when:%Y/%m/%d} 10:00:00",
                "",
                money_in,
                money_out,
                _yuan(balance),
                "支付宝",
                kinds[kind],
                "",
            ]
        )
    rows.append(["#导出时间：[2023年07月01日 09:12:33]"])
    return _csv(rows).encode("gb18030")


def icbc(lines: list[BankLine]) -> bytes:
    rows = [
        ["中国工商银行 账户历史明细"],
        [],
        "凭证号,交易时间,借方发生额,贷方发生额,摘要,用途,对方单位名称,余额".split(","),
    ]
    for line in lines[::-1]:  # newest first, as the bank exports it
        out = line.amount_fen < 0
        rows.append(
            [
                str(line.line_no),
                f"{line.date} 09:00:00",
                _yuan(-line.amount_fen, True) if out else "",
                "" if out else _yuan(line.amount_fen, True),
                "转账",
                line.reference,
                "某单位",
                _yuan(line.balance_fen, True),
            ]
        )
    return _csv(rows).encode("utf-8")


def boc(lines: list[BankLine]) -> bytes:
    rows = ["交易日期,交易金额,借贷标识,交易后余额,对方户名,附言,交易流水号".split(",")]
    for line in lines:
        flag = "借" if line.amount_fen < 0 else "贷"
        rows.append(
            [
                f"{line.date:%Y%m%d}",
                _yuan(abs(line.amount_fen), True),
                flag,
                _yuan(line.balance_fen, True),
                "某单位",
                line.reference,
                f"B{line.line_no}",
            ]
        )
    return _csv(rows).encode("gb18030")


def abc(lines: list[BankLine]) -> bytes:
    rows = ["交易日期,交易金额,本次余额,对方户名,交易用途,交易流水号".split(",")]
    for line in lines:
        rows.append(
            [
                f"{line.date:%Y%m%d}",
                _yuan(line.amount_fen),
                _yuan(line.balance_fen),
                "某单位",
                line.reference,
                f"A{line.line_no}",
            ]
        )
    return _csv(rows).encode("utf-8")


def ccb(lines: list[BankLine]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["账号", "41050170360800001234"])
    sheet.append([])
    sheet.append(
        ["交易时间", "借方发生额（支取）", "贷方发生额（存入）", "余额", "对方户名", "摘要", "备注"]
    )
    for line in lines:
        out = line.amount_fen < 0
        amount = _yuan(abs(line.amount_fen))  # text cells: floats cannot hold 10^8 yuan exactly
        sheet.append(
            [
                f"{line.date:%Y%m%d} 10:00:00",
                amount if out else None,
                None if out else amount,
                _yuan(line.balance_fen),
                "某单位",
                "转账",
                line.reference,
            ]
        )
    sheet.append(["合计"])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- round trips


def _same_settlement(got: list[SettlementLine], want: list[SettlementLine]) -> None:
    assert [(x.date, x.reference.strip(), x.amount_fen, x.fee_fen) for x in want] == [
        (x.date, x.reference, x.amount_fen, x.fee_fen) for x in got
    ]


def _same_bank(got: list[BankLine], want: list[BankLine]) -> None:
    assert [(x.date, x.reference.strip(), x.amount_fen, x.balance_fen) for x in want] == [
        (x.date, x.reference, x.amount_fen, x.balance_fen) for x in got
    ]


@FUZZ
@given(settlement_lines())
def test_wechat_trade_round_trip(lines):
    parsed = read_statement(wechat_trade(lines), "PAYMENT_CHANNEL")
    assert parsed.format == "wechat-trade"
    _same_settlement(parsed.lines, lines)


@FUZZ
@given(settlement_lines())
def test_wechat_funds_round_trip(lines):
    parsed = read_statement(wechat_funds(lines), "PAYMENT_CHANNEL")
    assert parsed.format == "wechat-funds"
    paid = any(line.amount_fen > line.fee_fen for line in lines)
    assert parsed.payout_date == (max(line.date for line in lines) if paid else None)
    _same_settlement(parsed.lines, lines)


@FUZZ
@given(settlement_lines())
def test_alipay_round_trip(lines):
    parsed = read_statement(alipay(lines), "PAYMENT_CHANNEL")
    assert parsed.format == "alipay"
    _same_settlement(parsed.lines, lines)


@FUZZ
@given(bank_lines())
def test_icbc_round_trip(lines):
    parsed = read_statement(icbc(lines), "BANK")
    assert parsed.format == "icbc"
    _same_bank(parsed.lines, lines)


@FUZZ
@given(bank_lines())
def test_boc_round_trip(lines):
    parsed = read_statement(boc(lines), "BANK")
    assert parsed.format == "boc"
    _same_bank(parsed.lines, lines)


@FUZZ
@given(bank_lines())
def test_abc_round_trip(lines):
    parsed = read_statement(abc(lines), "BANK")
    assert parsed.format == "abc"
    _same_bank(parsed.lines, lines)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bank_lines())
def test_ccb_xlsx_round_trip(lines):
    parsed = read_statement(ccb(lines), "BANK")
    assert parsed.format == "ccb"
    _same_bank(parsed.lines, lines)


# ---------------------------------------------------------------- damage

CSV_SAMPLES = {
    "wechat-trade-bill.csv": "utf-8",
    "wechat-fund-flow.csv": "utf-8",
    "alipay-account-statement.csv": "gb18030",
    "icbc-account-history.csv": "utf-8",
    "boc-transaction-details.csv": "gb18030",
    "abc-account-details.csv": "utf-8",
    "bank-statement.csv": "utf-8",
    "settlement.csv": "utf-8",
}
# What breaks statements in life: quotes, separators, line breaks, signs, markers.
NOISE = st.sampled_from(
    ['"', ",", "\n", "\r", "`", "#", "-", "+", "0", "9", ".", " ", "合计", "借", "¥", "\t"]
)


@st.composite
def damaged_text(draw) -> tuple[bytes, str | None]:
    name = draw(st.sampled_from(sorted(CSV_SAMPLES)))
    text = (SAMPLES / name).read_bytes().decode(CSV_SAMPLES[name])
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        cut = draw(st.integers(min_value=0, max_value=3))
        text = text[:at] + draw(NOISE | st.text(max_size=3)) + text[at + cut :]
    source = draw(st.sampled_from([None, "BANK", "PAYMENT_CHANNEL"]))
    return text.encode(CSV_SAMPLES[name], "replace"), source


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_text())
def test_damaged_csv_is_read_or_refused(case):
    data, source = case
    try:
        parsed = read_statement(data, source)
    except StatementFileError as exc:
        assert exc.message
    else:
        assert parsed.lines and (source is None or parsed.source == source)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(p.name for p in SAMPLES.iterdir())), st.data())
def test_damaged_bytes_are_read_or_refused(name, data):
    raw = bytearray((SAMPLES / name).read_bytes())
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw[at] = data.draw(st.integers(min_value=0, max_value=255))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(min_value=0, max_value=len(raw)))]
    try:
        read_statement(bytes(raw))
    except StatementFileError as exc:
        assert exc.message


HEADERS = st.sampled_from(
    [
        "交易时间,借方发生额,贷方发生额,余额,用途",
        "交易日期,交易金额,本次余额,交易用途",
        "#x",
        "总交易单数",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(HEADERS | st.text(max_size=40), max_size=6), st.sampled_from([None, "BANK"]))
def test_any_text_is_read_or_refused(parts, source):
    try:
        read_statement("\n".join(parts), source)
    except StatementFileError as exc:
        assert exc.message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_profile_text_is_loaded_or_refused(text):
    from reconciliation.profiles import ProfileError, parse_profile

    try:
        parse_profile('kind = "bank"\n' + text, name="x", source="fuzz")
    except ProfileError as exc:
        assert str(exc)
