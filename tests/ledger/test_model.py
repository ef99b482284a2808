"""A Hypothesis state machine drives random entries, reversals and guarded withdrawals
against a plain in-memory model, on every backend, checking the ledger's invariants
after each step."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from db.engine import make_engine
from db.uow import read_session, unit_of_work
from ledger.accounts import CHART, positions
from ledger.errors import InsufficientFunds, InvalidState, UnbalancedEntry
from ledger.reports import trial_balance, verify_journal
from ledger.store import account_balances, post_entry, reverse_entry
from ledger.tables import EntryRow
from tests.ledger.conftest import cr, dr, new_fund, sums_of_postings

CODES = [spec.code for spec in CHART if spec.type != "NET_ASSETS"]
GUARDED = {spec.code for spec in CHART if spec.guarded}
NORMAL = {spec.code: spec.normal_side for spec in CHART}
amounts = st.integers(min_value=1, max_value=5_000)


def machine_for(runner: asyncio.Runner, engine):
    run = runner.run

    class LedgerMachine(RuleBasedStateMachine):
        entries = Bundle("entries")

        def __init__(self):
            super().__init__()
            self.fund_id = run(new_fund(engine))  # a fresh fund per example
            self.model = {spec.code: 0 for spec in CHART}
            self.lines: dict[int, list[tuple[str, str, int]]] = {}
            self.reversed: set[int] = set()
            self.reversals: set[int] = set()
            self.count = 0

        # -- the model

        def apply(self, lines, *, keep_available=False):
            after = dict(self.model)
            for code, side, amount in lines:
                after[code] += amount if side == NORMAL[code] else -amount
            if any(after[code] < 0 for code in GUARDED):
                return None
            if keep_available:
                was, now = positions(self.model).available, positions(after).available
                if now < 0 and now < was:
                    return None
            return after

        async def _post(self, lines):
            postings = [dr(c, a) if s == "DEBIT" else cr(c, a) for c, s, a in lines]
            async with unit_of_work(engine) as session:
                return await post_entry(
                    session, self.fund_id, postings, memo="random", recorded_by="hypothesis"
                )

        def attempt(self, lines):
            expected = self.apply(lines)
            try:
                entry = run(self._post(lines))
            except InsufficientFunds:
                assert expected is None, lines
                return multiple()
            assert expected is not None, lines
            self.model = expected
            self.lines[entry.id] = lines
            self.count += 1
            assert entry.sequence == self.count
            return entry.id

        # -- rules

        @rule(
            target=entries,
            debit=st.sampled_from(CODES),
            credit=st.sampled_from(CODES),
            amount=amounts,
        )
        def transfer(self, debit, credit, amount):
            return self.attempt([(debit, "DEBIT", amount), (credit, "CREDIT", amount)])

        @rule(
            target=entries,
            debits=st.lists(st.tuples(st.sampled_from(CODES), amounts), min_size=2, max_size=3),
            credit=st.sampled_from(CODES),
        )
        def split(self, debits, credit):
            lines = [(code, "DEBIT", amount) for code, amount in debits]
            return self.attempt([*lines, (credit, "CREDIT", sum(a for _, a in debits))])

        @rule(
            target=entries,
            amount=st.integers(min_value=1, max_value=20_000),
            source=st.sampled_from(sorted(GUARDED)),
        )
        def guarded_withdrawal(self, amount, source):
            """Often more than the account holds: must be refused exactly then."""
            return self.attempt([("5101", "DEBIT", amount), (source, "CREDIT", amount)])

        @rule(entry_id=entries)
        def reverse(self, entry_id):
            mirrored = [
                (code, "CREDIT" if side == "DEBIT" else "DEBIT", amount)
                for code, side, amount in self.lines[entry_id]
            ]
            refused_state = entry_id in self.reversed or entry_id in self.reversals
            expected = None if refused_state else self.apply(mirrored, keep_available=True)

            async def go():
                async with unit_of_work(engine) as session:
                    return await reverse_entry(
                        session, entry_id, memo="undo", recorded_by="hypothesis"
                    )

            try:
                entry = run(go())
            except InvalidState:
                assert refused_state
                return
            except InsufficientFunds:
                assert not refused_state and expected is None
                return
            assert expected is not None
            self.model = expected
            self.reversed.add(entry_id)
            self.reversals.add(entry.id)
            self.lines[entry.id] = mirrored
            self.count += 1

        @rule(debit=st.sampled_from(CODES), credit=st.sampled_from(CODES), amount=amounts)
        def unbalanced(self, debit, credit, amount):
            try:
                run(self._post([(debit, "DEBIT", amount + 1), (credit, "CREDIT", amount)]))
            except UnbalancedEntry:
                return
            raise AssertionError("an unbalanced entry was accepted")

        # -- invariants

        @invariant()
        def ledger_is_consistent(self):
            run(self._check())

        async def _check(self):
            stored = await _balances(engine, self.fund_id)
            assert stored == self.model
            assert await sums_of_postings(engine, self.fund_id) == stored
            assert all(stored[code] >= 0 for code in GUARDED)
            async with read_session(engine) as session:
                tb = await trial_balance(session, self.fund_id)
                assert tb.balanced and tb.total_debit == tb.total_credit
                verification = await verify_journal(session, self.fund_id)
                assert verification.ok, verification
                assert verification.entries_checked == self.count
                sequences = (
                    await session.scalars(
                        select(EntryRow.sequence)
                        .where(EntryRow.fund_id == self.fund_id)
                        .order_by(EntryRow.sequence)
                    )
                ).all()
                assert sequences == list(range(1, self.count + 1))

    return LedgerMachine


async def _balances(engine, fund_id):
    async with read_session(engine) as session:
        return await account_balances(session, fund_id)


def _run(url: str) -> None:
    # Hypothesis drives synchronous rules; they run the ledger on this thread's own loop.
    with asyncio.Runner() as runner:
        engine = make_engine(url)
        try:
            run_state_machine_as_test(
                machine_for(runner, engine),
                settings=settings(
                    max_examples=12,
                    stateful_step_count=15,
                    deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            runner.run(engine.dispose())


async def test_ledger_matches_a_plain_model(db_url):
    await asyncio.to_thread(_run, db_url)
