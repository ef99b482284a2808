"""A Hypothesis state machine drives a running `jinlin serve` (two workers, PostgreSQL,
real HTTP) through random sequences of every money operation: donations on every
channel, refunds, voids, cash counts and deposits and their reversal, disbursements
requested, approved, paid, their payments taken back and cancelled, settlement imports
and their undoing, manual entries and reversals, freezing and reopening, and concurrent
bursts. After every step the audit (db/audit.py) and verify-journal hold; after every
refusal, nothing was written."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from db.audit import audit_fund
from db.engine import make_engine
from db.uow import read_session
from ledger.reports import verify_journal
from ledger.tables import EntryRow
from resolvers.ids import parse_global_id
from tests.faults.harness import ScratchDatabase, Server, create_users, gql, login, open_funds

pytestmark = pytest.mark.slow
_keys = itertools.count()
amounts = st.integers(min_value=1, max_value=3_000).map(lambda f: f"{f // 100}.{f % 100:02d}")
CHANNELS = ["ONLINE", "CASH", "CHARITY_SALE", "BANK_TRANSFER", "IN_KIND"]


def key(tag: str) -> str:
    return f"{tag}-{next(_keys)}"


MUTATIONS = {
    "donate": "mutation($i:RecordDonationInput!){recordDonation(input:$i){donation{id} errors{code}}}",
    "refund": "mutation($i:RefundDonationInput!){refundDonation(input:$i){donation{id} errors{code}}}",
    "void": "mutation($i:VoidDonationInput!){voidDonation(input:$i){donation{id} errors{code}}}",
    "count": "mutation($i:RecordCashCountInput!){recordCashCount(input:$i){cashCount{id} errors{code}}}",
    "uncount": "mutation($i:ReverseCashCountInput!){reverseCashCount(input:$i){cashCount{id} errors{code}}}",
    "deposit": "mutation($i:DepositCashInput!){depositCash(input:$i){journalEntry{id} errors{code}}}",
    "undeposit": "mutation($i:ReverseCashDepositInput!){reverseCashDeposit(input:$i){journalEntry{id} errors{code}}}",
    "request": "mutation($i:RequestDisbursementInput!){requestDisbursement(input:$i){disbursement{id} errors{code}}}",
    "approve": "mutation($i:DecideDisbursementInput!){approveDisbursement(input:$i){disbursement{id} errors{code}}}",
    "pay": "mutation($i:DecideDisbursementInput!){payDisbursement(input:$i){disbursement{id} errors{code}}}",
    "cancel": "mutation($i:CancelDisbursementInput!){cancelDisbursement(input:$i){disbursement{id} errors{code}}}",
    "unpay": "mutation($i:ReverseDisbursementPaymentInput!){reverseDisbursementPayment(input:$i){disbursement{id} errors{code}}}",
    "import": "mutation($i:ImportStatementInput!){importStatement(input:$i){statementImport{id} errors{code}}}",
    "undo": "mutation($i:UndoStatementImportInput!){undoStatementImport(input:$i){statementImport{id} errors{code}}}",
    "post": "mutation($i:PostJournalEntryInput!){postJournalEntry(input:$i){journalEntry{id} errors{code}}}",
    "reverse": "mutation($i:ReverseJournalEntryInput!){reverseJournalEntry(input:$i){journalEntry{id} errors{code}}}",
    "status": "mutation($i:ChangeFundStatusInput!){changeFundStatus(input:$i){fund{id} errors{code}}}",
}


class Books:
    """The running server, its users, the fund, and a reader of the database."""

    def __init__(self, runner: asyncio.Runner, http, engine, tokens: dict, fund: str):
        self.run, self.http, self.engine, self.tokens, self.fund = (
            runner.run,
            http,
            engine,
            tokens,
            fund,
        )
        self.fund_pk = parse_global_id(fund)[1]

    async def call(self, name: str, i: dict, who: str = "fin") -> tuple[str | None, list]:
        """(the new object's id or None, error codes) of one mutation."""
        body = await gql(self.http, MUTATIONS[name], {"i": i}, self.tokens[who])
        assert not body.get("errors"), body  # never a request or internal error
        (payload,) = body["data"].values()
        codes = [e["code"] for e in payload["errors"]]
        node = next((v for k, v in payload.items() if k != "errors"), None)
        return (node or {}).get("id"), codes

    async def state(self) -> tuple[int, dict]:
        async with read_session(self.engine) as session:
            entries = await session.scalar(select(func.count()).select_from(EntryRow))
            rows = await session.execute(
                select(EntryRow.fund_id, func.max(EntryRow.sequence)).group_by(EntryRow.fund_id)
            )
            return entries, dict(rows.all())

    async def check(self) -> None:
        async with read_session(self.engine) as session:
            audit = await audit_fund(session, self.fund_pk)
            assert audit.ok, audit.findings
            verification = await verify_journal(session, self.fund_pk)
            assert verification.ok, verification


def machine_for(books: Books):
    run = books.run

    class MoneyMachine(RuleBasedStateMachine):
        donations = Bundle("donations")
        disbursements = Bundle("disbursements")
        counts = Bundle("counts")
        deposits = Bundle("deposits")
        imports = Bundle("imports")
        entries = Bundle("entries")

        def do(self, name: str, i: dict, who: str = "fin"):
            before = run(books.state())
            if name != "status":  # the one mutation here that takes no key
                i = i | {"idempotencyKey": key(name)}
            made, codes = run(books.call(name, i, who))
            if codes:  # a refusal wrote nothing
                assert made is None and run(books.state()) == before, (name, i, codes)
            return made

        def keep(self, made):
            return [made] if made is not None else []

        @rule(target=donations, channel=st.sampled_from(CHANNELS), amount=amounts)
        def donate(self, channel, amount):
            i = {"fundId": books.fund, "channel": channel, "donorName": "张三"}
            i["amount"] = {"amount": amount, "currency": "CNY"}
            if channel == "ONLINE":
                i["externalRef"] = key("WX")
            if channel == "IN_KIND":
                i["description"] = "大米"
            made = self.do("donate", i)
            return made if made is not None else "none"

        @rule(donation=donations, how=st.sampled_from(["refund", "void"]))
        def undo_donation(self, donation, how):
            if donation != "none":
                self.do(how, {"donationId": donation, "reason": "测试"})

        @rule(target=counts, amount=amounts)
        def count(self, amount):
            i = {"fundId": books.fund, "countedBy": ["王芳", "李强"]}
            made = self.do("count", i | {"counted": {"amount": amount, "currency": "CNY"}})
            return made if made is not None else "none"

        @rule(count=counts)
        def uncount(self, count):
            if count != "none":
                self.do("uncount", {"cashCountId": count, "reason": "数错"})

        @rule(target=deposits, amount=amounts)
        def deposit(self, amount):
            i = {"fundId": books.fund, "amount": {"amount": amount, "currency": "CNY"}}
            made = self.do("deposit", i | {"bankRef": key("DEP")})
            return made if made is not None else "none"

        @rule(deposit=deposits)
        def undeposit(self, deposit):
            if deposit != "none":
                self.do("undeposit", {"journalEntryId": deposit, "reason": "存错"})

        @rule(target=disbursements, amount=amounts)
        def request(self, amount):
            i = {"fundId": books.fund, "amount": {"amount": amount, "currency": "CNY"}}
            made = self.do("request", i | {"payee": "食堂", "purpose": "慰问"})
            return made if made is not None else "none"

        @rule(
            disbursement=disbursements,
            how=st.sampled_from(["approve", "pay", "cancel", "unpay"]),
        )
        def decide(self, disbursement, how):
            if disbursement == "none":
                return
            i = {"disbursementId": disbursement}
            if how in ("cancel", "unpay"):
                i["reason"] = "取消"
            self.do(how, i, who="fin" if how in ("cancel", "unpay") else "fin2")

        @rule(
            target=disbursements,
            amount=amounts,
            path=st.sampled_from(
                [
                    ["approve"],
                    ["approve", "pay"],
                    ["approve", "cancel"],
                    ["approve", "pay", "unpay", "pay"],
                ]
            ),
        )
        def disbursement_flow(self, amount, path):
            """Request and decide at once: deep states without waiting for luck."""
            made = self.request(amount)
            for how in path if made != "none" else []:
                self.decide(made, how)
            return made

        @rule(target=imports, amount=amounts)
        def online_and_settled(self, amount):
            """An online gift and the channel's file that settles it."""
            return self.settle(self.donate("ONLINE", amount))

        @rule(target=imports, donation=donations)
        def settle(self, donation):
            today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
            ref = run(self._online_ref(donation))
            if ref is None:
                return "none"
            csv = f"date,reference,amount,fee\n{today},{ref[0]},{ref[1]},0.10\n"
            i = {"fundId": books.fund, "source": "PAYMENT_CHANNEL", "csv": csv}
            made = self.do("import", i | {"payoutRef": key("PO")})
            return made if made is not None else "none"

        async def _online_ref(self, donation):
            if donation == "none":
                return None
            q = "query($d:ID!){node(id:$d){... on Donation{channel externalRef amount{amount}}}}"
            node = (await gql(books.http, q, {"d": donation}, books.tokens["fin"]))["data"]["node"]
            if node["channel"] != "ONLINE":
                return None
            return node["externalRef"], node["amount"]["amount"]

        @rule(statement_import=imports)
        def undo_import(self, statement_import):
            if statement_import != "none":
                self.do("undo", {"importId": statement_import, "reason": "导错"})

        @rule(target=entries, amount=amounts, spend=st.booleans())
        def manual(self, amount, spend):
            money = {"amount": amount, "currency": "CNY"}
            debit, credit = ("5201", "1002") if spend else ("1002", "4101.02")
            postings = [
                {"accountCode": debit, "side": "DEBIT", "amount": money},
                {"accountCode": credit, "side": "CREDIT", "amount": money},
            ]
            made = self.do("post", {"fundId": books.fund, "memo": "手工", "postings": postings})
            return made if made is not None else "none"

        @rule(entry=entries)
        def reverse(self, entry):
            if entry != "none":
                self.do("reverse", {"entryId": entry, "reason": "更正"})

        @rule(status=st.sampled_from(["FROZEN", "OPEN"]))
        def freeze(self, status):
            i = {"fundId": books.fund, "status": status, "reason": "测试"}
            self.do("status", i, who="admin")

        @rule(amounts_=st.lists(amounts, min_size=2, max_size=6))
        def burst(self, amounts_):
            """Donations, a count and a deposit at once, on both workers."""

            async def go():
                calls = [
                    books.call(
                        "donate",
                        {
                            "fundId": books.fund,
                            "channel": "CASH",
                            "donorName": "李四",
                            "amount": {"amount": a, "currency": "CNY"},
                            "idempotencyKey": key("burst"),
                        },
                    )
                    for a in amounts_
                ]
                counted = {"amount": amounts_[0], "currency": "CNY"}
                calls.append(
                    books.call(
                        "count",
                        {
                            "fundId": books.fund,
                            "countedBy": ["王芳", "李强"],
                            "counted": counted,
                            "idempotencyKey": key("count"),
                        },
                    )
                )
                await asyncio.gather(*calls)

            run(go())

        @invariant()
        def books_agree(self):
            run(books.check())

    return MoneyMachine


async def _books(runner, server, db) -> Books:
    http = httpx.AsyncClient(base_url=server.base_url, timeout=30)
    tokens = {name: await login(http, name) for name in ("admin", "fin", "fin2")}
    (fund,) = await open_funds(http, tokens["admin"], 1, tag="M")
    return Books(runner, http, make_engine(db.url), tokens, fund)


def _drive(pg_url: str) -> None:
    with asyncio.Runner() as runner:

        async def scratch():
            db = ScratchDatabase(pg_url, prefix="jinlin_model")
            await db.__aenter__()
            await create_users(
                db.url, {"admin": ["ADMIN"], "fin": ["FINANCE"], "fin2": ["FINANCE"]}
            )
            return db

        db = runner.run(scratch())
        try:
            with Server(db.url, workers=2) as server:
                runner.run(server.start_ready())
                books = runner.run(_books(runner, server, db))
                try:
                    run_state_machine_as_test(
                        machine_for(books),
                        settings=settings(
                            max_examples=12,
                            stateful_step_count=30,
                            derandomize=True,  # the same programs on every run
                            deadline=None,
                            database=None,
                            suppress_health_check=[HealthCheck.too_slow],
                        ),
                    )
                finally:
                    runner.run(books.http.aclose())
                    runner.run(books.engine.dispose())
        finally:
            runner.run(db.__aexit__(None, None, None))


async def test_every_money_operation_keeps_the_books_and_the_audit_agreeing(pg_url):
    await asyncio.to_thread(_drive, pg_url)
