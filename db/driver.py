"""The asyncpg connection under a unit of work, for the write hot path on PostgreSQL.

The hottest writes (the ledger's, recordDonation's) send hand-written SQL straight to
asyncpg: SQLAlchemy's per-statement work (compile cache lookup, parameter processing,
result proxies, ORM identity map) costs more CPU than the round trip itself. They still
run inside the session's transaction, so the unit of work commits or rolls them back
together with everything else it wrote.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeout
from sqlalchemy.ext.asyncio import AsyncSession

# Conflicts a re-run of the whole unit of work resolves: a unique key claimed by a
# concurrent request (class 23: integrity), a serialization failure, a deadlock.
_TRANSIENT_STATES = ("40001", "40P01")
_DRIVER = "jinlin.pg_driver"


async def pg_driver(session: AsyncSession) -> asyncpg.Connection | None:
    """The session's asyncpg connection inside its transaction; None unless PostgreSQL.

    SQLAlchemy's asyncpg adapter begins its transaction lazily, on the first statement
    it sends. A unit of work whose first statement goes straight to the driver asks the
    adapter to begin it, so that the session's commit or rollback is what ends it. In a
    unit_of_work(one_write=True) there is no transaction: every statement commits alone.
    """
    # Remembered per session transaction: the same transaction means the same connection.
    transaction = session.sync_session.get_transaction()
    known = session.info.get(_DRIVER)
    if known is not None and transaction is not None and known[0] is transaction:
        return known[1]
    if session.bind is not None and session.bind.dialect.name != "postgresql":
        return None
    conn = await session.connection()
    if conn.dialect.name != "postgresql":
        return None
    raw = await conn.get_raw_connection()
    adapter = raw.dbapi_connection
    driver = raw.driver_connection
    if adapter.isolation_level == "autocommit":
        # unit_of_work(one_write=True): each statement commits on its own, by design.
        session.info[_DRIVER] = (session.sync_session.get_transaction(), driver)
        return driver
    if getattr(adapter, "_transaction", None) is None:
        await adapter._start_transaction()
    if not driver.is_in_transaction():  # pragma: no cover - would mean autocommit writes
        raise RuntimeError("hot-path statements must run inside the unit of work's transaction")
    session.info[_DRIVER] = (session.sync_session.get_transaction(), driver)
    return driver


def is_transient(exc: BaseException) -> bool:
    """True for a conflict that re-running the unit of work settles, through SQLAlchemy
    (IntegrityError, DBAPIError) or straight from the driver (asyncpg errors)."""
    if isinstance(exc, IntegrityError):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        state = getattr(orig, "sqlstate", None) or getattr(
            getattr(orig, "__cause__", None), "sqlstate", None
        )
        return state in _TRANSIENT_STATES
    if isinstance(exc, asyncpg.PostgresError):
        state = exc.sqlstate or ""
        return state.startswith("23") or state in _TRANSIENT_STATES
    return False


TRANSIENT_ERRORS = (IntegrityError, DBAPIError, asyncpg.PostgresError)


class HotStatement:
    """One SQL text for both dialects, for reads on the hot path.

    Written with named parameters (:name). On PostgreSQL it is compiled once to
    asyncpg's positional form and sent straight to the driver; elsewhere it runs
    through SQLAlchemy. Results come back as plain tuples; columns that need type
    processing on SQLite (instants) do not belong in one.
    """

    def __init__(self, sql: str):
        self.text = text(sql)
        compiled = self.text.compile(dialect=asyncpg_dialect())
        self.pg_sql = compiled.string
        self.pg_names = tuple(compiled.positiontup or ())

    async def first(self, session: AsyncSession, params: dict) -> tuple | None:
        driver = await pg_driver(session)
        if driver is not None:
            row = await driver.fetchrow(self.pg_sql, *(params[n] for n in self.pg_names))
            return tuple(row) if row is not None else None
        row = (await session.execute(self.text, params)).first()
        return tuple(row) if row is not None else None


# What a request meets when the database cannot serve it now (down, restarting, or
# every connection and write slot busy past its timeout): worth a retry later with the
# same idempotency key, unlike a bug.
_UNAVAILABLE_DRIVER_ERRORS = (
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08, "connection does not exist" too
    asyncpg.CannotConnectNowError,  # the server is starting or shutting down
    asyncpg.AdminShutdownError,
    ConnectionError,  # refused, reset
    TimeoutError,  # connect timeout, pool checkout, write gate
)


def is_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` (or what it wraps) says the database cannot serve the request now."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, _UNAVAILABLE_DRIVER_ERRORS) or isinstance(exc, SQLAlchemyTimeout):
            return True
        # A pooled connection the restart killed; other interface errors are bugs.
        if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
            return True
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
        seen += 1
    return False
