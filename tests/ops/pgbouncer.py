"""Debian's PgBouncer (scripts/pgbouncer-deps.sh) in transaction mode on a free port,
in front of the test PostgreSQL server, for the length of a test."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.faults.harness import free_port

PGBOUNCER = "/usr/sbin/pgbouncer"


def available() -> bool:
    return os.access(PGBOUNCER, os.X_OK)


class PgBouncer:
    def __init__(self, server_url: str, *, pool_size: int = 6):
        self.server = make_url(server_url)
        self.port = free_port()
        self.pool_size = pool_size
        self.folder = Path(tempfile.mkdtemp(prefix="jinlin-pgbouncer-"))
        self.proc: subprocess.Popen | None = None

    def url(self, database: str) -> str:
        """`database` on the server, through PgBouncer."""
        return (
            make_url("postgresql+asyncpg://127.0.0.1")
            .set(port=self.port, database=database, username=self.server.username)
            .render_as_string(hide_password=False)
        )

    def _config(self) -> str:
        # The embedded server listens on a Unix socket only (host=/… in the URL).
        host = self.server.query.get("host") or self.server.host or "127.0.0.1"
        port = self.server.port or 5432
        user = self.server.username or "postgres"
        (self.folder / "users.txt").write_text(f'"{user}" ""\n')
        return f"""
[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.folder / "users.txt"}
pool_mode = transaction
default_pool_size = {self.pool_size}
max_client_conn = 400
server_reset_query =
ignore_startup_parameters = extra_float_digits
logfile = {self.folder / "pgbouncer.log"}
pidfile = {self.folder / "pgbouncer.pid"}
"""

    def _runs_as(self) -> pwd.struct_passwd:
        """A user other than root: the owner of the server's socket folder when it is
        reached by one (the embedded server's is private to its user), else postgres."""
        host = self.server.query.get("host") or ""
        if isinstance(host, str) and host.startswith("/"):
            return pwd.getpwuid(os.stat(host).st_uid)
        return pwd.getpwnam("postgres")

    def start(self) -> None:
        config = self.folder / "pgbouncer.ini"
        config.write_text(self._config())
        command = [PGBOUNCER, str(config)]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root
            owner = self._runs_as()
            for path in (self.folder, *self.folder.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            command[1:1] = ["-u", owner.pw_name]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    async def wait_ready(self, within: float = 10) -> None:
        deadline = time.monotonic() + within
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.proc.stderr.read().decode()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.folder, ignore_errors=True)

    async def __aenter__(self) -> PgBouncer:
        self.start()
        await self.wait_ready()
        return self

    async def __aexit__(self, *exc) -> None:
        self.stop()
