"""The async engine for both drivers (asyncpg in production, aiosqlite embedded).

SQLite allows one writer at a time. Rather than let concurrent writers collide and
fail with "database is locked", every write unit of work on SQLite takes an
in-process lock and opens its transaction with BEGIN IMMEDIATE (which also waits,
up to busy_timeout, for writers in other processes). Reads stay concurrent (WAL).

PostgreSQL needs no lock for correctness (the ledger locks the rows it touches), but
a worker process admits only a few write units of work at a time (`writers`) and
queues the rest in the process. A waiting request costs nothing there; in PostgreSQL
it costs a backend competing for the same cores, lock-queue work and context switches.
Measured with wrk (docs/performance.md): when a donation held a fund's book lock across
round trips, 2 writers per worker was best; now that it is one statement, 4 is (20
funds: 983/s against 929 with 2; one fund: 777/s against 731, while 8 writers let the
hot fund's lock queue grow and gave 726/s at p99 84 ms).
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

WRITE_OPTION = "jinlin_write"
DEFAULT_PG_WRITERS = 4
_write_gates: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(
    url: str, *, pool_size: int = 10, writers: int = DEFAULT_PG_WRITERS, echo: bool = False
) -> AsyncEngine:
    """An engine for `url`; on PostgreSQL at most `writers` write units of work at a time
    in this process (SQLite: one)."""
    if writers < 1:
        raise ValueError("writers must be at least 1")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        _configure_sqlite(engine)
    else:
        engine = create_async_engine(
            url,
            echo=echo,
            pool_size=pool_size,
            max_overflow=pool_size,
            # No pre-ping: it costs a round trip on every checkout. After a database
            # restart the first statement on a stale connection fails, SQLAlchemy
            # sees the disconnect and invalidates the whole pool, and the next
            # request gets fresh connections.
            pool_timeout=10,
            # A dead database must answer quickly rather than hang a request.
            connect_args={"timeout": 5, "command_timeout": 30},
        )
    sqlite = parsed.get_backend_name() == "sqlite"
    _write_gates[engine.sync_engine] = asyncio.Lock() if sqlite else asyncio.Semaphore(writers)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - driver callback
        # Take transaction control from the driver so BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):  # pragma: no cover - driver callback
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def write_gate(engine: AsyncEngine) -> asyncio.Lock | asyncio.Semaphore:
    """What a write unit of work holds while it runs: a lock on SQLite, a semaphore of
    `writers` slots on PostgreSQL."""
    return _write_gates[engine.sync_engine]


async def operating_warnings(engine: AsyncEngine) -> list[str]:
    """What in the database's own settings will hurt this service, for the log at start.

    PostgreSQL with autovacuum off never gathers statistics: query plans cached while
    the tables were still empty stay in use, and one of them (the ONLINE externalRef
    lookup) then reads a fund's donations on every request, ever slower as they grow.
    A database that cannot be reached is not a warning here (/health reports it).
    """
    if engine.dialect.name != "postgresql":
        return []
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
