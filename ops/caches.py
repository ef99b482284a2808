"""Counts of the GraphQL parse and validation caches' hits and misses. schema/pipeline.py
keeps them in functools.lru_cache, which counts for itself; after each request the
differences since the last copy go into Prometheus counters, so that workers' counts
add up."""

from __future__ import annotations

from ops import metrics

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
