"""The statements of 民间非营利组织会计制度 as plain rows, from a fund's Figures: the
资产负债表, the 业务活动表 (非限定性, 限定性 and 合计 columns), the 现金流量表, and
the trial balance. Pure: no I/O; money stays integer fen.

Where each line comes from (docs/reports.md):
- cash and cash equivalents are 1001, 1002, 1009.01 and 1009.09; inventory is 1201;
- net assets hold the period's result not yet closed, on the side the book closes to;
- a restricted fund's income is restricted, its expenses are spent from restricted
  resources, so they appear as released into unrestricted net assets;
- cash flows are the flows less what moved no cash: goods given or handed out, and
  approvals not yet paid; unidentified bank receipts are cash received as gifts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger import accounts as A
from reports.figures import Figures
from reports.labels import account_name, word

CASH_CODES = (A.CASH_ON_HAND, A.CASH_UNCOUNTED, A.BANK, A.ONLINE_CLEARING)
MONEY, TEXT, DATETIME, INT = "money", "text", "datetime", "int"


@dataclass(frozen=True)
class Column:
    title: str
    kind: str  # MONEY (fen), TEXT, DATETIME, INT
    width: float  # in characters of a spreadsheet's default font


@dataclass(frozen=True)
class Row:
    cells: tuple[Any, ...]
    style: str = ""  # "section", "total", or "" for an ordinary line


@dataclass(frozen=True)
class Table:
    kind: str
    title: str
    columns: tuple[Column, ...]
    rows: list[Row] = field(default_factory=list)


def _line(label: str, *values: int | None, style: str = "") -> Row:
    return Row((label, *values), style)


def cash(balances: dict[str, int]) -> int:
    return sum(balances.get(code, 0) for code in CASH_CODES)


def unclosed_result(balances: dict[str, int]) -> int:
    """Income less expense not yet closed into net assets."""
    income = sum(balances.get(code, 0) for code in A.INCOME_CODES)
    return income - sum(balances.get(code, 0) for code in A.EXPENSE_CODES)


def net_assets(balances: dict[str, int], restricted: bool) -> tuple[int, int]:
    """(unrestricted, restricted) net assets, the unclosed result on the book's side."""
    result = unclosed_result(balances)
    unrestricted = balances.get(A.NET_UNRESTRICTED, 0) + (0 if restricted else result)
    return unrestricted, balances.get(A.NET_RESTRICTED, 0) + (result if restricted else 0)


def balance_sheet(f: Figures, lang: str) -> Table:
    def sides(b: dict[str, int]) -> dict[str, int]:
        unrestricted, restricted = net_assets(b, f.restricted)
        money = cash(b)
        assets = money + b[A.IN_KIND]
        liabilities = b[A.PAYABLE] + b[A.SUSPENSE]
        return {
            "bs.money": money,
            "bs.cash": b[A.CASH_ON_HAND] + b[A.CASH_UNCOUNTED],
            "bs.bank": b[A.BANK],
            "bs.clearing": b[A.ONLINE_CLEARING],
            "bs.inventory": b[A.IN_KIND],
            "bs.current_total": assets,
            "bs.assets_total": assets,
            "bs.payable": b[A.PAYABLE],
            "bs.suspense": b[A.SUSPENSE],
            "bs.liabilities_total": liabilities,
            "bs.unrestricted": unrestricted,
            "bs.restricted": restricted,
            "bs.net_assets_total": unrestricted + restricted,
            "bs.grand_total": liabilities + unrestricted + restricted,
        }

    opening, closing = sides(f.opening), sides(f.closing)
    layout = [
        ("bs.current_assets", "section"),
        ("bs.money", ""),
        ("bs.cash", ""),
        ("bs.bank", ""),
        ("bs.clearing", ""),
        ("bs.inventory", ""),
        ("bs.current_total", "total"),
        ("bs.assets_total", "total"),
        ("bs.liabilities", "section"),
        ("bs.payable", ""),
        ("bs.suspense", ""),
        ("bs.liabilities_total", "total"),
        ("bs.net_assets", "section"),
        ("bs.unrestricted", ""),
        ("bs.restricted", ""),
        ("bs.net_assets_total", "total"),
        ("bs.grand_total", "total"),
    ]
    rows = [
        _line(word(key, lang), None, None, style=style)
        if style == "section"
        else _line(word(key, lang), opening[key], closing[key], style=style)
        for key, style in layout
    ]
    columns = (
        Column(word("item", lang), TEXT, 34),
        Column(word("opening", lang), MONEY, 18),
        Column(word("closing", lang), MONEY, 18),
    )
    return Table("balance-sheet", word("balance-sheet", lang), columns, rows)


