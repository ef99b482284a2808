"""Units of work: a session in one transaction, or one pooled connection for a write
that is one statement."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from db.driver import is_unavailable
from db.engine import write_gate

GATE_TIMEOUT = 10.0  # seconds, as the pool's checkout timeout


class GateWatch:
    """Told how many wait at the write gate and how long each waited; ops/hooks.py
    puts one that feeds the metrics here."""

    def waiting(self, delta: int) -> None:
        pass

    def waited(self, seconds: float) -> None:
        pass


gate_watch = GateWatch()


async def _pass_gate(engine: AsyncEngine) -> asyncio.Semaphore:
    """Wait for a slot of the engine's write gate and return the gate; the caller
    releases it. Bounded like a pool checkout, so that behind writers stuck on a dead
    database a request fails after GATE_TIMEOUT seconds instead of queueing for ever."""
    gate = write_gate(engine)
    watch = gate_watch
    started = time.perf_counter()
    watch.waiting(1)
    try:
        async with asyncio.timeout(GATE_TIMEOUT):
            await gate.acquire()
    finally:
        watch.waiting(-1)
        watch.waited(time.perf_counter() - started)
    return gate


@asynccontextmanager
async def unit_of_work(engine: AsyncEngine, *, write: bool = True) -> AsyncIterator[AsyncSession]:
    """Yield a session inside one transaction; commit on success, roll back on error.
    A writing unit of work first passes the engine's write gate."""
    gate = await _pass_gate(engine) if write else None
    session = AsyncSession(engine, expire_on_commit=False, autoflush=False)
    try:
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()
        if gate is not None:
            gate.release()


@asynccontextmanager
async def one_statement(engine: AsyncEngine) -> AsyncIterator[OneStatement]:
    """A pooled connection straight from the driver, outside any transaction, for a
    write that is ONE statement (atomic on its own) and needs no read before it. It
    passes the write gate like unit_of_work but builds no ORM session, whose setup and
    teardown cost more CPU than such a statement. A second statement is refused.

    A connection the database dropped (a restart) is invalidated with the whole pool,
    as SQLAlchemy does for a session that meets one, so the next request reconnects.
    """
    gate = await _pass_gate(engine)
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            try:
                yield OneStatement(raw.driver_connection)
            except BaseException as exc:
                if is_unavailable(exc):
                    await conn.invalidate(exc)
                    await engine.dispose(close=False)
                raise
    finally:
        gate.release()


class OneStatement:
    """The driver connection of one_statement, good for one statement only: a second
    would commit on its own, and the use case would no longer be atomic."""

    def __init__(self, driver: asyncpg.Connection):
        self._driver = driver
        self._used = False

    async def fetchrow(self, query: str, *args):
        if self._used:
            raise RuntimeError("one_statement allows one statement; use unit_of_work")
        self._used = True
        return await self._driver.fetchrow(query, *args)


@asynccontextmanager
async def read_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session for reads only (DataLoader batches, reports). Never commits."""
    async with unit_of_work(engine, write=False) as session:
        yield session


@asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for one read built with SQLAlchemy Core, outside any transaction:
    no ORM session, BEGIN or COMMIT (one statement sees one snapshot on its own).
    A connection the database dropped is invalidated by SQLAlchemy, as in a session."""
    async with engine.connect() as conn:
        yield await conn.execution_options(isolation_level="AUTOCOMMIT")
