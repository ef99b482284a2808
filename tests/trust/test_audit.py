"""The audit re-derives every position from the records and names each disagreement:
clean on honest books, and it finds what a hand-edited record breaks. Also: a statement
import undone by its own operation leaves the books as if it never happened."""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from cli import main as cli_main
from tests.api.client import new_key
from tests.api.world import World, pk
from tests.trust.helpers import audit_findings

IMPORT = "mutation($i:ImportStatementInput!){importStatement(input:$i){statementImport{id} errors{code message}}}"
UNDO = "mutation($i:UndoStatementImportInput!){undoStatementImport(input:$i){statementImport{id} errors{code message}}}"
DONATION = "query($d:ID!){node(id:$d){... on Donation{status}}}"


async def _import(world: World, csv: str, payout: str) -> dict:
    i = {"fundId": world.fund, "source": "PAYMENT_CHANNEL", "payoutRef": payout, "csv": csv}
    d = await world.api.data(IMPORT, {"i": i | {"idempotencyKey": new_key()}}, token=world.fin)
    return d["importStatement"]


async def test_an_undone_import_can_come_again(world: World):
    gift = (await world.donate("ONLINE", "100.00", externalRef="WX-U1"))["donation"]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    csv = f"date,reference,amount,fee\n{today},WX-U1,100.00,0.60\n"
    before = await world.balances()
    first = await _import(world, csv, "PO-U")
    assert first["errors"] == []
    status = await world.api.data(DONATION, {"d": gift["id"]}, token=world.fin)
    assert status["node"]["status"] == "SETTLED"

    undo = {"importId": first["statementImport"]["id"], "reason": "导错文件"}
    done = await world.api.data(UNDO, {"i": undo | {"idempotencyKey": new_key()}}, token=world.fin)
    assert done["undoStatementImport"]["errors"] == []
    assert await world.balances() == before
    status = await world.api.data(DONATION, {"d": gift["id"]}, token=world.fin)
    assert status["node"]["status"] == "RECEIVED"
    again = await world.api.data(UNDO, {"i": undo | {"idempotencyKey": new_key()}}, token=world.fin)
    assert again["undoStatementImport"]["errors"][0]["code"] == "INVALID_STATE"
    assert await audit_findings(world) == []
    # The same payout may now be imported again, and settles the gift again.
    assert (await _import(world, csv, "PO-U"))["errors"] == []
    assert await audit_findings(world) == []


@pytest.mark.parametrize(
    ("edit", "finding"),
    [
        ("UPDATE donations SET status = 'REFUNDED' WHERE id = :d", "donation"),
        ("UPDATE donations SET amount_fen = amount_fen + 1 WHERE id = :d", "online clearing"),
        ("UPDATE donations SET status = 'SETTLED' WHERE id = :d", "online clearing"),
    ],
)
async def test_a_record_edited_behind_the_ledger_is_named(world: World, edit, finding):
    gift = (await world.donate("ONLINE", "100.00"))["donation"]
    assert await audit_findings(world) == []
    async with world.api.state.engine.begin() as conn:
        await conn.execute(text(edit), {"d": pk(gift["id"])})
    findings = await audit_findings(world)
    assert findings and any(finding in f for f in findings), findings


async def test_the_audit_command_exits_1_on_a_disagreement(
    world: World, db_url, monkeypatch, capsys
):
    await world.donate("CASH", "10.00")
    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    assert await asyncio.to_thread(cli_main, ["audit"]) == 0
    assert "ETGY: ok" in capsys.readouterr().out
    async with world.api.state.engine.begin() as conn:
        await conn.execute(text("UPDATE disbursements SET status = 'APPROVED'"))
        await conn.execute(
            text(
                "INSERT INTO disbursements (fund_id, amount_fen, payee, purpose, status,"
                " requested_by, requested_at) VALUES (:f, 500, 'x', 'y', 'APPROVED', 'u', now())"
            ),
            {"f": pk(world.fund)},
        )
    assert await asyncio.to_thread(cli_main, ["audit", "etgy"]) == 1
    out = capsys.readouterr().out
    assert "ETGY: DISAGREES" in out and "payable (2209.01)" in out


AUDIT = "query($f:ID!){node(id:$f){... on Fund{audit{ok findings{check message}}}}}"


async def test_fund_audit_is_for_finance_and_names_what_disagrees(world: World):
    await world.donate("ONLINE", "30.00")
    clean = await world.api.data(AUDIT, {"f": world.fund}, token=world.fin)
    assert clean["node"]["audit"] == {"ok": True, "findings": []}
    staff = await world.api.execute(AUDIT, {"f": world.fund}, token=world.staff)
    assert staff["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with world.api.state.engine.begin() as conn:
        await conn.execute(text("UPDATE donations SET status = 'SETTLED'"))
    found = (await world.api.data(AUDIT, {"f": world.fund}, token=world.fin))["node"]["audit"]
    assert not found["ok"]
    assert {"position", "status"} <= {f["check"] for f in found["findings"]}
