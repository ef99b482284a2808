"""Unit of work: one AsyncSession, one transaction, committed or rolled back as one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import WRITE_OPTION, is_sqlite, write_lock


@asynccontextmanager
async def unit_of_work(engine: AsyncEngine, *, write: bool = True) -> AsyncIterator[AsyncSession]:
    """Yield a session inside one transaction; commit on success, roll back on error.

    On SQLite a writing unit of work is serialized in-process and begins IMMEDIATE,
    so writers queue instead of failing half-way with "database is locked".
    """
    session = AsyncSession(engine, expire_on_commit=False, autoflush=False)
    lock = write_lock(engine) if (write and is_sqlite(engine)) else None
    try:
        if lock is not None:
            await lock.acquire()
        await session.connection(execution_options={WRITE_OPTION: write})
        yield session
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()
        if lock is not None:
            lock.release()


@asynccontextmanager
async def read_session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session for reads only (DataLoader batches, reports). Never commits."""
    async with unit_of_work(engine, write=False) as session:
        yield session
