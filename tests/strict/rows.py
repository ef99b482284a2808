"""How many rows the tables a refused request must not touch hold."""

from __future__ import annotations

from sqlalchemy import text

from db.uow import read_session

TABLES = (
    "journal_entries postings donations cash_counts disbursements campaigns contributions "
    "idempotency_keys"
).split()


async def row_counts(world) -> dict[str, int]:
    async with read_session(world.api.state.engine) as s:
        return {t: await s.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}
