"""The parse and validation caches' counts reach Prometheus at most once a SYNC_EVERY
after requests, and the last requests of a worker that goes quiet still do."""

from __future__ import annotations

import asyncio

from ops import caches


async def test_counts_are_copied_once_a_period_and_the_last_ones_by_a_timer(monkeypatch):
    copies: list[float] = []
    monkeypatch.setattr(caches, "sync_cache_counters", lambda: copies.append(1))
    monkeypatch.setattr(caches, "SYNC_EVERY", 0.2)
    monkeypatch.setattr(caches, "_due", 0.0)
    monkeypatch.setattr(caches, "_timer", None)
    for _ in range(50):  # a burst: the first copies, the rest wait for the period
        caches.after_request()
    assert len(copies) == 1
    await asyncio.sleep(0.3)  # then quiet: the timer copies what the burst left
    assert len(copies) == 2
    await asyncio.sleep(0.3)  # and nothing more without requests
    assert len(copies) == 2
