"""A pooled connection whose server said goodbye while it sat idle in the pool.

When the primary dies (the failover drill, tests/ops/test_failover.py), each of its
backends sends a FATAL "terminating connection due to unexpected postmaster exit" and
closes. The driver reads the message before the end of the stream: its protocol leaves
the idle state, and a request that checks the connection out in between is refused by
the driver before anything is sent ("cannot switch to state 12; another operation (2)
is in progress"). That is a lost connection (DATABASE_UNAVAILABLE, the pool thrown
away, the next request on a fresh connection), not an internal error.

Here the real driver, on a real connection, is handed the same message as the server
sends it, and the window is held open: the server itself stays up.
"""

from __future__ import annotations

import struct

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db.driver import is_unavailable
from db.engine import driver_connection
from db.uow import one_statement, read_session


def _goodbye() -> bytes:
    """The ErrorResponse a backend sends when its postmaster has died."""
    fields = (
        (b"S", "FATAL"),
        (b"V", "FATAL"),
        (b"C", "57P01"),
        (b"M", "terminating connection due to unexpected postmaster exit"),
    )
    body = b"".join(code + value.encode() + b"\0" for code, value in fields) + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


async def _goodbye_to_a_pooled_connection(engine) -> None:
    """A connection goes back to the pool, its driver holding the server's goodbye."""
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.fetchval("SELECT 1")
        raw.driver_connection._protocol.data_received(_goodbye())


async def test_the_driver_refuses_such_a_connection_as_the_drill_saw(engine):
    await _goodbye_to_a_pooled_connection(engine)
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        with pytest.raises(asyncpg.exceptions.InternalClientError) as caught:
            await raw.driver_connection.fetchval("SELECT 1")
        await conn.invalidate()
    assert "another operation (2) is in progress" in str(caught.value)
    assert is_unavailable(caught.value)


async def test_a_write_on_it_is_unavailable_and_the_next_gets_a_fresh_connection(engine):
    await _goodbye_to_a_pooled_connection(engine)
    with pytest.raises(asyncpg.exceptions.InternalClientError) as caught:
        async with one_statement(engine) as conn:
            await conn.fetchrow("SELECT 1")
    assert is_unavailable(caught.value)
    async with one_statement(engine) as conn:
        assert (await conn.fetchrow("SELECT 2"))[0] == 2


async def test_a_read_on_it_is_unavailable_and_the_pool_is_thrown_away(engine):
    await _goodbye_to_a_pooled_connection(engine)
    with pytest.raises(DBAPIError) as caught:  # SQLAlchemy's, around the driver's
        async with read_session(engine) as session:
            await session.execute(text("SELECT 1"))
    assert is_unavailable(caught.value) and caught.value.connection_invalidated  # by SQLAlchemy
    # Handed back to the pool as it was, it would fail the next request the same way.
    for _ in range(3):
        async with read_session(engine) as session:
            assert (await session.execute(text("SELECT 2"))).scalar() == 2


async def test_a_bare_read_on_it_is_unavailable_and_the_next_gets_a_fresh_connection(engine):
    await _goodbye_to_a_pooled_connection(engine)
    with pytest.raises(asyncpg.exceptions.InternalClientError) as caught:
        async with driver_connection(engine) as conn:  # the dashboard's loaders (db/reads.py)
            await conn.fetchval("SELECT 1")
    assert is_unavailable(caught.value)
    for _ in range(3):
        async with driver_connection(engine) as conn:
            assert await conn.fetchval("SELECT 2") == 2


def test_a_concurrent_use_of_one_connection_stays_a_bug():
    # What a use of a busy connection raises: not a lost connection.
    busy = asyncpg.InterfaceError("cannot perform operation: another operation is in progress")
    assert not is_unavailable(busy)
    other = asyncpg.exceptions.InternalClientError("unknown error in protocol implementation")
    assert not is_unavailable(other)
