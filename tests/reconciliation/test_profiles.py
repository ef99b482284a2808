"""Statement format profiles: the shipped samples, detection, the checks each format gets,
and user profiles (docs/statement-formats.md)."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from reconciliation.detect import detect_format, read_statement
from reconciliation.profiles import ProfileError, load_profiles, parse_profile
from reconciliation.statement_files import BankLine, SettlementLine, StatementFileError

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
# The festival's online gifts: 1,054.60 gross, 6.33 fees, paid out as 1,048.27.
GROSS, FEES = 105460, 633
# The bank story every bank sample tells: six lines from 12,000.00 to 12,774.77.
BANK_REFS = [
    "ZZTRF20230610-0231",
    "DEP-20230611-01",
    "WXPAYOUT20230612001",
    "PAY-20230615-01",
    "中原区-001",
    "PAY-20230620-01",
]
BANK_AMOUNTS = [200000, 128650, 104827, -86000, 50000, -120000]


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "fmt", "payout"),
    [
        ("wechat-trade-bill.csv", "wechat-trade", None),
        ("wechat-fund-flow.csv", "wechat-funds", date(2023, 6, 12)),
        ("alipay-account-statement.csv", "alipay", date(2023, 6, 12)),
        ("settlement.csv", "jinlin-settlement", None),
    ],
)
def test_channel_samples(name, fmt, payout):
    parsed = read_statement(sample(name))
    assert (parsed.format, parsed.source, parsed.payout_date) == (fmt, "PAYMENT_CHANNEL", payout)
    assert all(isinstance(line, SettlementLine) for line in parsed.lines)
    assert len(parsed.lines) == 8
    assert sum(line.amount_fen for line in parsed.lines) == GROSS
    assert sum(line.fee_fen for line in parsed.lines) == FEES
    assert parsed.last_date == date(2023, 6, 11)
    assert detect_format(sample(name)) == (fmt, "PAYMENT_CHANNEL")


def test_fee_rows_are_attached_to_their_trade():
    # Alipay's 服务费 rows and WeChat's 手续费 rows carry the trade's reference.
    alipay = read_statement(sample("alipay-account-statement.csv")).lines
    assert (alipay[0].reference, alipay[0].amount_fen, alipay[0].fee_fen) == (
        "2023061022001412000000301122",  # the trailing tab Alipay writes is gone
        5000,
        30,
    )
    wechat = read_statement(sample("wechat-fund-flow.csv")).lines
    assert [line.line_no for line in wechat] == [1, 3, 5, 7, 9, 11, 13, 15]  # file order kept
    assert wechat[5].fee_fen == 300


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("icbc-account-history.csv", "icbc"),
        ("ccb-account-details.xlsx", "ccb"),
        ("boc-transaction-details.csv", "boc"),
        ("abc-account-details.csv", "abc"),
        ("bank-statement.csv", "jinlin-bank"),
    ],
)
def test_bank_samples_tell_the_same_story(name, fmt):
    parsed = read_statement(sample(name), "BANK")
    assert (parsed.format, parsed.source) == (fmt, "BANK")
    assert all(isinstance(line, BankLine) for line in parsed.lines)
    assert [line.reference for line in parsed.lines] == BANK_REFS
    assert [line.amount_fen for line in parsed.lines] == BANK_AMOUNTS
    assert parsed.lines[-1].balance_fen == 1277477  # the closing balance
    assert parsed.lines[0].date == date(2023, 6, 10)


def test_newest_first_statement_keeps_its_line_numbers():
    lines = read_statement(sample("icbc-account-history.csv")).lines
    assert [line.line_no for line in lines] == [6, 5, 4, 3, 2, 1]


def _icbc(rows: list[str]) -> str:
    head = "交易时间,借方发生额,贷方发生额,余额,对方单位名称,摘要,用途,凭证号\n"
    return head + "\n".join(rows) + "\n"


def test_a_running_balance_break_names_the_line():
    text = _icbc(
        [
            '2023-06-10,,100.00,"1,100.00",甲,转账,R1,1',
            "2023-06-11,20.00,,1080.00,乙,转账,R2,2",
            "2023-06-12,,5.00,1085.01,丙,转账,R3,3",
        ]
    )
    with pytest.raises(StatementFileError) as err:
        read_statement(text, "BANK")
    assert err.value.line_no == 3
    assert "line 3 (file line 4): the running balance breaks" in err.value.message
    assert "1085.00" in err.value.message and "1085.01" in err.value.message


def test_row_problems_name_data_line_and_file_line():
    cases = {
        "2023-06-11,20.00,5.00,1080.00,乙,转账,R2,2": "both money in and money out",
        "2023-06-11,,,1080.00,乙,转账,R2,2": "the amount is zero",
        "2023-06-11,,1.234,1080.00,乙,转账,R2,2": "at most two decimals",
        "2023/06/11,,20.00,1120.00,乙,转账,R2,2": "not in the profile's formats",
        '2023-06-11,,20.00,1120.00,乙,转"账,R2,2': "stray quote",
        "2023-06-11,,20.00,,乙,转账,R2,2": "balance is empty",
    }
    for row, problem in cases.items():
        with pytest.raises(StatementFileError) as err:
            read_statement(_icbc(["2023-06-10,,100.00,1100.00,甲,转账,R1,1", row]), "BANK")
        assert err.value.message.startswith("line 2 (file line 3): "), err.value.message
        assert problem in err.value.message


def test_reference_falls_back_to_the_voucher_number():
    lines = read_statement(_icbc(["2023-06-10,,100.00,100.00,甲,利息,,V-77"]), "BANK").lines
    assert lines[0].reference == "V-77"


def test_unknown_layout_names_profiles_and_header():
    text = "微信支付账单明细\n起始时间：[2023-06-01 00:00:00]\n\n交易日,金额\n2023-06-10,1\n"
    with pytest.raises(StatementFileError) as err:
        read_statement(text, "PAYMENT_CHANNEL")
    msg = err.value.message
    assert "unknown PAYMENT_CHANNEL statement layout" in msg
    for name in ("wechat-trade", "wechat-funds", "alipay", "icbc", "ccb", "boc", "abc"):
        assert name in msg
    assert "header found: '微信支付账单明细'" in msg


def test_a_file_of_the_other_source_is_refused_saying_what_it_is():
    with pytest.raises(StatementFileError, match=r"wechat-trade.*PAYMENT_CHANNEL file, not BANK"):
        read_statement(sample("wechat-trade-bill.csv"), "BANK")


def test_wechat_summary_catches_a_cut_or_edited_bill():
    text = sample("wechat-trade-bill.csv").decode()
    lines = text.splitlines()
    cut = "\n".join(lines[:5]) + "\n"  # the summary and three trades are gone
    with pytest.raises(StatementFileError, match="summary at the end of the file is missing"):
        read_statement(cut)
    edited = text.replace("`1054.60,`0.00,`0.00,`6.33", "`1054.60,`0.00,`0.00,`6.30")
    with pytest.raises(StatementFileError, match=r"summary: the file's totals .* disagree"):
        read_statement(edited)


def test_wechat_refund_rows_are_refused_by_name():
    text = sample("wechat-trade-bill.csv").decode().replace("`SUCCESS", "`REFUND", 1)
    with pytest.raises(StatementFileError) as err:
        read_statement(text)
    assert err.value.line_no == 1
    assert "'REFUND' is not one the profile wechat-trade handles" in err.value.message


def test_alipay_fee_row_without_its_trade_is_refused():
    text = sample("alipay-account-statement.csv").decode("gb18030")
    rows = text.split("\r\n")
    del rows[5]  # the first trade; its 服务费 row stays
    with pytest.raises(StatementFileError, match=r"a fee row for .* has no line"):
        read_statement("\r\n".join(rows).encode("gb18030"))


def _xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_xlsx_cells_are_read_exactly_with_title_and_total_rows():
    head = [
        "交易时间",
        "借方发生额（支取）",
        "贷方发生额（存入）",
        "余额",
        "对方户名",
        "摘要",
        "备注",
    ]
    data = _xlsx(
        [
            ["账号", "41050170360800001234"],
            [],
            head,
            [datetime(2023, 6, 10, 9, 30), None, 0.1, 0.1, "甲", "转账", "R1"],
            ["20230611 10:00:00", None, 0.2, 0.3, "乙", "转账", "R2"],
            [],
            ["合计", 0, 0.3],
        ]
    )
    lines = read_statement(data, "BANK").lines
    # 0.1 + 0.2 is not 0.3 in floats; in fen it is.
    assert [(line.amount_fen, line.balance_fen) for line in lines] == [(10, 10), (20, 30)]
    assert lines[0].date == date(2023, 6, 10)


def test_xlsx_amount_with_more_than_two_decimals_is_refused():
    head = ["交易时间", "借方发生额（支取）", "贷方发生额（存入）", "余额", "备注"]
    data = _xlsx([head, ["20230610", None, 1.005, 1.005, "R1"]])
    with pytest.raises(StatementFileError, match=r"line 1 \(file line 2\): money in '1.005'"):
        read_statement(data, "BANK")


def test_not_an_xlsx_after_all():
    with pytest.raises(StatementFileError, match="not a readable XLSX"):
        read_statement(b"PK\x03\x04 not really a zip", "BANK")


CUSTOM = """
title = "中原银行 交易明细 (a user's profile)"
kind = "bank"
encodings = ["gb18030"]
date_formats = ["%Y年%m月%d日"]
thousands_separator = true

