"""Settings read from the environment, once, in one place.

JINLIN_DATABASE_URL  PostgreSQL URL, postgresql+asyncpg://… (default: the embedded server
                     in data/pg/, started on first use; see db/embedded.py)
JINLIN_SECRET_KEY    key that signs bearer tokens; required when JINLIN_ENV=production
JINLIN_ENV           development (default) or production
JINLIN_TOKEN_TTL     token lifetime in seconds (default 12 hours)
JINLIN_TIMEZONE      the funds' calendar time zone (default Asia/Shanghai)
JINLIN_DB_WRITERS    PostgreSQL write transactions one worker process runs at a time;
                     the rest queue in the process (default 4; see db/engine.py)
JINLIN_REQUEST_TIMEOUT  seconds one GraphQL operation may run (default 30)
JINLIN_READ_TIMEOUT  seconds a client has to send a request's headers, and its body
                     (default 10)
JINLIN_WS_MAX_SUBSCRIPTIONS  operations one WebSocket may run at once (default 20)
JINLIN_WS_MAX_CONNECTIONS_PER_ADDRESS  WebSockets one client address may hold open
                     in one worker process (default 20)
JINLIN_CORS_ORIGINS  comma-separated origins (https://app.example.org) whose pages may
                     POST to /graphql with Authorization (default: none)
JINLIN_LOG_FORMAT    text (default) or json: one line per request either way (ops/logs.py)
JINLIN_METRICS_TOKEN bearer token /metrics asks for; unset, /metrics is open
JINLIN_DB_POOLER     pgbouncer when JINLIN_DATABASE_URL goes through PgBouncer in
                     transaction mode: no prepared statements kept across transactions
JINLIN_LISTEN_DATABASE_URL  a direct (session) connection for LISTEN, which a
                     transaction-mode pooler cannot carry (default: JINLIN_DATABASE_URL)
JINLIN_READ_DATABASE_URL  a streaming replica for public reads (public report, pages,
                     the live board); unset, they go to the primary (db/replica.py)
JINLIN_READ_MAX_LAG  seconds the replica may fall behind before public reads go to
                     the primary until it catches up (default 30)
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from db.engine import DEFAULT_PG_WRITERS

ROOT = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("JINLIN_DATA_DIR", ROOT / "data"))


class ConfigError(RuntimeError):
    """The environment does not describe a service that may start."""


@cache
def embedded_database_url() -> str:
    """The embedded PostgreSQL's URL, starting the server if it is not running."""
    from db.embedded import EmbeddedError, ensure_running

    try:
        return ensure_running(DATA_DIR).url()
    except EmbeddedError as exc:
        raise ConfigError(f"the embedded PostgreSQL cannot start: {exc}") from exc


@dataclass(frozen=True)
class Settings:
    configured_database_url: str | None
    secret_key: str
    env: str
    token_ttl_seconds: int
    timezone: ZoneInfo
    db_writers: int = DEFAULT_PG_WRITERS
    request_timeout_seconds: float = 30.0
    read_timeout_seconds: float = 10.0
    ws_max_subscriptions: int = 20
    ws_max_connections_per_address: int = 20
    cors_origins: tuple[str, ...] = ()
    log_format: str = "text"
    metrics_token: str | None = None
    db_pooler: str | None = None
    listen_database_url: str | None = None
    read_database_url: str | None = None
    read_max_lag_seconds: float = 30.0

    @property
    def database_url(self) -> str:
        """JINLIN_DATABASE_URL, or else the embedded server's (started on first use)."""
        return self.configured_database_url or embedded_database_url()

    @property
    def production(self) -> bool:
        return self.env == "production"


