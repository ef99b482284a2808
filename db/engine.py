"""The async engine for both drivers (asyncpg in production, aiosqlite embedded).

SQLite allows one writer at a time. Rather than let concurrent writers collide and
fail with "database is locked", every write unit of work on SQLite takes an
in-process lock and opens its transaction with BEGIN IMMEDIATE (which also waits,
up to busy_timeout, for writers in other processes). Reads stay concurrent (WAL).
PostgreSQL needs none of this: the ledger locks the rows it touches.
"""

from __future__ import annotations

import asyncio
import weakref
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

WRITE_OPTION = "jinlin_write"
_write_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
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
    _write_locks[engine.sync_engine] = asyncio.Lock()
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


def write_lock(engine: AsyncEngine) -> asyncio.Lock:
    return _write_locks[engine.sync_engine]