[columns]
date = "记账日期"
reference = ["附言", "流水号"]
amount = "发生额"
direction = "收/支"
balance = "账户余额"

[direction]
in = ["收"]
out = ["支"]
"""


def test_a_user_profile_from_the_folder(tmp_path, monkeypatch):
    (tmp_path / "zybank.toml").write_text(CUSTOM, encoding="utf-8")
    (tmp_path / "broken.toml").write_text('kind = "bank"\n', encoding="utf-8")
    monkeypatch.setenv("JINLIN_STATEMENT_PROFILES", str(tmp_path))
    profiles, problems = load_profiles()
    assert profiles[0].name == "zybank" and profiles[0].source.endswith("zybank.toml")
    assert problems == ["broken.toml: [columns] maps fields to the column names in the file"]
    text = '记账日期,发生额,收/支,账户余额,附言,流水号\n2023年06月10日,"1,000.00",收,"1,000.00",R1,1\n2023年06月11日,10.00,支,990.00,,2\n'
    parsed = read_statement(text.encode("gb18030"))
    assert parsed.format == "zybank"
    assert [(line.reference, line.amount_fen) for line in parsed.lines] == [
        ("R1", 100000),
        ("2", -1000),
    ]


@pytest.mark.parametrize(
    ("top", "columns", "problem"),
    [
        ('kind = "bank"', "", "not valid TOML"),  # a repeated key
        ("", 'money_in = "贷方"\nmoney_out = "借方"', "either columns.amount"),
        ('title = "x"\ntitle = "y"', "", "not valid TOML"),
        ("colour = 1", "", "unknown keys: colour"),
        ("", 'owner = "户名"', "unknown fields in [columns]: owner"),
        ("", 'money_in = "收入"', "go together"),
        ('encodings = ["klingon"]', "", "unknown encoding"),
        ('newest_first = "yes"', "", "must be true or false"),
        ("thousands_separator = 1", "", "must be true or false"),
        ('date_formats = ["%d.%b.%Y"]', "", "%b is not supported"),
        ('date_formats = ["%H:%M"]', "", "needs %Y, %m and %d"),
    ],
)
def test_profile_files_are_checked(top, columns, problem):
    text = f"""kind = "bank"
{top}
[columns]
date = "日期"
reference = "附言"
amount = "金额"
balance = "余额"
{columns}
"""
    with pytest.raises(ProfileError, match=re.escape(problem)):
        parse_profile(text, name="x", source="test")


def test_kind_is_bank_or_payment_channel():
    with pytest.raises(ProfileError, match="kind must be one of"):
        parse_profile('kind = "cash"\n[columns]\ndate = "d"', name="x", source="t")


def test_a_bank_profile_needs_a_running_balance():
    text = '[columns]\ndate = "日期"\nreference = "附言"\namount = "金额"\n'
    with pytest.raises(ProfileError, match=r"needs columns\.balance"):
        parse_profile('kind = "bank"\n' + text, name="x", source="test")
    assert parse_profile('kind = "payment-channel"\n' + text, name="x", source="t").kind
