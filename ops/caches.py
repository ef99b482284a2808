"""Counts of the GraphQL parse and validation caches' hits and misses. schema/pipeline.py
keeps them in functools.lru_cache, which counts for itself; the differences since the
last copy go into Prometheus counters, so that workers' counts add up. Copied at most
once every SYNC_EVERY after requests (`after_request`), not after each one: a copy costs
a shared-memory write per cache, and a scrape every 15 s needs no more."""

from __future__ import annotations

import asyncio
import time

from ops import metrics

SYNC_EVERY = 1.0  # seconds
_due = 0.0  # monotonic time of the next copy
_timer: asyncio.TimerHandle | None = None

_seen: dict[str, tuple[int, int]] = {}
_caches: dict | None = None


def _pipeline_caches() -> dict:
    global _caches
    if _caches is None:
        from schema import pipeline

        _caches = {
            "normalize": pipeline._normal,
            "parse": pipeline._parsed,
            "validate": pipeline._validated,
            "string_sites": pipeline._sites,
        }
    return _caches


def sync_cache_counters() -> None:
    for name, cached in _pipeline_caches().items():
        hits, misses = cached.cache_info()[:2]
        seen_hits, seen_misses = _seen.get(name, (0, 0))
        if hits == seen_hits and misses == seen_misses:
            continue
        # A cleared cache starts counting again from zero.
        if hits > seen_hits:
            metrics.child(metrics.CACHE_LOOKUPS, name, "hit").inc(hits - seen_hits)
        if misses > seen_misses:
            metrics.child(metrics.CACHE_LOOKUPS, name, "miss").inc(misses - seen_misses)
        _seen[name] = (hits, misses)


def after_request() -> None:
    """A request ended: copy the counts now if a copy is due, else make sure one comes
    when it is (a worker that goes quiet still reports its last requests)."""
    global _due, _timer
    now = time.monotonic()
    if now >= _due:
        _due = now + SYNC_EVERY
        sync_cache_counters()
    elif _timer is None or _timer.when() < asyncio.get_running_loop().time() - SYNC_EVERY:
        # (a timer long overdue was left by an event loop that ended: a test's)
        _timer = asyncio.get_running_loop().call_later(_due - now, _copy_late)


def _copy_late() -> None:
    global _due, _timer
    _timer = None
    _due = time.monotonic() + SYNC_EVERY
    sync_cache_counters()
