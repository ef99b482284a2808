"""The rule book as callers meet it through the API (issue 13 items 3 and 4): what a
fund of each status takes, available money never below zero after any entry, and no
guarded account below zero at any past instant. Each failed on the main of 2026-12-01."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.api.client import new_key
from tests.api.world import World
from tests.trust.helpers import audit_findings, journal_size

POST = "mutation($i:PostJournalEntryInput!){postJournalEntry(input:$i){journalEntry{id} errors{code message field}}}"
STATUS = 'mutation($f:ID!,$s:FundStatus!){changeFundStatus(input:{fundId:$f,status:$s,reason:"审计"}){fund{status} errors{code message}}}'
IMPORT = "mutation($i:ImportStatementInput!){importStatement(input:$i){statementImport{id} errors{code message}}}"
AT = "query($f:ID!,$at:DateTime!){node(id:$f){... on Fund{balancesAt(at:$at){bank{amount}}}}}"


def _line(code: str, side: str, amount: str) -> dict:
    return {"accountCode": code, "side": side, "amount": {"amount": amount, "currency": "CNY"}}


async def _post(world: World, lines: list[dict], fund: str | None = None, **extra) -> dict:
    i = {
        "fundId": fund or world.fund,
        "memo": "手工",
        "postings": lines,
        "idempotencyKey": new_key(),
    }
    return (await world.api.data(POST, {"i": i | extra}, token=world.fin))["postJournalEntry"]


async def _status(world: World, status: str, fund: str | None = None) -> None:
    d = await world.api.data(STATUS, {"f": fund or world.fund, "s": status}, token=world.admin)
    assert d["changeFundStatus"]["errors"] == [], d


async def test_a_frozen_fund_only_finishes_earlier_business(world: World):
    gift = (await world.donate("ONLINE", "100.00", externalRef="WX-F1"))["donation"]
    assert gift["status"] == "RECEIVED"
    await _status(world, "FROZEN")
    size = await journal_size(world)
    manual = await _post(
        world, [_line("1002", "DEBIT", "5.00"), _line("4101.02", "CREDIT", "5.00")]
    )
    assert manual["errors"][0]["code"] == "FUND_NOT_OPEN", manual
    assert (await world.donate("CASH", "5.00"))["errors"][0]["code"] == "FUND_NOT_OPEN"
    assert await journal_size(world) == size
    # Settling money received before the freeze is finishing earlier business.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    csv = f"date,reference,amount,fee\n{today},WX-F1,100.00,0.60\n"
    i = {"fundId": world.fund, "source": "PAYMENT_CHANNEL", "payoutRef": "PO-F", "csv": csv}
    settled = await world.api.data(
        IMPORT, {"i": i | {"idempotencyKey": new_key()}}, token=world.fin
    )
    assert settled["importStatement"]["errors"] == [], settled
    assert await audit_findings(world) == []


async def test_a_closed_fund_takes_nothing(world: World):
    fund = await world.open_fund("EMPTY")
    await _status(world, "CLOSED", fund)
    manual = await _post(
        world, [_line("1002", "DEBIT", "5.00"), _line("4101.02", "CREDIT", "5.00")], fund
    )
    assert manual["errors"][0]["code"] == "FUND_NOT_OPEN"
    csv = "date,reference,amount,fee\n2026-01-05,WX-C1,100.00,0.60\n"
    i = {"fundId": fund, "source": "PAYMENT_CHANNEL", "payoutRef": "PO-C", "csv": csv}
    d = await world.api.data(IMPORT, {"i": i | {"idempotencyKey": new_key()}}, token=world.fin)
    assert d["importStatement"]["errors"][0]["code"] == "FUND_NOT_OPEN", d


async def test_available_money_never_goes_below_zero(world: World):
    """bank 100, payable 100; then Dr expense / Cr bank 60 would leave available -60."""
    assert (
        await _post(world, [_line("1002", "DEBIT", "100.00"), _line("4101.02", "CREDIT", "100.00")])
    )["errors"] == []
    assert (
        await _post(world, [_line("5101", "DEBIT", "100.00"), _line("2209.01", "CREDIT", "100.00")])
    )["errors"] == []
    size = await journal_size(world)
    spend = await _post(world, [_line("5201", "DEBIT", "60.00"), _line("1002", "CREDIT", "60.00")])
    assert spend["errors"][0]["code"] == "INSUFFICIENT_FUNDS"
    assert spend["errors"][0]["field"] == ["input", "amount"]
    assert await journal_size(world) == size
    assert (await world.balances())["available"] == "0.00"


async def test_a_back_dated_entry_cannot_overdraw_the_past(world: World):
    """bank +100 on Jan 1, -100 on Jan 3, +100 now: a 80 payment back-dated to Jan 2
    leaves 100 now, but -80 on Jan 3: refused, and balancesAt never shows it."""
    day = "2026-01-0{}T10:00:00+08:00"
    assert (
        await _post(
            world,
            [_line("1002", "DEBIT", "100.00"), _line("4101.02", "CREDIT", "100.00")],
            effectiveAt=day.format(1),
        )
    )["errors"] == []
    assert (
        await _post(
            world,
            [_line("5101", "DEBIT", "100.00"), _line("1002", "CREDIT", "100.00")],
            effectiveAt=day.format(3),
        )
    )["errors"] == []
    assert (
        await _post(world, [_line("1002", "DEBIT", "100.00"), _line("4101.02", "CREDIT", "100.00")])
    )["errors"] == []
    late = await _post(
        world,
        [_line("5201", "DEBIT", "80.00"), _line("1002", "CREDIT", "80.00")],
        effectiveAt=day.format(2),
    )
    assert late["errors"][0]["code"] == "INSUFFICIENT_FUNDS", late
    at = await world.api.data(AT, {"f": world.fund, "at": day.format(4)}, token=world.fin)
    assert at["node"]["balancesAt"]["bank"]["amount"] == "0.00"
