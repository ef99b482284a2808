"""The Prometheus metrics and what feeds them.

With several uvicorn workers each process keeps its own values: `jinlin serve` points
PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers start (prometheus-client
reads it at import), each worker writes its values there, and /metrics (whichever
worker answers) sums them. Without that variable (tests in one process) the default
registry serves. Metric names and alert thresholds: docs/operations.md.
"""

from __future__ import annotations

import hmac
import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess
from starlette.requests import Request
from starlette.responses import Response

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "jinlin_requests_total",
    "GraphQL requests over HTTP, by operation (type and root fields) and HTTP status",
    ["operation", "status"],
)
LATENCY = Histogram(
    "jinlin_request_duration_seconds",
    "Time to answer a GraphQL request over HTTP, by operation",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
GRAPHQL_ERRORS = Counter(
    "jinlin_graphql_errors_total", "GraphQL errors answered, by extensions.code", ["code"]
)
GATE_WAITING = Gauge(
    "jinlin_write_gate_waiting",
    "Write units of work queued for a slot of the write gate",
    multiprocess_mode="livesum",
)
GATE_WAIT = Histogram(
    "jinlin_write_gate_wait_seconds",
    "Time a write unit of work waited for a slot of the write gate",
    buckets=(0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
POOL_IN_USE = Gauge(
    "jinlin_db_pool_in_use",
    "Database connections checked out of the pool",
    multiprocess_mode="livesum",
)
REPLICA_POOL_IN_USE = Gauge(
    "jinlin_db_replica_pool_in_use",
    "Read-replica connections checked out of the pool (JINLIN_READ_DATABASE_URL)",
    multiprocess_mode="livesum",
)
DONATIONS = Counter(
    "jinlin_donations_recorded_total",
    "Donations recorded (idempotent replays not counted), by channel",
    ["channel"],
)
DONATION_FEN = Counter(
    "jinlin_donations_recorded_fen_total",
    "Amount of the donations recorded, in fen, by channel",
    ["channel"],
)
SUBSCRIPTIONS = Gauge(
    "jinlin_subscriptions_open",
    "Live subscriptions open (campaign progress)",
    multiprocess_mode="livesum",
)
CACHE_LOOKUPS = Counter(
    "jinlin_cache_lookups_total",
    "Lookups in the GraphQL parse and validation caches, by cache and result",
    ["cache", "result"],
)
VERIFY_OK = Gauge(
    "jinlin_journal_verify_ok",
    "Result of the last journal verification of a fund: 1 verified, 0 a fault",
    ["fund"],
    multiprocess_mode="mostrecent",
)
VERIFY_AT = Gauge(
    "jinlin_journal_verify_timestamp_seconds",
    "When a fund's journal was last verified (Unix time)",
    ["fund"],
    multiprocess_mode="mostrecent",
)
AUDIT_OK = Gauge(
    "jinlin_audit_ok",
    "Result of the last audit of a fund (Fund.audit): 1 clean, 0 a disagreement",
    ["fund"],
    multiprocess_mode="mostrecent",
)
AUDIT_AT = Gauge(
    "jinlin_audit_timestamp_seconds",
    "When a fund was last audited (Unix time)",
    ["fund"],
    multiprocess_mode="mostrecent",
)


_children: dict[tuple, object] = {}
_CHILDREN_SIZE = 4096  # label values are bounded (operations, codes, channels): a guard


def child(metric, *values: str):
    """metric.labels(*values), kept: labels() validates and locks on every call, and
    the request path asks for the same few children on every request."""
    key = (metric, *values)
    found = _children.get(key)
    if found is None:
        if len(_children) >= _CHILDREN_SIZE:
            _children.clear()
        found = _children[key] = metric.labels(*values)
    return found


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    if multiprocess_dir():
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_endpoint(token: str | None):
    """The /metrics route; with a token, only for `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode() if token else None

    async def metrics(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return Response(
                    "metrics need the bearer token\n",
                    status_code=401,
                    headers={"www-authenticate": "Bearer"},
                )
        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics


def worker_exited() -> None:
    """Drop this process's live gauges (pool, gate queue, subscriptions) from the sums."""
    if multiprocess_dir():
        _multiprocess.mark_process_dead(os.getpid())


def record_verification(fund: str, ok: bool) -> None:
    VERIFY_OK.labels(fund).set(1 if ok else 0)
    VERIFY_AT.labels(fund).set(time.time())


def record_audit(fund: str, ok: bool) -> None:
    AUDIT_OK.labels(fund).set(1 if ok else 0)
    AUDIT_AT.labels(fund).set(time.time())


def record_donation(channel: str, amount_fen: int) -> None:
    child(DONATIONS, channel).inc()
    child(DONATION_FEN, channel).inc(amount_fen)
