"""Alembic environment: PostgreSQL through asyncpg; after the migrations, the ledger's
rule book (ledger/sql/) is applied again, so its reviewed source is what runs."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from db.metadata import target_metadata
from db.migrate import lock_key
from db.rule_book import apply_rule_book

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return url
    from config import load_settings

    return load_settings().database_url


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
    )


def _run_sync(connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        # Two upgrades at once (two `make run`): the second waits, then finds nothing to do.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({lock_key('migrate')})")
        context.run_migrations()
        if _upgraded_to_rule_book():
            apply_rule_book(connection)


def _upgraded_to_rule_book() -> bool:
    """True when the database is now at or past 0006, which made the rule book's
    functions (a downgrade below it, or a partial upgrade, has no use for them)."""
    script = context.script
    for head in context.get_context().get_current_heads():
        if any(rev.revision == "0006" for rev in script.iterate_revisions(head, "base")):
            return True
    return False


async def _run_async(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync)
            await connection.commit()
    finally:
        await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _run_sync(connection)
elif context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async(_url()))
