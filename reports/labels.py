"""The reports' wording in Chinese and English: statement lines, column titles, entry
kinds, and the memos the system writes itself. Free text inside a memo (a reason, a
payee, a purpose, a reference) is kept as written."""

from __future__ import annotations

import re
from collections.abc import Callable

LANGS = ("zh", "en")

WORDS: dict[str, tuple[str, str]] = {
    # titles
    "balance-sheet": ("资产负债表", "Balance sheet"),
    "activities": ("业务活动表", "Statement of activities"),
    "cash-flow": ("现金流量表", "Cash flow statement"),
    "trial-balance": ("科目余额表", "Trial balance"),
    "journal": ("记账凭证序时簿", "Journal"),
    "statement": ("收支报告", "Statement"),
    "disclosure": ("募捐活动收支公示", "Public disclosure by campaign"),
    # header block
    "preparer": ("编制单位", "Prepared by"),
    "fund": ("基金", "Fund"),
    "period": ("期间", "Period"),
    "generated": ("生成时间", "Generated at"),
    "unit": ("单位：元", "Unit: yuan (CNY)"),
    "page": ("第 {page} 页 共 {pages} 页", "Page {page} of {pages}"),
    # columns (English as the CSV exports have always named them)
    "item": ("项目", "item"),
    "opening": ("期初数", "opening"),
    "closing": ("期末数", "closing"),
    "unrestricted": ("非限定性", "unrestricted"),
    "restricted": ("限定性", "restricted"),
    "total": ("合计", "total"),
    "amount": ("金额", "amount"),
    "sequence": ("凭证号", "sequence"),
    "effective_at": ("日期", "effective at"),
    "kind": ("类型", "kind"),
    "reference": ("参考号", "reference"),
    "memo": ("摘要", "memo"),
    "account": ("科目代码", "account"),
    "account_name": ("科目名称", "account name"),
    "debit": ("借方", "debit"),
    "credit": ("贷方", "credit"),
    "recorded_by": ("记账人", "recorded by"),
    "opening_debit": ("期初借方", "opening debit"),
    "opening_credit": ("期初贷方", "opening credit"),
    "period_debit": ("本期借方", "period debit"),
    "period_credit": ("本期贷方", "period credit"),
    "closing_debit": ("期末借方", "closing debit"),
    "closing_credit": ("期末贷方", "closing credit"),
    "campaign": ("募捐活动 / 项目", "Campaign / project"),
    "income": ("收入", "Income"),
    "spending": ("支出", "Spending"),
    "surplus": ("结余", "Balance"),
    "no_campaign": ("未指定活动的捐赠", "Gifts to no campaign"),
    "fund_spending": ("基金统筹支出", "Spending of the fund as a whole"),
    # balance sheet
    "bs.assets": ("资产", "Assets"),
    "bs.current_assets": ("流动资产：", "Current assets:"),
    "bs.money": ("货币资金", "Cash and cash equivalents"),
    "bs.cash": ("其中：库存现金", "of which: cash on hand"),
    "bs.bank": ("　　　银行存款", "of which: bank"),
    "bs.clearing": ("　　　其他货币资金（在途）", "of which: online clearing"),
    "bs.inventory": ("存货（受赠物资）", "Inventory (donated goods)"),
    "bs.current_total": ("流动资产合计", "Total current assets"),
    "bs.assets_total": ("资产总计", "Total assets"),
    "bs.liabilities": ("负债", "Liabilities"),
    "bs.payable": ("应付款项", "Payables"),
    "bs.suspense": ("其他应付款（待查明款项）", "Other payables (unidentified receipts)"),
    "bs.liabilities_total": ("负债合计", "Total liabilities"),
    "bs.net_assets": ("净资产", "Net assets"),
    "bs.unrestricted": ("非限定性净资产", "Unrestricted net assets"),
    "bs.restricted": ("限定性净资产", "Restricted net assets"),
    "bs.net_assets_total": ("净资产合计", "Total net assets"),
    "bs.grand_total": ("负债和净资产总计", "Total liabilities and net assets"),
    # statement of activities
    "ac.income": ("一、收入", "I. Income"),
    "ac.donations": ("捐赠收入", "Donation income"),
    "ac.online": ("其中：线上捐赠", "of which: online gifts"),
    "ac.offline": ("　　　线下捐赠", "of which: offline gifts"),
    "ac.in_kind": ("　　　物资捐赠", "of which: gifts in kind"),
    "ac.refunds": ("　　　减：退款", "less: refunds"),
    "ac.income_total": ("收入合计", "Total income"),
    "ac.expenses": ("二、费用", "II. Expenses"),
    "ac.programme": ("（一）业务活动成本", "(1) Programme costs"),
    "ac.management": ("（二）管理费用", "(2) Management costs"),
    "ac.fundraising": ("（三）筹资费用", "(3) Fundraising costs"),
    "ac.other": ("（四）其他费用", "(4) Other costs"),
    "ac.expenses_total": ("费用合计", "Total expenses"),
    "ac.released": (
        "三、限定性净资产转为非限定性净资产",
        "III. Restricted net assets released",
    ),
    "ac.change": ("四、净资产变动额", "IV. Change in net assets"),
    # cash flow
    "cf.operating": ("一、业务活动产生的现金流量：", "I. Cash flows from activities:"),
    "cf.donations": ("接受捐赠收到的现金", "Cash received from donations"),
    "cf.inflow_total": ("现金流入小计", "Total inflows"),
    "cf.grants": ("提供捐赠或者资助支付的现金", "Cash paid for grants and projects"),
    "cf.other_paid": (
        "支付的其他与业务活动有关的现金",
        "Other cash paid for activities",
    ),
    "cf.outflow_total": ("现金流出小计", "Total outflows"),
    "cf.operating_net": (
        "业务活动产生的现金流量净额",
        "Net cash from activities",
    ),
    "cf.investing_net": (
        "二、投资活动产生的现金流量净额",
        "II. Net cash from investing",
    ),
    "cf.financing_net": (
        "三、筹资活动产生的现金流量净额",
        "III. Net cash from financing",
    ),
    "cf.fx": ("四、汇率变动对现金的影响额", "IV. Effect of exchange rates"),
    "cf.net": ("五、现金及现金等价物净增加额", "V. Net increase in cash"),
    "cf.opening": ("加：期初现金及现金等价物余额", "add: cash at the start"),
    "cf.closing": ("六、期末现金及现金等价物余额", "VI. Cash at the end"),
}