def activities(f: Figures, lang: str) -> Table:
    """Each line as (非限定性, 限定性, 合计); a restricted fund's income is restricted."""
    s, fl = f.statement, f.flows

    def split(amount: int, restricted: bool) -> tuple[int, int, int]:
        return (0, amount, amount) if restricted else (amount, 0, amount)

    income = sum(fl[c] for c in A.INCOME_CODES)
    expense_lines = [
        ("ac.programme", fl[A.PROJECT_COSTS]),
        ("ac.management", fl[A.MANAGEMENT_COSTS]),
        ("ac.fundraising", fl[A.CHANNEL_FEES]),
        ("ac.other", fl[A.OVER_SHORT]),
    ]
    expenses = sum(amount for _, amount in expense_lines)
    # Expenses always fall on unrestricted net assets; a restricted fund releases as much.
    released = (expenses, -expenses, 0) if f.restricted else (0, 0, 0)
    income_cols = split(income, f.restricted)
    change = tuple(
        i - e + r for i, e, r in zip(income_cols, split(expenses, False), released, strict=True)
    )
    rows = [
        _line(word("ac.income", lang), None, None, None, style="section"),
        _line(word("ac.donations", lang), *income_cols),
        _line(word("ac.online", lang), *split(s.donations_online, f.restricted)),
        _line(word("ac.offline", lang), *split(s.donations_offline, f.restricted)),
        _line(word("ac.in_kind", lang), *split(s.donations_in_kind, f.restricted)),
        _line(word("ac.refunds", lang), *split(s.refunds, f.restricted)),
        _line(word("ac.income_total", lang), *income_cols, style="total"),
        _line(word("ac.expenses", lang), None, None, None, style="section"),
        *(_line(word(key, lang), *split(amount, False)) for key, amount in expense_lines),
        _line(word("ac.expenses_total", lang), *split(expenses, False), style="total"),
        _line(word("ac.released", lang), *released),
        _line(word("ac.change", lang), *change, style="total"),
    ]
    columns = (
        Column(word("item", lang), TEXT, 34),
        Column(word("unrestricted", lang), MONEY, 16),
        Column(word("restricted", lang), MONEY, 16),
        Column(word("total", lang), MONEY, 16),
    )
    return Table("activities", word("activities", lang), columns, rows)


def cash_flow(f: Figures, lang: str) -> Table:
    fl, o, c = f.flows, f.opening, f.closing

    def moved(code: str) -> int:
        return c[code] - o[code]

    received = fl[A.INCOME_ONLINE] + fl[A.INCOME_OFFLINE] + moved(A.SUSPENSE)
    goods_handed_out = fl[A.INCOME_IN_KIND] - moved(A.IN_KIND)
    grants = fl[A.PROJECT_COSTS] - goods_handed_out - moved(A.PAYABLE)
    other = fl[A.MANAGEMENT_COSTS] + fl[A.CHANNEL_FEES] + fl[A.OVER_SHORT]
    net = received - grants - other
    rows = [
        _line(word("cf.operating", lang), None, style="section"),
        _line(word("cf.donations", lang), received),
        _line(word("cf.inflow_total", lang), received, style="total"),
        _line(word("cf.grants", lang), grants),
        _line(word("cf.other_paid", lang), other),
        _line(word("cf.outflow_total", lang), grants + other, style="total"),
        _line(word("cf.operating_net", lang), net, style="total"),
        _line(word("cf.investing_net", lang), 0),
        _line(word("cf.financing_net", lang), 0),
        _line(word("cf.fx", lang), 0),
        _line(word("cf.net", lang), net, style="total"),
        _line(word("cf.opening", lang), cash(o)),
        _line(word("cf.closing", lang), cash(o) + net, style="total"),
    ]
    columns = (Column(word("item", lang), TEXT, 40), Column(word("amount", lang), MONEY, 18))
    return Table("cash-flow", word("cash-flow", lang), columns, rows)


def trial_balance(f: Figures, lang: str) -> Table:
    opening = {line.code: line for line in f.opening_tb.lines}
    rows: list[Row] = []
    totals = [0] * 6
    for line in f.closing_tb.lines:
        before = opening[line.code]
        debits, credits = f.turnover.get(line.code, (0, 0))
        values = [
            before.debit_fen,
            before.credit_fen,
            debits,
            credits,
            line.debit_fen,
            line.credit_fen,
        ]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        rows.append(Row((line.code, account_name(line.name, lang), *values)))
    rows.append(Row((word("total", lang), "", *totals), "total"))
    titles = ("account", "account_name", "opening_debit", "opening_credit")
    titles += ("period_debit", "period_credit", "closing_debit", "closing_credit")
    columns = tuple(
        Column(word(t, lang), TEXT if i < 2 else MONEY, (10, 26)[i] if i < 2 else 15)
        for i, t in enumerate(titles)
    )
    return Table("trial-balance", word("trial-balance", lang), columns, rows)


BUILDERS = {
    "balance-sheet": balance_sheet,
    "activities": activities,
    "cash-flow": cash_flow,
    "trial-balance": trial_balance,
}
