"""The pure parts: the chart of accounts and the positions people see."""

from __future__ import annotations

import dataclasses

import pytest

from ledger import accounts
from ledger.accounts import CHART, Positions, positions

DOMAIN_CHART = {  # domain.md: code -> (type, normal side)
    "1001": ("ASSET", "DEBIT"),
    "1002": ("ASSET", "DEBIT"),
    "1009.01": ("ASSET", "DEBIT"),
    "1009.09": ("ASSET", "DEBIT"),
    "1201": ("ASSET", "DEBIT"),
    "2209.01": ("LIABILITY", "CREDIT"),
    "2209.02": ("LIABILITY", "CREDIT"),
    "3101": ("NET_ASSETS", "CREDIT"),
    "3102": ("NET_ASSETS", "CREDIT"),
    "4101.01": ("INCOME", "CREDIT"),
    "4101.02": ("INCOME", "CREDIT"),
    "4101.03": ("INCOME", "CREDIT"),
    "5101": ("EXPENSE", "DEBIT"),
    "5201": ("EXPENSE", "DEBIT"),
    "5301": ("EXPENSE", "DEBIT"),
    "5401": ("EXPENSE", "DEBIT"),
}


def test_chart_matches_the_domain():
    assert {s.code: (s.type, s.normal_side) for s in CHART} == DOMAIN_CHART
    assert len(CHART) == len(DOMAIN_CHART)
    assert {s.code for s in CHART if s.guarded} == {"1001", "1002", "1009.01", "1009.09", "1201"}
    assert accounts.CASH_UNCOUNTED == "1009.09" and accounts.NET_RESTRICTED == "3102"


def test_positions():
    got = positions(
        {"1001": 100, "1009.09": 20, "1002": 1000, "1009.01": 7, "1201": 50, "2209.01": 300}
    )
    assert got == Positions(
        cash_on_hand=120, bank=1000, online_clearing=7, in_kind=50, total=1177, available=820
    )
    assert positions({}).available == 0


def test_positions_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        positions({}).bank = 1  # type: ignore[misc]
