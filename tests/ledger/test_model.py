"""The differential test of the rule book: a Hypothesis state machine runs one random
sequence of entries (some back-dated), reversals and period closes both through the
ledger (PostgreSQL, ledger/sql/ledger.sql) and through a small reference model written
here from the rules as domain.md states them. After every step the two must agree on
balances, on which requests were refused and why, and on every entry's hash (the model
computes it with the specification's encoder, tests/ledger/test_hash.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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

from db.engine import make_engine
from db.uow import read_session, unit_of_work
from ledger.accounts import CHART, EXPENSE_CODES, INCOME_CODES, positions
from ledger.errors import (
    InsufficientFunds,
    InvalidEntry,
    InvalidState,
    LedgerError,
    PeriodClosed,
    UnbalancedEntry,
)
from ledger.reports import trial_balance, verify_journal
from ledger.store import account_balances, close_period, post_entry, reverse_entry
from tests.ledger.conftest import cr, dr, new_fund, sums_of_postings
from tests.ledger.test_hash import specified_hash

TZ = ZoneInfo("Asia/Shanghai")
CODES = [spec.code for spec in CHART if spec.type != "NET_ASSETS"]
GUARDED = {spec.code for spec in CHART if spec.guarded}
NORMAL = {spec.code: spec.normal_side for spec in CHART}
amounts = st.integers(min_value=1, max_value=5_000)
days_back = st.sampled_from([0, 0, 0, 1, 2, 3])


@dataclass
class Entry:
    id: int
    at: datetime
    lines: list[tuple[str, str, int]]
    kind: str = "manual"
    reverses: int | None = None


@dataclass
class Model:
    """The rules, restated plainly: balances are sums of postings up to an instant."""

    entries: list[Entry] = field(default_factory=list)
    open_from: datetime | None = None
    closed_through: date | None = None
    last_hash: str | None = None

    def balances_at(self, at: datetime | None = None) -> dict[str, int]:
        out = {spec.code: 0 for spec in CHART}
        for entry in self.entries:
            if at is None or entry.at <= at:
                for code, side, amount in entry.lines:
                    out[code] += amount if side == NORMAL[code] else -amount
        return out

    def refusal(self, lines, at: datetime) -> type[LedgerError] | None:
        """The refusal the rules call for, checked in the order the rule book checks."""
        if self.open_from is not None and at < self.open_from:
            return PeriodClosed
        trial = Model([*self.entries, Entry(0, at, lines)])
        instants = [at, *sorted(e.at for e in self.entries if e.at > at)]
        for instant in instants:
            if any(trial.balances_at(instant)[code] < 0 for code in GUARDED):
                return InsufficientFunds
        was, now = positions(self.balances_at()).available, positions(trial.balances_at()).available
        if now < 0 and now < was:
            return InsufficientFunds
        return None

    def reversal_refusal(self, target: Entry, at: datetime) -> type[LedgerError] | None:
        if target.reverses is not None or any(e.reverses == target.id for e in self.entries):
            return InvalidState
        if self.open_from is not None and (target.at < self.open_from or at < self.open_from):
            return PeriodClosed
        return self.refusal(mirror(target.lines), at)

    def closing_lines(self, at: datetime) -> list[tuple[str, str, int]]:
        balances = self.balances_at(at)
        lines, net = [], 0
        for code in sorted(INCOME_CODES + EXPENSE_CODES):
            balance = balances[code]
            if balance:
                income = code in INCOME_CODES
                side = "DEBIT" if income == (balance > 0) else "CREDIT"
                lines.append((code, side, abs(balance)))
                net += balance if income else -balance
        if net:
            lines.append(("3101", "CREDIT" if net > 0 else "DEBIT", abs(net)))
        return lines


def mirror(lines):
    return [(c, "CREDIT" if s == "DEBIT" else "DEBIT", a) for c, s, a in lines]


def machine_for(runner: asyncio.Runner, engine):
    run = runner.run

    class LedgerMachine(RuleBasedStateMachine):
        entries = Bundle("entries")

        def __init__(self):
            super().__init__()
            self.fund_id = run(new_fund(engine))  # a fresh fund per example
            self.model = Model()
            self.now = datetime.now(UTC)

        def instant(self, days: int) -> datetime:
            return self.now - timedelta(days=days, minutes=days)

        def record(self, posted, lines, kind="manual", reverses=None) -> Entry:
            """The engine's entry must be the model's next: sequence and hash."""
            model = self.model
            assert posted.sequence == len(model.entries) + 1
            assert posted.previous_hash == model.last_hash
            assert posted.hash == specified_hash(
                {
                    "fund_id": self.fund_id,
                    "sequence": posted.sequence,
                    "effective_at": posted.effective_at,
                    "recorded_at": posted.recorded_at,
                    "recorded_by": posted.recorded_by,
                    "memo": posted.memo,
                    "kind": kind,
                    "reference": None,
                    "reverses_id": reverses,
                    "postings": [(c, s, a, "CNY") for c, s, a in lines],
                    "previous_hash": model.last_hash,
                }
            )
            entry = Entry(posted.id, posted.effective_at, lines, kind, reverses)
            model.entries.append(entry)
            model.last_hash = posted.hash
            return entry

        async def _post(self, lines, at):
            postings = [dr(c, a) if s == "DEBIT" else cr(c, a) for c, s, a in lines]
            async with unit_of_work(engine) as session:
                return await post_entry(
                    session,
                    self.fund_id,
                    postings,
                    memo="random",
                    recorded_by="hypothesis",
                    effective_at=at,
                )

        def attempt(self, lines, days):
            at = self.instant(days)
            expected = self.model.refusal(lines, at)
            try:
                posted = run(self._post(lines, at))
            except LedgerError as refused:
                assert type(refused) is expected, (lines, days, refused)
                return multiple()
            assert expected is None, (lines, days)
            return self.record(posted, lines)

        @rule(
            target=entries,
            debit=st.sampled_from(CODES),
            credit=st.sampled_from(CODES),
            amount=amounts,
            days=days_back,
        )
        def transfer(self, debit, credit, amount, days):
            return self.attempt([(debit, "DEBIT", amount), (credit, "CREDIT", amount)], days)

        @rule(
            target=entries,
            debits=st.lists(st.tuples(st.sampled_from(CODES), amounts), min_size=2, max_size=3),
            credit=st.sampled_from(CODES),
            days=days_back,
        )
        def split(self, debits, credit, days):
            lines = [(code, "DEBIT", amount) for code, amount in debits]
            return self.attempt([*lines, (credit, "CREDIT", sum(a for _, a in debits))], days)

        @rule(
            target=entries,
            amount=st.integers(min_value=1, max_value=20_000),
            source=st.sampled_from(sorted(GUARDED)),
            days=days_back,
        )
        def guarded_withdrawal(self, amount, source, days):
            """Often more than the account holds, now or at some instant since."""
            return self.attempt([("5101", "DEBIT", amount), (source, "CREDIT", amount)], days)

        @rule(
            target=entries,
            amount=st.integers(min_value=1, max_value=5_000),
            source=st.sampled_from(sorted(GUARDED)),
            days=st.integers(min_value=1, max_value=3),
        )
        def back_dated_withdrawal(self, amount, source, days):
            """Money that came in only later may not be spent before it came."""
            return self.attempt([("5201", "DEBIT", amount), (source, "CREDIT", amount)], days)

        @rule(target=entries, entry=entries)
        def reverse(self, entry):
            # Dated as the model dates it: left to the ledger's clock, a reversal would
            # fall after entries the model places later (a reversal of a withdrawal
            # dated by that clock), and the two would judge different instants.
            at = self.instant(0)
            expected = self.model.reversal_refusal(entry, at)

            async def go():
                async with unit_of_work(engine) as session:
                    return await reverse_entry(
                        session, entry.id, memo="undo", recorded_by="hypothesis", effective_at=at
                    )

            try:
                posted = run(go())
            except LedgerError as refused:
                assert type(refused) is expected, (entry, refused)
                return multiple()
            assert expected is None, entry
            return self.record(posted, mirror(entry.lines), "reversal", entry.id)

        @rule(days=st.integers(min_value=1, max_value=3))
        def close(self, days):
            through = (self.now.astimezone(TZ) - timedelta(days=days)).date()
            open_from = datetime.combine(through + timedelta(days=1), time(0), TZ)
            model = self.model
            refused = model.closed_through is not None and through <= model.closed_through
            lines = [] if refused else model.closing_lines(open_from - timedelta(microseconds=1))

            async def go():
                async with unit_of_work(engine) as session:
                    return await close_period(
                        session, self.fund_id, through, tz=TZ, recorded_by="hypothesis"
                    )

            try:
                posted = run(go())
            except InvalidState:
                assert refused
                return
            assert not refused
            assert (posted is None) == (not lines)
            if posted is not None:
                self.record(posted, lines, "close")
            model.closed_through, model.open_from = through, open_from.astimezone(UTC)

        @rule(debit=st.sampled_from(CODES), credit=st.sampled_from(CODES), amount=amounts)
        def unbalanced(self, debit, credit, amount):
            try:
                run(self._post([(debit, "DEBIT", amount + 1), (credit, "CREDIT", amount)], None))
            except UnbalancedEntry:
                return
            raise AssertionError("an unbalanced entry was accepted")

        @rule(code=st.sampled_from(["3101", "3102"]), amount=amounts)
        def net_assets_move_only_by_close(self, code, amount):
            try:
                run(self._post([(code, "DEBIT", amount), ("1002", "CREDIT", amount)], None))
            except InvalidEntry:
                return
            raise AssertionError("a manual entry moved net assets")

        @invariant()
        def ledger_agrees_with_the_model(self):
            run(self._check())

        async def _check(self):
            async with read_session(engine) as session:
                stored = await account_balances(session, self.fund_id)
                assert stored == self.model.balances_at()
                tb = await trial_balance(session, self.fund_id)
                assert tb.balanced and tb.total_debit == tb.total_credit
                verification = await verify_journal(session, self.fund_id)
                assert verification.ok, verification
                assert verification.entries_checked == len(self.model.entries)
            assert await sums_of_postings(engine, self.fund_id) == stored

    return LedgerMachine


def _run(url: str) -> None:
    # Hypothesis drives synchronous rules; they run the ledger on this thread's own loop.
    with asyncio.Runner() as runner:
        engine = make_engine(url)
        try:
            run_state_machine_as_test(
                machine_for(runner, engine),
                settings=settings(
                    max_examples=25,
                    stateful_step_count=25,
                    deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            runner.run(engine.dispose())


async def test_the_rule_book_agrees_with_the_reference_model(db_url):
    await asyncio.to_thread(_run, db_url)


def _replay_found(url: str) -> None:
    with asyncio.Runner() as runner:
        engine = make_engine(url)
        try:
            state = machine_for(runner, engine)()
            deposit = state.split(credit="2209.02", days=0, debits=[("1001", 1), ("1001", 1)])
            withdrawal = state.guarded_withdrawal(amount=1, days=0, source="1001")
            state.reverse(entry=withdrawal)
            state.reverse(entry=deposit)
            state.ledger_agrees_with_the_model()
            state.teardown()
        finally:
            runner.run(engine.dispose())


async def test_a_deposit_reversed_after_the_reversal_of_its_withdrawal(db_url):
    """A sequence the machine found when the test left reversals to the ledger's clock
    while the model dated them at its own instant: the two then judged the guard at
    different instants. Both now date a reversal alike, and agree."""
    await asyncio.to_thread(_replay_found, db_url)
