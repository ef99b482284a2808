"""What the trust tests read behind the API: the audit, the journal's size, an entry."""

from __future__ import annotations

from sqlalchemy import func, select

from db.audit import audit_fund
from db.uow import read_session
from ledger.tables import EntryRow
from tests.api.client import new_key
from tests.api.world import World, pk


async def audit_findings(world: World, fund: str | None = None) -> list[str]:
    async with read_session(world.api.state.engine) as session:
        audit = await audit_fund(session, pk(fund or world.fund))
    return [f"{f.check}: {f.message}" for f in audit.findings]


async def journal_size(world: World) -> int:
    async with read_session(world.api.state.engine) as session:
        return await session.scalar(select(func.count()).select_from(EntryRow))


async def entry_of(world: World, donation: str) -> str:
    data = await world.api.data(
        "query($d:ID!){node(id:$d){... on Donation{journalEntry{id}}}}",
        {"d": donation},
        token=world.fin,
    )
    return data["node"]["journalEntry"]["id"]


IMPORT = (
    "mutation($i:ImportStatementInput!){importStatement(input:$i)"
    "{statementImport{matchedCount} errors{code message}}}"
)


async def import_bank_statement(world: World, csv: str) -> dict:
    """A bank statement imported by finance: importStatement's answer."""
    i = {"fundId": world.fund, "source": "BANK", "csv": csv, "idempotencyKey": new_key()}
    return (await world.api.data(IMPORT, {"i": i}, token=world.fin))["importStatement"]
