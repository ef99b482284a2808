"""Outside auditors run against `jinlin serve` in production mode, a real process."""

from __future__ import annotations

import pytest

from tests.faults.harness import Server


@pytest.fixture(scope="module")
async def production_server(_postgres_templates):
    """A production-mode server on an empty database of its own, for a module's checks."""
    url, name = await _postgres_templates.fresh()
    try:
        with Server(url) as server:
            await server.start_ready(within=60)
            yield server
    finally:
        await _postgres_templates.drop(name)
