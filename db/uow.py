"""Units of work: a session in one transaction, or one pooled connection for a write
that is one statement."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from db.announce import WRITTEN_HEADS, announcer, wrote
from db.engine import driver_connection, write_gate

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
    if not gate.locked():  # a free slot is taken at once: no timer to arm
        await gate.acquire()
        watch.waited(0.0)
        return gate
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
    A writing unit of work first passes the engine's write gate. After the commit, and
    out of the gate, every worker is told the journal heads its ledger writes reached
    (db/announce.py); a rolled-back one tells nothing."""
    gate = await _pass_gate(engine) if write else None
    session = AsyncSession(engine, expire_on_commit=False, autoflush=False)
    heads = None
    try:
        yield session
        await session.commit()
        heads = session.info.pop(WRITTEN_HEADS, None)
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()
        if gate is not None:
            gate.release()
    if heads:
        await announcer(engine).announce(heads)


@asynccontextmanager
async def one_statement(engine: AsyncEngine) -> AsyncIterator[OneStatement]:
    """A pooled connection straight from the driver, outside any transaction, for a
    write that is ONE statement (atomic on its own) and needs no read before it. It
    passes the write gate like unit_of_work but builds no ORM session, whose setup and
    teardown cost more CPU than such a statement. A second statement is refused. What
    the statement wrote (`OneStatement.wrote`) is announced after it, out of the gate,
    on the same connection.
    """
    gate = await _pass_gate(engine)
    held = True
    try:
        async with driver_connection(engine) as driver:
            statement = OneStatement(driver)
            yield statement
            gate.release()  # the write is done; telling of it needs no slot
            held = False
            if statement.heads or statement.campaigns:
                await announcer(engine).announce(statement.heads, statement.campaigns, via=driver)
    finally:
        if held:
            gate.release()


class OneStatement:
    """The driver connection of one_statement, good for one statement only: a second
    would commit on its own, and the use case would no longer be atomic."""

    def __init__(self, driver: asyncpg.Connection):
        self._driver = driver
        self._used = False
        self.heads: dict[int, int] = {}
        self.campaigns: list[int] = []

    async def fetchrow(self, query: str, *args):
        if self._used:
            raise RuntimeError("one_statement allows one statement; use unit_of_work")
        self._used = True
        return await self._driver.fetchrow(query, *args)

    def wrote(self, fund: int, sequence: int, campaign: int | None = None) -> None:
        """What the statement changed, to announce once it has committed."""
        wrote(self.heads, fund, sequence)
        if campaign is not None:
            self.campaigns.append(campaign)


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
