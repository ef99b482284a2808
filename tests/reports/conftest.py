"""A small hand-built ledger for March 2025 where every figure is known: each entry is
posted through the ledger itself (ledger/store.py), in the order of its date, with a
period close before the month and one inside it.

The expected figures (fen) are worked out by hand in EXPECTED, not by the code under
test; docs/reports.md shows the same worked example."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from db.models import FundRow
from db.uow import unit_of_work
from ledger.entries import PostingSpec
from ledger.store import close_period, open_book, post_entry

TZ = ZoneInfo("Asia/Shanghai")
START, END = date(2025, 3, 1), date(2025, 3, 31)
LONG_MEMO = (
    "向困难家庭发放受赠大米与食用油，共计二十户，每户大米一袋、食用油一桶，"
    "由网格员入户登记并签收，签收单存档于社区居委会（第三网格、第五网格各十户）。END-OF-MEMO"
)
PAYEE = "郑州市中原区惠民超市有限公司"
PURPOSE = "邻居节独居老人慰问品采购：牛奶、挂面、食用油与保暖护膝，按网格名单分装配送到户"
_codes = itertools.count(1)


def dr(code: str, fen: int) -> PostingSpec:
    return PostingSpec(code, "DEBIT", fen)


def cr(code: str, fen: int) -> PostingSpec:
    return PostingSpec(code, "CREDIT", fen)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=TZ)


# (when, kind, memo, postings); a "close" closes the books through the day `when`.
HISTORY = [
    (
        at(2, 10),
        "donation",
        "BANK_TRANSFER donation BT-0",
        [dr("1002", 100000), cr("4101.02", 100000)],
    ),
    (date(2025, 2, 28), "close", None, None),
    (at(3, 2), "donation", "ONLINE donation WX-1", [dr("1009.01", 50000), cr("4101.01", 50000)]),
    (at(3, 3), "donation", "CASH donation", [dr("1009.09", 30000), cr("4101.02", 30000)]),
    (at(3, 4), "donation", "IN_KIND donation", [dr("1201", 20000), cr("4101.03", 20000)]),
    (
        at(3, 5),
        "cash_count",
        "cash count by 王芳, 李强",
        [dr("1001", 29850), dr("5401", 150), cr("1009.09", 30000)],
    ),
    (
        at(3, 6),
        "deposit",
        "cash deposited (bank ref DEP-1)",
        [dr("1002", 29850), cr("1001", 29850)],
    ),
    (
        at(3, 10),
        "settlement",
        "settlement payout P-1: 1 donations settled, 1 lines",
        [dr("1002", 39760), dr("5301", 240), cr("1009.01", 40000)],
    ),
    (
        at(3, 12),
        "disbursement_approval",
        f"disbursement 1 approved: {PAYEE}, {PURPOSE}",
        [dr("5101", 20000), cr("2209.01", 20000)],
    ),
    (
        at(3, 14),
        "disbursement_payment",
        f"disbursement 1 paid: {PAYEE}, {PURPOSE}",
        [dr("2209.01", 20000), cr("1002", 20000)],
    ),
    (date(2025, 3, 15), "close", None, None),
    (
        at(3, 16),
        "refund",
        "refund of donation 9: 捐赠人要求退回",
        [dr("4101.02", 5000), cr("1002", 5000)],
    ),
    (at(3, 18), "manual", LONG_MEMO, [dr("5101", 8000), cr("1201", 8000)]),
    (
        at(3, 20),
        "disbursement_approval",
        "disbursement 2 approved: 社区老年食堂, 三月助餐补贴",
        [dr("5101", 60000), cr("2209.01", 60000)],
    ),
    (
        at(3, 21),
        "suspense",
        "unidentified bank receipt B-77 (statement line 4)",
        [dr("1002", 7000), cr("2209.02", 7000)],
    ),
    (at(3, 22), "manual", "=托管机构管理费", [dr("5201", 1000), cr("1002", 1000)]),
    (
        at(3, 31, 23, 59),
        "donation",
        "BANK_TRANSFER donation BT-9",
        [dr("1002", 1234), cr("4101.02", 1234)],
    ),
    (
        at(4, 1, 0, 0),
        "donation",
        "BANK_TRANSFER donation BT-10",
        [dr("1002", 999), cr("4101.02", 999)],
    ),
    (
        at(4, 2),
        "disbursement_payment",
        "disbursement 2 paid: 社区老年食堂, 三月助餐补贴",
        [dr("2209.01", 60000), cr("1002", 60000)],
    ),
]

# Worked by hand from HISTORY (see docs/reports.md): March 2025.
EXPECTED = {
    "opening_cash": 100000,
    "closing_cash": 161844,  # bank 151844 + online clearing 10000
    "closing_bank": 151844,
    "closing_clearing": 10000,
    "closing_inventory": 12000,
    "closing_payable": 60000,
    "closing_suspense": 7000,
    "opening_net_assets": 100000,
    "closing_net_assets": 106844,
    "income": 96234,  # 50000 online + 26234 offline (30000 - 5000 + 1234) + 20000 in kind
    "programme": 88000,
    "management": 1000,
    "fundraising": 240,
    "other": 150,
    "expenses": 89390,
    "change": 6844,
    "cash_received": 83234,  # 50000 + 26234 + 7000 unidentified
    "cash_grants": 20000,  # the one disbursement paid in March
    "cash_other": 1390,
    "bank_debits": 77844,  # 29850 + 39760 + 7000 + 1234
    "bank_credits": 26000,  # 20000 + 5000 + 1000
}


@dataclass(frozen=True)
class Book:
    fund: FundRow
    restricted: bool


async def build_book(engine, *, restricted: bool = False) -> Book:
    async with unit_of_work(engine) as session:
        fund = FundRow(
            code=f"RPT{next(_codes)}",
            name="儿童公园社区慈善基金",
            level="COMMUNITY",
            host="郑州市慈善总会",
        )
        session.add(fund)
        await session.flush()
        await open_book(session, fund.id, restricted=restricted)
        fund_id = fund.id
    for when, kind, memo, postings in HISTORY:
        async with unit_of_work(engine) as session:
            if kind == "close":
                await close_period(session, fund_id, when, tz=TZ, recorded_by="会计")
            else:
                await post_entry(
                    session,
                    fund_id,
                    postings,
                    memo=memo,
                    recorded_by="会计",
                    kind=kind,
                    effective_at=when,
                )
    async with unit_of_work(engine) as session:
        fund = await session.get(FundRow, fund_id)
    return Book(fund, restricted)


@pytest.fixture
async def book(engine) -> Book:
    return await build_book(engine)
