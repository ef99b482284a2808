"""The one mutation helper (schema/mutations/base.py run) re-runs a use case after a
serialization failure, a deadlock or a unique-key race, and never after a CHECK or
foreign-key violation. The errors are PostgreSQL's own, through the real driver."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from schema.mutations.base import ATTEMPTS, run
from tests.use_cases.world import a_fund


class Flaky:
    """A use case whose first run sends `failing` and whose later runs succeed."""

    def __init__(self, failing: str, params: dict | None = None):
        self.failing, self.params, self.calls = failing, params or {}, 0

    async def __call__(self, cmd, uow):
        self.calls += 1
        async with uow.transaction() as session:
            if self.calls == 1:
                await session.execute(text(self.failing), self.params)
            return f"done {cmd}"


def _raising(state: str) -> str:
    return f"DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '{state}'; END $$"


@pytest.mark.parametrize("state", ["serialization_failure", "deadlock_detected"])
async def test_a_conflict_with_another_transaction_is_run_again(engine, state):
    place = await a_fund(engine)
    use_case = Flaky(_raising(state))
    assert await run(use_case, "cmd", place.uow) == ("done cmd", [])
    assert use_case.calls == 2


async def test_a_unique_key_race_is_run_again_and_reads_the_winner(engine):
    place = await a_fund(engine)
    insert = (
        "INSERT INTO idempotency_keys (key, operation, fingerprint, result_id, created_at) "
        "VALUES ('race', 'op', 'print', 1, now())"
    )
    async with place.uow.transaction() as session:
        await session.execute(text(insert))  # the winner's key
    use_case = Flaky(insert)
    assert await run(use_case, "cmd", place.uow) == ("done cmd", [])
    assert use_case.calls == 2


async def test_a_conflict_that_never_settles_is_raised_after_the_last_attempt(engine):
    place = await a_fund(engine)

    async def always(cmd, uow):
        always.calls += 1
        async with uow.transaction() as session:
            await session.execute(text(_raising("serialization_failure")))

    always.calls = 0
    with pytest.raises(DBAPIError):
        await run(always, "cmd", place.uow)
    assert always.calls == ATTEMPTS


@pytest.mark.parametrize(
    "statement, state",
    [
        # CHECK: a guarded account below zero (ck_guarded_not_negative).
        (
            "UPDATE ledger_accounts SET balance_fen = -1 WHERE fund_id = :fund AND guarded",
            "23514",
        ),
        # Foreign key: a campaign of no fund.
        (
            "INSERT INTO campaigns (fund_id, name, starts_at, created_at) "
            "VALUES (:fund + 1000, 'x', now(), now())",
            "23503",
        ),
    ],
    ids=["check", "foreign-key"],
)
async def test_a_constraint_violation_is_never_run_again(engine, statement, state):
    place = await a_fund(engine)
    use_case = Flaky(statement, {"fund": place.fund})
    with pytest.raises(DBAPIError) as raised:
        await run(use_case, "cmd", place.uow)
    assert raised.value.orig.sqlstate == state
    assert use_case.calls == 1