KINDS: dict[str, str] = {
    "manual": "手工记账",
    "donation": "捐赠",
    "refund": "退款",
    "settlement": "渠道结算",
    "cash_count": "现金清点",
    "deposit": "现金存入",
    "disbursement_approval": "支出批准",
    "disbursement_payment": "支出付款",
    "suspense": "待查明款项",
    "close": "期末结转",
    "reversal": "冲销",
}
CHANNELS = {
    "ONLINE": "线上",
    "CASH": "现金",
    "CHARITY_SALE": "义卖",
    "BANK_TRANSFER": "银行转账",
    "IN_KIND": "物资",
}
DISBURSEMENT_STEPS = {"approved": "已批准", "paid": "已支付"}


def word(key: str, lang: str) -> str:
    zh, en = WORDS[key]
    return zh if lang == "zh" else en


def kind_label(kind: str, lang: str) -> str:
    return KINDS.get(kind, kind) if lang == "zh" else kind


def account_name(name: str, lang: str) -> str:
    """The chart's names read '库存现金 Cash on hand (counted)': one language's half."""
    zh, _, en = name.partition(" ")
    return (zh if lang == "zh" else en) or name


def _donation(m: re.Match) -> str:
    channel = CHANNELS.get(m["channel"], m["channel"])
    return f"{channel}捐赠" + (f"（参考号 {m['ref']}）" if m["ref"] else "")


def _deposit(m: re.Match) -> str:
    return "现金存入银行" + (f"（银行参考号 {m['ref']}）" if m["ref"] else "")


def _disbursement(m: re.Match) -> str:
    step = DISBURSEMENT_STEPS.get(m["step"], m["step"])
    return f"支出申请 {m['id']} {step}：{m['payee']}，{m['purpose']}"


# The memos the system writes (resolvers/*.py and the rule book's period close).
MEMOS: tuple[tuple[re.Pattern, Callable[[re.Match], str]], ...] = tuple(
    (re.compile(pattern, re.S), render)
    for pattern, render in (
        (
            r"(?P<channel>ONLINE|CASH|CHARITY_SALE|BANK_TRANSFER|IN_KIND) donation(?: (?P<ref>.+))?",
            _donation,
        ),
        (r"refund of donation (?P<id>\d+): (?P<r>.*)", lambda m: f"退还捐赠 {m['id']}：{m['r']}"),
        (r"void of donation (?P<id>\d+): (?P<r>.*)", lambda m: f"作废捐赠 {m['id']}：{m['r']}"),
        (
            r"disbursement (?P<id>\d+) (?P<step>approved|paid): (?P<payee>.*?), (?P<purpose>.*)",
            _disbursement,
        ),
        (
            r"disbursement (?P<id>\d+) cancelled: (?P<r>.*)",
            lambda m: f"撤销支出申请 {m['id']}：{m['r']}",
        ),
        (r"cash count by (?P<names>.*)", lambda m: f"现金清点（清点人：{m['names']}）"),
        (
            r"count (?P<id>\d+) taken back: (?P<r>.*)",
            lambda m: f"撤回现金清点 {m['id']}：{m['r']}",
        ),
        (r"cash deposited(?: \(bank ref (?P<ref>.*)\))?", _deposit),
        (
            r"settlement payout (?P<ref>.*): (?P<n>\d+) donations settled, (?P<lines>\d+) lines",
            lambda m: f"渠道结算到账 {m['ref']}：结算捐赠 {m['n']} 笔，共 {m['lines']} 行",
        ),
        (
            r"unidentified bank receipt (?P<ref>.*) \(statement line (?P<n>\d+)\)",
            lambda m: f"待查明银行收款 {m['ref']}（对账单第 {m['n']} 行）",
        ),
        (
            r"statement import (?P<id>\d+) undone: (?P<r>.*)",
            lambda m: f"撤销对账单导入 {m['id']}：{m['r']}",
        ),
        (
            r"reversal of entry (?P<seq>\d+): (?P<r>.*)",
            lambda m: f"冲销第 {m['seq']} 号凭证：{m['r']}",
        ),
        (
            r"Period close through (?P<day>\d{4}-\d{2}-\d{2})",
            lambda m: f"期末结转（截至 {m['day']}）",
        ),
    )
)


def memo_label(memo: str, lang: str) -> str:
    """A system memo in Chinese under zh; any other memo (typed by a person) as written."""
    if lang != "zh":
        return memo
    for pattern, render in MEMOS:
        m = pattern.fullmatch(memo)
        if m:
            return render(m)
    return memo