def _development_secret() -> str:
    """A random key kept in data/ so tokens survive a restart in development."""
    path = DATA_DIR / "secret.key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    env = environ.get("JINLIN_ENV", "development")
    if env not in ("development", "production"):
        raise ConfigError(f"JINLIN_ENV must be development or production, not {env!r}")
    secret = environ.get("JINLIN_SECRET_KEY", "")
    if not secret:
        if env == "production":
            raise ConfigError("JINLIN_SECRET_KEY must be set when JINLIN_ENV=production")
        secret = _development_secret()
    elif len(secret) < 32:
        raise ConfigError("JINLIN_SECRET_KEY must be at least 32 characters")
    try:
        ttl = int(environ.get("JINLIN_TOKEN_TTL", str(12 * 3600)))
    except ValueError as exc:
        raise ConfigError("JINLIN_TOKEN_TTL must be a whole number of seconds") from exc
    try:
        writers = int(environ.get("JINLIN_DB_WRITERS", DEFAULT_PG_WRITERS))
        if writers < 1:
            raise ValueError
    except ValueError as exc:
        raise ConfigError("JINLIN_DB_WRITERS must be a whole number of at least 1") from exc
    return Settings(
        configured_database_url=_postgres_url(environ.get("JINLIN_DATABASE_URL", "").strip()),
        request_timeout_seconds=_positive(environ, "JINLIN_REQUEST_TIMEOUT", 30.0, float),
        read_max_lag_seconds=_positive(environ, "JINLIN_READ_MAX_LAG", 30.0, float),
        read_timeout_seconds=_positive(environ, "JINLIN_READ_TIMEOUT", 10.0, float),
        ws_max_subscriptions=_positive(environ, "JINLIN_WS_MAX_SUBSCRIPTIONS", 20, int),
        ws_max_connections_per_address=_positive(
            environ, "JINLIN_WS_MAX_CONNECTIONS_PER_ADDRESS", 20, int
        ),
        secret_key=secret,
        env=env,
        token_ttl_seconds=ttl,
        timezone=ZoneInfo(environ.get("JINLIN_TIMEZONE", "Asia/Shanghai")),
        db_writers=writers,
        cors_origins=_origins(environ.get("JINLIN_CORS_ORIGINS", "")),
        **_operations(environ),
    )


def _origins(raw: str) -> tuple[str, ...]:
    """Each entry an origin as a browser sends it: scheme://host[:port], nothing after."""
    origins = []
    for entry in filter(None, (part.strip() for part in raw.split(","))):
        origin = entry.rstrip("/")
        if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", origin):
            raise ConfigError(
                f"JINLIN_CORS_ORIGINS: {entry!r} is not an origin (https://host[:port])"
            )
        origins.append(origin.lower())
    return tuple(origins)


POOLERS = ("pgbouncer",)


def _operations(environ: dict[str, str]) -> dict:
    """Logs, metrics, the pooler and the read replica (docs/operations.md)."""
    log_format = environ.get("JINLIN_LOG_FORMAT", "text").strip().lower() or "text"
    if log_format not in ("text", "json"):
        raise ConfigError(f"JINLIN_LOG_FORMAT must be text or json, not {log_format!r}")
    pooler = environ.get("JINLIN_DB_POOLER", "").strip().lower() or None
    if pooler is not None and pooler not in POOLERS:
        raise ConfigError(f"JINLIN_DB_POOLER must be pgbouncer or unset, not {pooler!r}")
    listen = environ.get("JINLIN_LISTEN_DATABASE_URL", "").strip()
    read = environ.get("JINLIN_READ_DATABASE_URL", "").strip()
    return {
        "log_format": log_format,
        "metrics_token": environ.get("JINLIN_METRICS_TOKEN", "").strip() or None,
        "db_pooler": pooler,
        "listen_database_url": _postgres_url(listen, "JINLIN_LISTEN_DATABASE_URL"),
        "read_database_url": _postgres_url(read, "JINLIN_READ_DATABASE_URL"),
    }


def _postgres_url(url: str, name: str = "JINLIN_DATABASE_URL") -> str | None:
    """The URL with the asyncpg driver; None when unset. Only PostgreSQL is supported."""
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ConfigError(
            f"{name} must be a PostgreSQL URL (postgresql://…); "
            "leave it unset for the embedded server"
        )
    return f"postgresql+asyncpg://{rest}"


def _positive(environ: dict[str, str], name: str, default, kind):
    try:
        value = kind(environ.get(name, default))
        if value <= 0:
            raise ValueError
    except ValueError as exc:
        raise ConfigError(f"{name} must be a positive number") from exc
    return value
