"""Fresh, migrated PostgreSQL databases for tests.

The server is JINLIN_TEST_DATABASE_URL's (CI: the machine's own PostgreSQL) or, when
that is unset, the embedded server of `make run` (data/pg/). Each test gets its own
database, made from a template migrated once per session (CREATE DATABASE ...
TEMPLATE), so tests never see each other's rows and never need to delete from the
append-only journal.
"""

from __future__ import annotations

import itertools
import os
import uuid

import asyncpg
from sqlalchemy.engine import make_url

from config import DATA_DIR
from db.migrate import upgrade_async

PG_ENV = "JINLIN_TEST_DATABASE_URL"
_counter = itertools.count()


def postgres_url() -> str:
    """The server tests make their databases on (its URL names an existing database)."""
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        from db.embedded import ensure_running

        return ensure_running(DATA_DIR).url("postgres")
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def uses_embedded_server() -> bool:
    return not os.environ.get(PG_ENV, "").strip()


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


class PostgresTemplates:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.tag = uuid.uuid4().hex[:8]
        self.template: str | None = None
        self.created: list[str] = []

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(_asyncpg_dsn(self.base_url), timeout=10)

    async def fresh(self) -> tuple[str, str]:
        conn = await self._admin()
        try:
            if self.template is None:
                self.template = f"jinlin_tpl_{self.tag}"
                await conn.execute(f'CREATE DATABASE "{self.template}"')
                self.created.append(self.template)
                await upgrade_async(
                    make_url(self.base_url)
                    .set(database=self.template)
                    .render_as_string(hide_password=False)
                )
            name = f"jinlin_t_{self.tag}_{next(_counter)}"
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            self.created.append(name)
        finally:
            await conn.close()
        url = make_url(self.base_url).set(database=name).render_as_string(hide_password=False)
        return url, name

    async def drop(self, name: str) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        if name in self.created:
            self.created.remove(name)

    async def drop_all(self) -> None:
        for name in list(reversed(self.created)):
            await self.drop(name)
