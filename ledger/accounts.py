"""The chart of accounts every fund's book is opened with, and the positions people see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

AccountType = Literal["ASSET", "LIABILITY", "NET_ASSETS", "INCOME", "EXPENSE"]
Side = Literal["DEBIT", "CREDIT"]

DEBIT: Side = "DEBIT"
CREDIT: Side = "CREDIT"
SIDES = frozenset({DEBIT, CREDIT})

CASH_ON_HAND = "1001"
BANK = "1002"
ONLINE_CLEARING = "1009.01"
CASH_UNCOUNTED = "1009.09"
IN_KIND = "1201"
PAYABLE = "2209.01"
SUSPENSE = "2209.02"
NET_UNRESTRICTED = "3101"
NET_RESTRICTED = "3102"
INCOME_ONLINE = "4101.01"
INCOME_OFFLINE = "4101.02"
INCOME_IN_KIND = "4101.03"
PROJECT_COSTS = "5101"
MANAGEMENT_COSTS = "5201"
CHANNEL_FEES = "5301"
OVER_SHORT = "5401"


@dataclass(frozen=True)
class AccountSpec:
    code: str
    name: str
    type: AccountType
    normal_side: Side
    guarded: bool = False


CHART: tuple[AccountSpec, ...] = (
    AccountSpec(CASH_ON_HAND, "库存现金 Cash on hand (counted)", "ASSET", DEBIT, True),
    AccountSpec(BANK, "银行存款 Bank", "ASSET", DEBIT, True),
    AccountSpec(ONLINE_CLEARING, "在途资金 Online clearing", "ASSET", DEBIT, True),
    AccountSpec(CASH_UNCOUNTED, "待清点现金 Cash not yet counted", "ASSET", DEBIT, True),
    AccountSpec(IN_KIND, "受赠物资 Donated goods (in-kind)", "ASSET", DEBIT, True),
    AccountSpec(PAYABLE, "应付款项 Payable", "LIABILITY", CREDIT),
    AccountSpec(SUSPENSE, "待查明款项 Unidentified receipts", "LIABILITY", CREDIT),
    AccountSpec(NET_UNRESTRICTED, "非限定性净资产 Unrestricted net assets", "NET_ASSETS", CREDIT),
    AccountSpec(NET_RESTRICTED, "限定性净资产 Restricted net assets", "NET_ASSETS", CREDIT),
    AccountSpec(INCOME_ONLINE, "捐赠收入-线上 Donation income, online", "INCOME", CREDIT),
    AccountSpec(INCOME_OFFLINE, "捐赠收入-线下 Donation income, offline", "INCOME", CREDIT),
    AccountSpec(INCOME_IN_KIND, "捐赠收入-物资 Donation income, in-kind", "INCOME", CREDIT),
    AccountSpec(PROJECT_COSTS, "业务活动成本 Project costs", "EXPENSE", DEBIT),
    AccountSpec(MANAGEMENT_COSTS, "管理费用 Management costs", "EXPENSE", DEBIT),
    AccountSpec(CHANNEL_FEES, "筹资费用-渠道费 Fundraising costs: channel fees", "EXPENSE", DEBIT),
    AccountSpec(OVER_SHORT, "其他费用-现金长短款 Other costs: cash over/short", "EXPENSE", DEBIT),
)

BY_CODE: Mapping[str, AccountSpec] = {spec.code: spec for spec in CHART}
NET_ASSET_CODES = frozenset(s.code for s in CHART if s.type == "NET_ASSETS")
INCOME_CODES = tuple(s.code for s in CHART if s.type == "INCOME")
EXPENSE_CODES = tuple(s.code for s in CHART if s.type == "EXPENSE")


def normal_delta(normal_side: str, side: str, amount_fen: int) -> int:
    """A posting's effect on a balance signed by the account's normal side."""
    return amount_fen if side == normal_side else -amount_fen


@dataclass(frozen=True)
class Positions:
    cash_on_hand: int
    bank: int
    online_clearing: int
    in_kind: int
    total: int
    available: int


def positions(balances_by_code: Mapping[str, int]) -> Positions:
    """What a person sees, from balances signed by normal side (missing codes count as 0)."""

    def b(code: str) -> int:
        return balances_by_code.get(code, 0)

    cash_on_hand = b(CASH_ON_HAND) + b(CASH_UNCOUNTED)
    bank = b(BANK)
    online_clearing = b(ONLINE_CLEARING)
    in_kind = b(IN_KIND)
    return Positions(
        cash_on_hand=cash_on_hand,
        bank=bank,
        online_clearing=online_clearing,
        in_kind=in_kind,
        total=cash_on_hand + bank + online_clearing + in_kind,
        # Money that can still be promised: approved but unpaid items are already spoken for.
        available=bank + cash_on_hand - b(PAYABLE),
    )
