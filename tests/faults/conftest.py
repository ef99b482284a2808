import os

import pytest

from tests.databases import postgres_url
from tests.faults.harness import ScratchDatabase, Server
from tests.ops import pgbouncer
from tests.ops.servers import ConfiguredServer


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL server the fault tests create their scratch databases on."""
    return postgres_url()


class Route:
    """How a test's server reaches its database: directly, or through PgBouncer in
    transaction mode with LISTEN on a direct connection (docs/operations.md)."""

    def __init__(self, bouncer: pgbouncer.PgBouncer | None):
        self.bouncer = bouncer

    def server(self, db: ScratchDatabase, *, workers: int) -> Server:
        if self.bouncer is None:
            return Server(db.url, workers=workers)
        env = {"JINLIN_DB_POOLER": "pgbouncer", "JINLIN_LISTEN_DATABASE_URL": db.url}
        return ConfiguredServer(self.bouncer.url(db.name), workers=workers, env=env)

    def check(self, db: ScratchDatabase) -> None:
        """The server's connections did go through PgBouncer."""
        if self.bouncer is not None:
            assert f"db={db.name}" in self.bouncer.log()


@pytest.fixture(params=["direct", "pgbouncer"])
async def route(request, pg_url):
    if request.param == "direct":
        yield Route(None)
        return
    if not pgbouncer.available():
        missing = "PgBouncer is not installed (scripts/pgbouncer-deps.sh)"
        if os.environ.get("CI"):
            pytest.fail(missing + "; CI must run the PgBouncer route")
        pytest.skip(missing)
    # A server connection for each write slot of both workers (2 × JINLIN_DB_WRITERS).
    async with pgbouncer.PgBouncer(pg_url, pool_size=8) as bouncer:
        yield Route(bouncer)
