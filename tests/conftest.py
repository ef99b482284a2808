"""Shared fixtures: a fresh migrated PostgreSQL database per test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_engine
from tests.databases import PostgresTemplates, postgres_url, uses_embedded_server


def pytest_report_header(config):
    where = (
        "the embedded server (data/pg)" if uses_embedded_server() else "JINLIN_TEST_DATABASE_URL"
    )
    return f"jinlin tests run on PostgreSQL: {where}"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """Argon2 with production costs takes ~100 ms a hash; tests create many users in
    process, so they hash with minimal costs. Subprocess servers keep the real ones."""
    from argon2 import PasswordHasher

    import resolvers.users as users

    saved = users._hasher, users._DUMMY_HASH
    users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    users._DUMMY_HASH = users._hasher.hash("not a password anyone has")
    yield
    users._hasher, users._DUMMY_HASH = saved


@pytest.fixture(scope="session")
async def _postgres_templates():
    # No skip: a test run without PostgreSQL fails here, loudly.
    templates = PostgresTemplates(postgres_url())
    yield templates
    await templates.drop_all()


@pytest.fixture
async def db_url(_postgres_templates):
    """The URL of a freshly migrated, empty database."""
    url, name = await _postgres_templates.fresh()
    yield url
    await _postgres_templates.drop(name)


@pytest.fixture
async def engine(db_url) -> AsyncEngine:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    """Count the SQL statements the engine sends while the block runs, BEGIN and
    COMMIT left out: SQLAlchemy's, and those sent straight to asyncpg on a connection
    checked out during the block (db/reads.py, the hot path), which SQLAlchemy does
    not see and asyncpg's query loggers do (see count_round_trips)."""
    counter = StatementCounter()

    def _count(statement: str) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            counter.statements.append(statement)

    def _before(conn, cursor, statement, parameters, context, executemany):
        _count(statement)

    def _log(record) -> None:
        if not _learns_a_type(record.query):
            _count(record.query)

    with _listening(engine, before_cursor_execute=_before, **_logging_queries(_log)):
        yield counter


def _learns_a_type(query: str) -> bool:
    """Whether asyncpg sent `query` to learn a type (an array of integers, say) the
    first time a connection meets it, with JIT off around it: once per connection,
    not per request."""
    return "typeinfo_tree" in query or "'jit'" in query


@contextmanager
def count_round_trips(engine: AsyncEngine) -> Iterator[StatementCounter]:
    """Count every statement sent to the database while the block runs, BEGIN and
    COMMIT included, also those the hot path sends straight to asyncpg (on
    PostgreSQL an asyncpg query logger on each connection checked out)."""
    counter = StatementCounter()

    def _log(record) -> None:
        counter.statements.append(record.query)

    # SQLAlchemy's own statements run as asyncpg prepared statements, which asyncpg's
    # query loggers do not see; its BEGIN and COMMIT, and the hot path's statements,
    # they do (and SQLAlchemy does not).
    def _before(conn, cursor, statement, parameters, context, executemany):
        counter.statements.append(statement)

    with _listening(engine, before_cursor_execute=_before, **_logging_queries(_log)):
        yield counter


def _logging_queries(log) -> dict:
    """Pool listeners that hand `log` every query asyncpg sends on a connection while
    it is checked out."""

    def checkout(dbapi_connection, record, proxy):
        dbapi_connection.driver_connection.add_query_logger(log)

    def checkin(dbapi_connection, record):
        if dbapi_connection is not None:
            dbapi_connection.driver_connection.remove_query_logger(log)

    return {"checkout": checkout, "checkin": checkin}


@contextmanager
def _listening(engine: AsyncEngine, **listeners) -> Iterator[None]:
    """The engine's events (name=function) listened to while the block runs."""
    for name, fn in listeners.items():
        event.listen(engine.sync_engine, name, fn)
    try:
        yield
    finally:
        for name, fn in listeners.items():
            event.remove(engine.sync_engine, name, fn)


@pytest.fixture
async def api(db_url):
    from tests.api.client import make_client

    client = make_client(db_url)
    yield client
    await client.close()


@pytest.fixture
async def world(api):
    from tests.api.world import build_world

    return await build_world(api)
