"""The door's tests: a real uvicorn server in the test's process (so module state
such as the viewer cache can be tuned), with the app built from chosen settings."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest
import uvicorn

import resolvers.throttle as throttle
import resolvers.users as users
from config import load_settings
from server import create_app
from web.slow_clients import HeaderDeadlineProtocol

SECRET = "x" * 40  # the in-process api fixture's, so its tokens work here too


def settings_for(db_url: str, **env: str):
    return load_settings({"JINLIN_DATABASE_URL": db_url, "JINLIN_SECRET_KEY": SECRET, **env})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(db_url: str, **env: str):
    """host:port of a real server of the app, with JINLIN_* settings from env."""
    settings = settings_for(db_url, **env)
    HeaderDeadlineProtocol.read_timeout = settings.read_timeout_seconds
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            http=HeaderDeadlineProtocol,
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        HeaderDeadlineProtocol.read_timeout = None


@pytest.fixture(autouse=True)
def _fresh_throttles():
    for backoff in (throttle.BY_USERNAME, throttle.BY_ADDRESS):
        backoff._entries.clear()
    yield
    for backoff in (throttle.BY_USERNAME, throttle.BY_ADDRESS):
        backoff._entries.clear()


@pytest.fixture
def no_viewer_cache(monkeypatch):
    """Read the user on every request, as a server does once its cache time is up."""
    monkeypatch.setattr(users, "VIEWER_TTL_SECONDS", 0.0)


@contextlib.asynccontextmanager
async def client_with(db_url: str, **env: str):
    """The in-process GraphQL client of tests/api, over an app built with env."""
    from tests.api.client import GraphQLClient

    app = create_app(settings_for(db_url, **env))
    client = GraphQLClient(app, app.state.jinlin)
    try:
        yield client
    finally:
        await client.close()
