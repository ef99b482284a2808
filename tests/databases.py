"""Fresh, migrated PostgreSQL databases for tests.

The server is JINLIN_TEST_DATABASE_URL's (CI: the machine's own PostgreSQL) or, when
that is unset, the embedded server of `make run` (data/pg/). Each test gets its own
database, made from a template migrated once per session (CREATE DATABASE ...
TEMPLATE), so tests never see each other's rows and never need to delete from the
append-only journal.
"""

from __future__ import annotations

import asyncio
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


# Databases made ahead of the tests that take them. CREATE DATABASE mostly waits on the
# disk (it checkpoints and syncs the copy), so making the next one while a test runs
# hides most of its cost; drops run behind the tests for the same reason.
READY_AHEAD = 2


class PostgresTemplates:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.tag = uuid.uuid4().hex[:8]
        self.template: str | None = None
        self.created: list[str] = []
        self._ready: asyncio.Queue[str] = asyncio.Queue(maxsize=READY_AHEAD - 1)
        self._maker: asyncio.Task | None = None
        self._drops: set[asyncio.Task] = set()

    async def _admin(self) -> asyncpg.Connection:
        return await asyncpg.connect(_asyncpg_dsn(self.base_url), timeout=10)

    def _url(self, name: str) -> str:
        return make_url(self.base_url).set(database=name).render_as_string(hide_password=False)

    async def fresh(self) -> tuple[str, str]:
        if self.template is None:
            await self._make_template()
        if self._maker is None or self._maker.done():
            self._maker = asyncio.create_task(self._make_ahead())
        try:
            name = await asyncio.wait_for(self._ready.get(), 120)
        except TimeoutError:
            raise RuntimeError(f"no test database could be made on {self.base_url}") from None
        return self._url(name), name

    async def _make_template(self) -> None:
        template = f"jinlin_tpl_{self.tag}"
        conn = await self._admin()
        try:
            await conn.execute(f'CREATE DATABASE "{template}"')
        finally:
            await conn.close()
        self.created.append(template)
        await upgrade_async(self._url(template))
        self.template = template

    async def _make_ahead(self) -> None:
        """Keeps databases ready; it outlives a PostgreSQL restart by trying again."""
        while True:
            name = f"jinlin_t_{self.tag}_{next(_counter)}"
            while True:
                try:
                    conn = await self._admin()
                    try:
                        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
                    finally:
                        await conn.close()
                    break
                except (TimeoutError, OSError, asyncpg.PostgresError):
                    await asyncio.sleep(0.5)  # a fault test is restarting the server
            self.created.append(name)
            await self._ready.put(name)

    async def drop(self, name: str) -> None:
        """Dropped behind the next test; drop_all waits for every drop."""
        task = asyncio.create_task(self._drop_behind(name))
        self._drops.add(task)
        task.add_done_callback(self._drops.discard)

    async def _drop_behind(self, name: str) -> None:
        # A drop that fails here (the server restarting under a fault test) is tried
        # again by drop_all's sweep of every database this session made.
        try:
            await self._drop(name)
        except (TimeoutError, OSError, asyncpg.PostgresError):
            pass

    async def _drop(self, name: str) -> None:
        conn = await self._admin()
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
        if name in self.created:
            self.created.remove(name)

    async def drop_all(self) -> None:
        if self._maker is not None:
            self._maker.cancel()
            await asyncio.gather(self._maker, return_exceptions=True)
        await asyncio.gather(*self._drops, return_exceptions=True)
        conn = await self._admin()
        try:  # a CREATE cancelled midway may have finished without being recorded
            rows = await conn.fetch(
                "SELECT datname FROM pg_database WHERE datname LIKE $1", f"jinlin_%_{self.tag}%"
            )
        finally:
            await conn.close()
        for name in {r["datname"] for r in rows} | set(self.created):
            if name != self.template:
                await self._drop(name)
        if self.template is not None:
            await self._drop(self.template)
