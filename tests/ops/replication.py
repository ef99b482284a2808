"""A primary and a standby (PostgreSQL streaming replication) from Debian's
PostgreSQL binaries, in a scratch folder on free ports: synchronous for the failover
drill, asynchronous for the read replica's test. As root, the servers run as the
`postgres` user, as PostgreSQL requires."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from tests.faults.harness import free_port

STANDBY_NAME = "standby1"


def debian_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin with a server in it."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


def _owner() -> pwd.struct_passwd | None:
    return pwd.getpwnam("postgres") if os.geteuid() == 0 else None


class Node:
    def __init__(self, folder: Path, name: str, bin_dir: Path):
        self.data = folder / name
        self.log = folder / f"{name}.log"
        self.port = free_port()
        self.bin_dir = bin_dir
        self.socket_dir = folder

    def run(self, tool: str, *args: str, timeout: float = 120) -> str:
        owner = _owner()
        done = subprocess.run(
            [str(self.bin_dir / tool), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            user=owner.pw_uid if owner else None,
            group=owner.pw_gid if owner else None,
            cwd="/",
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr or done.stdout}")
        return done.stdout

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, attempts: int = 3) -> None:
        """Start the server; on another port if its free port was taken meanwhile (a
        client's ephemeral port, on a busy machine). Any other failure says why, from
        the server's log."""
        for attempt in range(attempts):
            seen = self.log.stat().st_size if self.log.exists() else 0
            try:
                self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                         "start")  # fmt: skip
                return
            except RuntimeError as exc:
                log = (
                    self.log.read_bytes()[seen:].decode(errors="replace")
                    if self.log.exists()
                    else ""
                )
                if "Address already in use" not in log or attempt == attempts - 1:
                    raise RuntimeError(f"{exc}\n--- {self.log.name}:\n{log[-3000:]}") from None
            self.port = free_port()
            with (self.data / "postgresql.auto.conf").open("a") as conf:
                conf.write(f"port = {self.port}\n")  # read last: it overrides the others

    def psql(self, query: str, database: str = "postgres") -> str:
        """One query's rows, unaligned, as psql prints them."""
        out = self.run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
            "-Atc", query,
        )  # fmt: skip
        return out.strip()

    def kill9(self) -> None:
        """The machine is gone: the postmaster and every backend, at once."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        main = psutil.Process(pid)
        for proc in [main, *main.children(recursive=True)]:
            try:
                proc.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass

    def promote(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "promote")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except RuntimeError:
                pass


class ReplicatedPair:
    """A primary, and a standby it commits synchronously to (synchronous_commit=on):
    a commit is acknowledged only once the standby has flushed it. With
    `synchronous=False` the standby streams asynchronously, as a read replica does."""

    def __init__(self, bin_dir: Path, *, synchronous: bool = True):
        self.synchronous = synchronous
        self.folder = Path(tempfile.mkdtemp(prefix="jinlin-failover-"))
        owner = _owner()
        if owner is not None:
            self.folder.chmod(0o755)
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        self.primary = Node(self.folder, "primary", bin_dir)
        self.standby = Node(self.folder, "standby", bin_dir)

    def multi_host_url(self, database: str) -> str:
        """Both servers; a connection goes to whichever accepts writes."""
        hosts = "&".join(f"host=127.0.0.1:{n.port}" for n in (self.primary, self.standby))
        return f"postgresql+asyncpg://postgres@/{database}?{hosts}&target_session_attrs=read-write"

    def start(self) -> None:
        p = self.primary
        p.run(
            "initdb",
            "-D",
            str(p.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
        )
        with (p.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {p.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.folder}'\n"
                "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                f"synchronous_standby_names = '{STANDBY_NAME if self.synchronous else ''}'\n"
                "synchronous_commit = on\n"
                "max_connections = 200\nshared_buffers = 64MB\n"
            )
        with (p.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        p.start()
        s = self.standby
        p.run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(p.port),
            "-U",
            "postgres",
            "-D",
            str(s.data),
            "-X",
            "stream",
            "-R",
        )
        with (s.data / "postgresql.auto.conf").open("a") as conf:
            # Promoted, it has no standby of its own until one attaches: its commits
            # must not wait for one.
            conf.write(
                f"port = {s.port}\nsynchronous_standby_names = ''\n"
                f"primary_conninfo = 'host=127.0.0.1 port={p.port} user=postgres"
                f" application_name={STANDBY_NAME}'\n"
            )
        s.start()

    def wait_synchronous(self, within: float = 30) -> None:
        self._wait_state("sync", within)

    def wait_streaming(self, within: float = 30) -> None:
        self._wait_state("async", within)

    def _wait_state(self, state: str, within: float) -> None:
        deadline = time.monotonic() + within
        while True:
            out = self.primary.psql("SELECT sync_state FROM pg_stat_replication")
            if out == state:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby is not {state}: {out!r}")
            time.sleep(0.2)

    def wait_replayed(self, within: float = 30) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        target = self.primary.psql("SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + within
        query = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        while self.standby.psql(query) != "t":
            if time.monotonic() > deadline:
                raise TimeoutError(f"the standby has not replayed up to {target}")
            time.sleep(0.1)

    def stop(self) -> None:
        for node in (self.standby, self.primary):
            node.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
