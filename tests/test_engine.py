"""The engine: the write gate (how many write units of work one process runs at a
time) and the warnings about the database's own settings logged at start."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

import db.uow
from db.engine import make_engine, operating_warnings
from db.uow import one_statement, read_session, unit_of_work


async def _peak_concurrency(engine, writers: int, *, write: bool) -> int:
    running = peak = 0

    async def one() -> None:
        nonlocal running, peak
        async with unit_of_work(engine, write=write) as session:
            running += 1
            peak = max(peak, running)
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(0.05)  # hold the slot while the others arrive
            running -= 1

    await asyncio.gather(*(one() for _ in range(3 * writers)))
    return peak


async def test_writes_pass_the_gate_a_few_at_a_time(db_url):
    engine = make_engine(db_url, writers=3)
    try:
        assert await _peak_concurrency(engine, 3, write=True) == 3
        # Reads never wait at the gate.
        assert await _peak_concurrency(engine, 3, write=False) == 9
    finally:
        await engine.dispose()


async def test_a_writer_that_cannot_get_in_fails_after_the_timeout(db_url, monkeypatch):
    monkeypatch.setattr(db.uow, "GATE_TIMEOUT", 0.2)
    engine = make_engine(db_url, writers=1)
    try:
        async with unit_of_work(engine):
            with pytest.raises(TimeoutError):
                async with unit_of_work(engine):
                    pass
            async with read_session(engine) as session:  # reads still get through
                assert await session.scalar(text("SELECT 1")) == 1
        async with unit_of_work(engine) as session:  # the slot was given back
            assert await session.scalar(text("SELECT 2")) == 2
    finally:
        await engine.dispose()


def test_writers_must_be_positive():
    with pytest.raises(ValueError):
        make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", writers=0)


async def test_autovacuum_off_is_reported_at_start(db_url):
    engine = make_engine(db_url)
    try:
        warnings = await operating_warnings(engine)
        async with engine.connect() as conn:
            autovacuum = (await conn.exec_driver_sql("SHOW autovacuum")).scalar()
        assert bool(warnings) == (autovacuum != "on"), (autovacuum, warnings)
        assert all("autovacuum" in w for w in warnings)
    finally:
        await engine.dispose()


async def test_an_unreachable_database_is_not_a_start_warning():
    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        assert await operating_warnings(engine) == []
    finally:
        await engine.dispose()


async def test_a_writer_cancelled_while_waiting_gives_no_slot_away(db_url):
    """A request cancelled at the gate (its client went away) must not release a slot
    it never held, nor keep one."""
    engine = make_engine(db_url, writers=1)
    try:
        holding = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with unit_of_work(engine):
                holding.set()
                await release.wait()

        first = asyncio.create_task(holder())
        await holding.wait()
        waiting = asyncio.create_task(_write_once(engine))
        await asyncio.sleep(0.05)  # it is now queued at the gate
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        release.set()
        await first
        # Exactly one slot again: two writers in a row still run one at a time.
        assert await _peak_concurrency(engine, 1, write=True) == 1
    finally:
        await engine.dispose()


async def _write_once(engine) -> None:
    async with unit_of_work(engine) as session:
        await session.execute(text("SELECT 1"))


_INSERT_KEY = (
    "INSERT INTO idempotency_keys (key, operation, fingerprint, result_id, created_at)"
    " VALUES ($1, 'test', 'f', 1, now()) RETURNING key"
)


async def test_one_statement_commits_alone_and_allows_no_second(db_url):
    """one_statement: no transaction (the statement commits on its own), one statement
    only (a second would commit apart from the first), and the pooled connection goes
    back in its usual transactional mode."""
    engine = make_engine(db_url, pool_size=1)
    try:
        with pytest.raises(RuntimeError, match="one statement"):
            async with one_statement(engine) as conn:
                assert await conn.fetchrow(_INSERT_KEY, "committed alone")
                await conn.fetchrow(_INSERT_KEY, "never")
        with pytest.raises(RuntimeError, match="refused"):
            async with unit_of_work(engine) as session:  # the same pooled connection
                await session.execute(
                    text(_INSERT_KEY.replace("$1", ":key")), {"key": "rolled back"}
                )
                raise RuntimeError("refused after the write")
        async with read_session(engine) as session:
            keys = (
                await session.execute(text("SELECT key FROM idempotency_keys ORDER BY key"))
            ).scalars()
            assert list(keys) == ["committed alone"]
    finally:
        await engine.dispose()


def test_what_counts_as_the_database_being_unavailable():
    import asyncpg
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from db.driver import is_unavailable

    down = [
        TimeoutError(),  # connect timeout, write gate
        PoolTimeout("QueuePool limit reached"),
        ConnectionRefusedError(111, "refused"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.CrashShutdownError("terminating connection because of crash"),
        asyncpg.exceptions.TargetServerAttributeNotMatched("not a read-write server"),
        asyncpg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
        asyncpg.InterfaceError("cannot call Connection.fetchrow(): connection is closed"),
        DBAPIError("SELECT 1", {}, ConnectionResetError(), connection_invalidated=True),
    ]
    wrapped = RuntimeError("while recording")
    wrapped.__cause__ = ConnectionResetError()
    down.append(wrapped)
    # A ROLLBACK that fails on the connection the first error broke hides that error.
    down.append(_raised_while_handling(asyncpg.ConnectionDoesNotExistError("closed")))
    bugs = [
        ValueError("bad"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        asyncpg.UniqueViolationError("duplicate key"),
        DBAPIError("SELECT 1", {}, ValueError("bad"), connection_invalidated=False),
        None,
        # ... but not when the first error was a bug, or was suppressed (`from None`).
        _raised_while_handling(ValueError("bad")),
        _raised_while_handling(ConnectionResetError(), suppressed=True),
    ]
    assert [is_unavailable(e) for e in down] == [True] * len(down)
    assert [is_unavailable(e) for e in bugs] == [False] * len(bugs)


def _raised_while_handling(first: BaseException, *, suppressed: bool = False) -> BaseException:
    """The error a cleanup raises while `first` is being handled."""
    import asyncpg

    try:
        try:
            raise first
        except BaseException:
            second = asyncpg.InterfaceError("cannot perform operation: another operation")
            if suppressed:
                raise second from None
            raise second  # noqa: B904 - implicit chaining is what is tested
    except asyncpg.InterfaceError as exc:
        return exc
