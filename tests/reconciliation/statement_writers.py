"""Statement files written in each provider's layout from lines: the Hypothesis round
trips read them back, and bench/statement_profiles.py imports large ones."""

from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import Workbook

from reconciliation.statement_files import BankLine, SettlementLine


def _yuan(fen: int, thousands: bool = False) -> str:
    sign = "-" if fen < 0 else ""
    whole = f"{abs(fen) // 100:,}" if thousands else str(abs(fen) // 100)
    return f"{sign}{whole}.{abs(fen) % 100:02d}"


def _csv(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


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
