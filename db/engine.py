"""The async engine (PostgreSQL through asyncpg) and its write gate.

A worker process admits only a few write units of work at a time (`writers`) and
queues the rest in the process. A waiting request costs nothing there; in PostgreSQL
it costs a backend competing for the same cores, lock-queue work and context switches.
How many is measured with wrk, in docs/performance.md.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from db.driver import is_unavailable

DEFAULT_PG_WRITERS = 4
_write_gates: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    writers: int = DEFAULT_PG_WRITERS,
    echo: bool = False,
    pooler: str | None = None,
    application_name: str | None = None,
) -> AsyncEngine:
    """An engine for `url` that runs at most `writers` write units of work at a time in
    this process. `pooler="pgbouncer"`: `url` is PgBouncer in transaction mode.
    `application_name` names its connections in pg_stat_activity."""
    if writers < 1:
        raise ValueError("writers must be at least 1")
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        # No pre-ping: it costs a round trip on every checkout. After a database
        # restart the first statement on a stale connection fails, SQLAlchemy sees the
        # disconnect and invalidates the whole pool, and the next request gets fresh
        # connections.
        pool_timeout=10,
        # A dead database must answer quickly rather than hang a request.
        connect_args={
            "timeout": 5,
            "command_timeout": 30,
            **_pooler_args(pooler),
            **(
                {"server_settings": {"application_name": application_name}}
                if application_name
                else {}
            ),
        },
        # Error messages leave out statement parameters (donors' names): they get logged.
        hide_parameters=True,
    )
    _write_gates[engine.sync_engine] = asyncio.Semaphore(writers)
    return engine


def _pooler_args(pooler: str | None) -> dict:
    """Behind PgBouncer in transaction mode consecutive transactions may run on different
    server connections: asyncpg keeps no prepared statements between them (its own
    unnamed ones live within one Sync, which PgBouncer does not split), and the
    statements SQLAlchemy prepares inside a transaction get names no other client
    connection uses."""
    if pooler is None:
        return {}
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__asyncpg_{uuid.uuid4().hex}__",
    }


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection straight from the driver, outside any transaction: each
    statement on it commits on its own. A connection the database dropped (a restart)
    is invalidated with the whole pool, as SQLAlchemy does for a session that meets
    one, so the next request reconnects."""
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        try:
            yield driver
        except BaseException as exc:
            if is_unavailable(exc):
                await conn.invalidate(exc)
                await engine.dispose(close=False)
            raise
        if driver.is_closed():  # closed under the caller (a failed announcement)
            await conn.invalidate()


def write_gate(engine: AsyncEngine) -> asyncio.Semaphore:
    """What a write unit of work holds while it runs: one of `writers` slots."""
    return _write_gates[engine.sync_engine]


async def operating_warnings(engine: AsyncEngine) -> list[str]:
    """What in the database's own settings will hurt this service, for the log at start.

    PostgreSQL with autovacuum off never gathers statistics: query plans cached while
    the tables were still empty stay in use, and one of them (the ONLINE externalRef
    lookup) then reads a fund's donations on every request, ever slower as they grow.
    A database that cannot be reached is not a warning here (/health reports it).
    """
    try:
        async with engine.connect() as conn:
            autovacuum = (await conn.exec_driver_sql("SHOW autovacuum")).scalar()
    except Exception:
        return []
    if autovacuum != "on":
        return [
            "PostgreSQL runs with autovacuum off: table statistics go stale and plans made "
            "on empty tables stay; turn it on, or run ANALYZE regularly"
        ]
    return []
