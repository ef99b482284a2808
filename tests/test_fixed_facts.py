"""Migration 0009: what recordDonation remembers per process of funds, campaigns and
partners (resolvers/donation_rows.py) cannot change in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.use_cases.world import a_fund

REFUSED = [
    "UPDATE funds SET code = 'OTHER' WHERE id = :fund",
    "UPDATE funds SET currency = 'USD' WHERE id = :fund",
    "UPDATE funds SET community_id = NULL WHERE id = :fund",
    "UPDATE campaigns SET fund_id = fund_id + 1000 WHERE id = :campaign",
    "UPDATE campaigns SET starts_at = starts_at - interval '1 day' WHERE id = :campaign",
    "UPDATE campaigns SET ends_at = NULL WHERE id = :campaign",
    "DELETE FROM partners WHERE id = :partner",
    "DELETE FROM campaigns WHERE id = :campaign",
    "DELETE FROM funds WHERE id = :fund",
]
ALLOWED = [
    "UPDATE funds SET status = 'FROZEN', name = '改名基金' WHERE id = :fund",
    "UPDATE funds SET code = code, currency = currency WHERE id = :fund",
    "UPDATE campaigns SET name = '改名活动', goal_fen = 100 WHERE id = :campaign",
    "UPDATE campaigns SET starts_at = starts_at WHERE id = :campaign",
    "UPDATE partners SET name = '百花编织社' WHERE id = :partner",
]


def _keys(place) -> dict:
    return {"fund": place.fund, "campaign": place.campaign, "partner": place.partner}


@pytest.mark.parametrize("statement", REFUSED)
async def test_a_remembered_fact_cannot_change(engine, statement):
    place = await a_fund(engine)
    with pytest.raises(DBAPIError) as refused:
        async with place.uow.transaction() as session:
            await session.execute(text(statement), _keys(place))
    assert refused.value.orig.sqlstate == "23001"  # restrict_violation
    assert "cannot change" in str(refused.value.orig)


@pytest.mark.parametrize("statement", ALLOWED)
async def test_what_is_not_remembered_may_change(engine, statement):
    place = await a_fund(engine)
    async with place.uow.transaction() as session:
        result = await session.execute(text(statement), _keys(place))
    assert result.rowcount == 1
