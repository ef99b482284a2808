"""/health says the process is alive; /ready that the database answers and is at the
latest migration."""

from __future__ import annotations

import time

import asyncpg
import httpx
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from config import load_settings
from db.migrate import alembic_config, upgrade_async
from ops.health import migration_heads
from server import create_app
from tests.faults.harness import SECRET, ScratchDatabase, free_port


def _app(database_url: str):
    settings = load_settings(
        {
            "JINLIN_DATABASE_URL": database_url,
            "JINLIN_SECRET_KEY": SECRET,
            "JINLIN_ENV": "production",
        }
    )
    return create_app(settings)


async def _probe(database_url: str) -> tuple[httpx.Response, httpx.Response]:
    app = _app(database_url)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as http:
            return await http.get("/health"), await http.get("/ready")
    finally:
        await app.state.jinlin.engine.dispose()


async def test_ready_when_migrated(db_url):
    health, ready = await _probe(db_url)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200, ready.text
    assert ready.json()["revision"] == sorted(migration_heads())
    assert ready.headers["x-request-id"]


async def test_not_ready_while_migrations_are_pending(pg_url):
    script = ScriptDirectory.from_config(alembic_config(""))
    (head,) = migration_heads()
    previous = script.get_revision(head).down_revision
    async with ScratchDatabase(pg_url, prefix="jinlin_ready") as db:
        # ScratchDatabase migrates to head; build an older one beside it.
        older = make_url(db.url).set(database=f"{db.name}_old").render_as_string(False)
        admin = await asyncpg.connect(db.dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{db.name}_old"')
        finally:
            await admin.close()
        try:
            _, empty = await _probe(older)
            assert empty.status_code == 503
            assert empty.json()["migrations"] == "pending"
            assert empty.json()["revision"] == []
            await upgrade_async(older, previous)
            health, behind = await _probe(older)
            assert health.status_code == 200  # alive all the same
            assert behind.status_code == 503
            assert behind.json()["revision"] == [previous]
            assert behind.json()["head"] == [head]
        finally:
            admin = await asyncpg.connect(db.dsn)
            try:
                await admin.execute(f'DROP DATABASE "{db.name}_old" WITH (FORCE)')
            finally:
                await admin.close()


async def test_not_ready_without_a_database():
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/jinlin"
    started = time.monotonic()
    health, ready = await _probe(nowhere)
    assert time.monotonic() - started < 8
    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "down"}
