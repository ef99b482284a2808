"""The statements' figures, to the fen, on the hand-built ledger of conftest.py."""

from __future__ import annotations

from db.uow import read_session
from reports import statutory
from reports.figures import read_figures
from tests.reports.conftest import END, EXPECTED, START, TZ, build_book

E = EXPECTED


async def figures_of(engine, book):
    async with read_session(engine) as session:
        return await read_figures(session, book.fund.id, START, END, TZ)


def lines(table) -> dict[str, tuple]:
    return {row.cells[0]: row.cells[1:] for row in table.rows}


async def test_balance_sheet(engine, book):
    bs = lines(statutory.balance_sheet(await figures_of(engine, book), "zh"))
    assert bs["货币资金"] == (E["opening_cash"], E["closing_cash"])
    assert bs["　　　银行存款"] == (100000, E["closing_bank"])
    assert bs["　　　其他货币资金（在途）"] == (0, E["closing_clearing"])
    assert bs["其中：库存现金"] == (0, 0)
    assert bs["存货（受赠物资）"] == (0, E["closing_inventory"])
    assert bs["资产总计"] == (100000, E["closing_cash"] + E["closing_inventory"])
    assert bs["应付款项"] == (0, E["closing_payable"])
    assert bs["其他应付款（待查明款项）"] == (0, E["closing_suspense"])
    assert bs["非限定性净资产"] == (E["opening_net_assets"], E["closing_net_assets"])
    assert bs["限定性净资产"] == (0, 0)
    assert bs["负债和净资产总计"] == bs["资产总计"]
    assert bs["流动资产："] == (None, None)  # a section heading carries no figures


async def test_activities_of_an_unrestricted_fund(engine, book):
    ac = lines(statutory.activities(await figures_of(engine, book), "zh"))
    assert ac["捐赠收入"] == (E["income"], 0, E["income"])
    assert ac["其中：线上捐赠"] == (50000, 0, 50000)
    assert ac["　　　线下捐赠"] == (31234, 0, 31234)
    assert ac["　　　减：退款"] == (5000, 0, 5000)
    assert ac["（一）业务活动成本"] == (E["programme"], 0, E["programme"])
    assert ac["（二）管理费用"] == (E["management"], 0, E["management"])
    assert ac["（三）筹资费用"] == (E["fundraising"], 0, E["fundraising"])
    assert ac["（四）其他费用"] == (E["other"], 0, E["other"])
    assert ac["费用合计"] == (E["expenses"], 0, E["expenses"])
    assert ac["三、限定性净资产转为非限定性净资产"] == (0, 0, 0)
    assert ac["四、净资产变动额"] == (E["change"], 0, E["change"])


async def test_activities_of_a_restricted_fund(engine):
    book = await build_book(engine, restricted=True)
    f = await figures_of(engine, book)
    ac = lines(statutory.activities(f, "zh"))
    assert ac["收入合计"] == (0, E["income"], E["income"])
    assert ac["费用合计"] == (E["expenses"], 0, E["expenses"])
    released = ac["三、限定性净资产转为非限定性净资产"]
    assert released == (E["expenses"], -E["expenses"], 0)
    assert ac["四、净资产变动额"] == (0, E["change"], E["change"])
    bs = lines(statutory.balance_sheet(f, "zh"))
    assert bs["限定性净资产"] == (E["opening_net_assets"], E["closing_net_assets"])
    assert bs["非限定性净资产"] == (0, 0)


async def test_cash_flow(engine, book):
    cf = lines(statutory.cash_flow(await figures_of(engine, book), "zh"))
    assert cf["接受捐赠收到的现金"] == (E["cash_received"],)
    assert cf["提供捐赠或者资助支付的现金"] == (E["cash_grants"],)
    assert cf["支付的其他与业务活动有关的现金"] == (E["cash_other"],)
    net = E["closing_cash"] - E["opening_cash"]
    assert cf["业务活动产生的现金流量净额"] == (net,)
    assert cf["五、现金及现金等价物净增加额"] == (net,)
    assert cf["加：期初现金及现金等价物余额"] == (E["opening_cash"],)
    assert cf["六、期末现金及现金等价物余额"] == (E["closing_cash"],)


async def test_the_statements_agree_with_each_other(engine, book):
    f = await figures_of(engine, book)
    bs = lines(statutory.balance_sheet(f, "en"))
    ac = lines(statutory.activities(f, "en"))
    cf = lines(statutory.cash_flow(f, "en"))
    opening, closing = bs["Total net assets"]
    assert closing - opening == ac["IV. Change in net assets"][2]
    money_opening, money_closing = bs["Cash and cash equivalents"]
    assert money_closing - money_opening == cf["V. Net increase in cash"][0]


async def test_trial_balance(engine, book):
    tb = statutory.trial_balance(await figures_of(engine, book), "zh")
    rows = {row.cells[0]: row.cells for row in tb.rows}
    bank = rows["1002"]
    assert bank[1] == "银行存款"
    assert bank[2:] == (100000, 0, E["bank_debits"], E["bank_credits"], E["closing_bank"], 0)
    assert rows["2209.01"][2:] == (0, 0, 20000, 80000, 0, E["closing_payable"])
    total = rows["合计"]
    assert total[2] == total[3] and total[4] == total[5] and total[6] == total[7]
    assert tb.rows[-1].style == "total"


async def test_a_period_before_anything_is_all_zero(engine, book):
    async with read_session(engine) as session:
        from datetime import date

        f = await read_figures(session, book.fund.id, date(2024, 1, 1), date(2024, 12, 31), TZ)
    for table in (statutory.balance_sheet(f, "zh"), statutory.cash_flow(f, "zh")):
        assert {v for row in table.rows for v in row.cells[1:]} <= {0, None}
