"""Hypothesis on every statement format: generated files read back exactly, and damaged
files are refused with StatementFileError, never another exception."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciliation.detect import read_statement
from reconciliation.statement_files import BankLine, SettlementLine, StatementFileError
from tests.reconciliation.statement_writers import (
    abc,
    alipay,
    boc,
    ccb,
    icbc,
    wechat_funds,
    wechat_trade,
)

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# References as people and channels write them: ASCII ids, dashes, some Chinese, and
# characters a CSV writer must quote.
reference = st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9\-_/中原区建设路 ,\"]{0,28}[A-Za-z0-9]", fullmatch=True
)
day = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))
fen = st.integers(min_value=1, max_value=10**10)


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
