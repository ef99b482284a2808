"""`jinlin export` for the statements, and the wording of kinds and memos."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest
from openpyxl import load_workbook

import cli
from reports.labels import account_name, kind_label, memo_label
from tests.reports.conftest import EXPECTED, build_book


def _cli(monkeypatch, db_url: str, *argv: str) -> int:
    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    monkeypatch.setenv("JINLIN_SECRET_KEY", "x" * 40)
    return cli.main(list(argv))


async def test_export_command_writes_each_statement(engine, db_url, monkeypatch, tmp_path, capsys):
    book = await build_book(engine)
    period = ("--from", "2025-03-01", "--to", "2025-03-31", "--lang", "zh")

    def export(what: str, fmt: str, out: str | None = None) -> int:
        argv = ["export", book.fund.code, "--what", what, *period, "--format", fmt]
        return _cli(monkeypatch, db_url, *argv, *(["--output", out] if out else []))

    pdf = tmp_path / "bs.pdf"
    assert await asyncio.to_thread(export, "balance-sheet", "pdf", str(pdf)) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    xlsx = tmp_path / "ac.xlsx"
    assert await asyncio.to_thread(export, "activities", "xlsx", str(xlsx)) == 0
    assert load_workbook(xlsx).active["A1"].value == "业务活动表"
    capsys.readouterr()
    assert await asyncio.to_thread(export, "cash-flow", "csv") == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    received = dict(rows[1:])["接受捐赠收到的现金"]
    fen = EXPECTED["cash_received"]
    assert received == f"{fen // 100}.{fen % 100:02d}"
    with pytest.raises(SystemExit):
        export("income", "csv")  # argparse refuses it before any work


def test_system_memos_read_in_chinese_and_free_text_is_kept():
    cases = {
        "ONLINE donation WX-1": "线上捐赠（参考号 WX-1）",
        "CHARITY_SALE donation": "义卖捐赠",
        "refund of donation 12: 重复转账": "退还捐赠 12：重复转账",
        "void of donation 3: typo": "作废捐赠 3：typo",
        "disbursement 4 approved: 食堂, 助餐, 三月": "支出申请 4 已批准：食堂，助餐, 三月",
        "disbursement 4 cancelled: 计划取消": "撤销支出申请 4：计划取消",
        "cash count by 王芳, 李强": "现金清点（清点人：王芳, 李强）",
        "count 2 taken back: 点错": "撤回现金清点 2：点错",
        "cash deposited": "现金存入银行",
        "cash deposited (bank ref D-9)": "现金存入银行（银行参考号 D-9）",
        "settlement payout P-1: 3 donations settled, 4 lines": "渠道结算到账 P-1：结算捐赠 3 笔，共 4 行",
        "unidentified bank receipt R (statement line 7)": "待查明银行收款 R（对账单第 7 行）",
        "statement import 5 undone: 文件错了": "撤销对账单导入 5：文件错了",
        "reversal of entry 9: wrong account": "冲销第 9 号凭证：wrong account",
        "Period close through 2025-03-31": "期末结转（截至 2025-03-31）",
        "社区活动物资采购": "社区活动物资采购",
        "OTHER donation": "OTHER donation",  # not a channel: somebody's own words
    }
    assert {memo: memo_label(memo, "zh") for memo in cases} == cases
    assert memo_label("cash count by A", "en") == "cash count by A"
    assert kind_label("disbursement_payment", "zh") == "支出付款"
    assert kind_label("disbursement_payment", "en") == "disbursement_payment"
    assert account_name("银行存款 Bank", "zh") == "银行存款"
    assert account_name("银行存款 Bank", "en") == "Bank"
