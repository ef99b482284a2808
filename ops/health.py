"""/health: the process is alive and serving. /ready: it can do its job, that is the
database answers and its schema is at the latest migration (a load balancer sends
traffic only to ready workers; a restart is for what is not alive)."""

from __future__ import annotations

import asyncio
import logging
from functools import cache

from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db.driver import is_unavailable
from db.migrate import alembic_config

log = logging.getLogger("jinlin.health")
READY_WITHIN = 3.0  # seconds; a probe must answer before the prober gives up


@cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the migrations this code ships."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


async def database_revisions(engine: AsyncEngine) -> frozenset[str] | None:
    """The revisions the database is at; None when it was never migrated."""
    async with engine.connect() as conn:
        exists = (
            await conn.exec_driver_sql("SELECT to_regclass('alembic_version') IS NOT NULL")
        ).scalar()
        if not exists:
            return None
        rows = await conn.exec_driver_sql("SELECT version_num FROM alembic_version")
        return frozenset(rows.scalars())


def health_routes(engine: AsyncEngine) -> list[Route]:
    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(_request: Request) -> Response:
        try:
            async with asyncio.timeout(READY_WITHIN):
                revisions = await database_revisions(engine)
        except Exception as exc:
            down = is_unavailable(exc) or isinstance(exc, TimeoutError)
            if not down:
                log.warning("readiness check failed: %r", exc)
            state = "down" if down else "error"
            return JSONResponse({"status": "unavailable", "database": state}, status_code=503)
        heads = migration_heads()
        if revisions != heads:
            return JSONResponse(
                {
                    "status": "unavailable",
                    "database": "up",
                    "migrations": "pending",
                    "revision": sorted(revisions or ()),
                    "head": sorted(heads),
                },
                status_code=503,
            )
        return JSONResponse({"status": "ready", "database": "up", "revision": sorted(heads)})

    return [Route("/health", health), Route("/ready", ready)]
