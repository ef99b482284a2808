"""The built-in statement profiles, in the same TOML a user writes (docs/statement-formats.md).

Each layout is its own profile so that a provider's change touches only that one. Kept
as text in a module, not package data, so that every install carries them.
"""

from __future__ import annotations

WECHAT_TRADE = """
title = "WeChat Pay merchant trade bill (微信支付 交易账单)"
kind = "payment-channel"
encodings = ["utf-8-sig", "gb18030"]
strip_prefix = "`"
date_formats = ["%Y-%m-%d %H:%M:%S"]
end_markers = ["总交易单数"]

[columns]
date = "交易时间"
reference = "微信订单号"
amount = "应结订单金额"
fee = "手续费"
category = "交易状态"
counterparty = "用户标识"
memo = ["商品名称", "商户订单号"]

[rows]
lines = ["SUCCESS"]

[summary]
count = "总交易单数"
amount = "应结订单总金额"
fee = "手续费总金额"
"""

WECHAT_FUNDS = """
title = "WeChat Pay merchant fund flow bill (微信支付 资金账单)"
kind = "payment-channel"
encodings = ["utf-8-sig", "gb18030"]
strip_prefix = "`"
date_formats = ["%Y-%m-%d %H:%M:%S"]
end_markers = ["资金流水总笔数"]

[columns]
date = "记账时间"
reference = "微信支付业务单号"
amount = "收支金额（元）"
direction = "收支类型"
balance = "账户结余（元）"
category = "业务类型"
memo = ["备注", "业务名称"]

[direction]
in = ["收入"]
out = ["支出"]

[rows]
lines = ["交易"]
fees = ["手续费"]
payouts = ["提现", "结算"]
"""

ALIPAY = """
title = "Alipay merchant account statement (支付宝 账务明细)"
kind = "payment-channel"
encodings = ["gb18030", "utf-8-sig"]
comment_prefix = "#"
date_formats = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"]

[columns]
date = "发生时间"
reference = "业务流水号"
money_in = "收入金额（+元）"
money_out = "支出金额（-元）"
balance = "账户余额（元）"
category = "业务类型"
counterparty = "对方账号"
memo = ["备注", "商品名称"]

[rows]
lines = ["在线支付", "交易"]
fees = ["服务费", "收费"]
payouts = ["提现"]
skip = ["转账"]
"""

ICBC = """
title = "ICBC enterprise account history (工商银行 历史明细, CSV or XLSX)"
kind = "bank"
newest_first = true  # as ICBC exports it; a balance that checks both ways is ambiguous
thousands_separator = true
date_formats = ["%Y-%m-%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S"]
end_markers = ["合计", "总计"]

[columns]
date = "交易时间"
reference = ["用途", "凭证号"]
money_out = "借方发生额"
money_in = "贷方发生额"
balance = "余额"
counterparty = "对方单位名称"
memo = "摘要"
"""

CCB = """
title = "CCB account transaction details (建设银行 账户明细, XLSX or CSV)"
kind = "bank"
thousands_separator = true
date_formats = ["%Y%m%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y%m%d", "%Y-%m-%d"]
end_markers = ["合计", "总计", "本页合计"]

[columns]
date = "交易时间"
reference = ["备注", "账户明细编号-交易流水号"]
money_out = "借方发生额（支取）"
money_in = "贷方发生额（存入）"
balance = "余额"
counterparty = "对方户名"
memo = "摘要"
"""

BOC = """
title = "Bank of China transaction details (中国银行 交易明细, GBK CSV)"
kind = "bank"
thousands_separator = true
date_formats = ["%Y%m%d", "%Y-%m-%d", "%Y/%m/%d"]
end_markers = ["合计"]

[columns]
date = "交易日期"
reference = ["附言", "交易流水号"]
amount = "交易金额"
direction = "借贷标识"
balance = "交易后余额"
counterparty = "对方户名"
memo = "摘要"

[direction]
in = ["贷", "C", "来账"]
out = ["借", "D", "往账"]
"""

ABC = """
title = "Agricultural Bank of China account details (农业银行 账户明细, signed amounts)"
kind = "bank"
thousands_separator = true
date_formats = ["%Y%m%d", "%Y-%m-%d"]
end_markers = ["合计"]

[columns]
date = "交易日期"
reference = ["交易用途", "交易流水号"]
amount = "交易金额"
balance = "本次余额"
counterparty = "对方户名"
memo = "摘要"
"""

BUILTIN_PROFILES: tuple[tuple[str, str], ...] = (
    ("wechat-trade", WECHAT_TRADE),
    ("wechat-funds", WECHAT_FUNDS),
    ("alipay", ALIPAY),
    ("icbc", ICBC),
    ("ccb", CCB),
    ("boc", BOC),
    ("abc", ABC),
)
