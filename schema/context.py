"""The typed per-request context: engine, settings, the signed-in viewer, DataLoaders."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.types import Info as _Info

from resolvers.auth import Viewer
from resolvers.loaders import Loaders
from resolvers.loaders_visible import VisibleLoaders
from resolvers.users import TokenKeys, cached_viewer, viewer_from_token


@dataclass
class AppState:
    """What lives as long as the process: shared by every request."""

    engine: AsyncEngine
    keys: TokenKeys
    production: bool
    timezone: Any
    events: Any = None  # the change feed behind subscriptions
    replica: Any = None  # db.replica.ReadReplica when JINLIN_READ_DATABASE_URL is set

    @property
    def read_engine(self) -> AsyncEngine:
        """Where public reads go (public report, pages, the anonymous live board): the
        replica when there is one and it is not further behind than JINLIN_READ_MAX_LAG.
        Money reads, receipts and writes use `engine`."""
        if self.replica is None or self.replica.behind:
            return self.engine  # no replica, or one further behind than allowed
        return self.replica.engine


@dataclass
class Context:
    app: AppState
    authorization: str | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    connection_params: dict | None = None
    _viewer_task: asyncio.Task | None = None
    # One anonymous subscription's execution, shared by many sockets (web/broadcasts.py):
    # those count the open subscriptions, not it.
    broadcast: bool = False
    # Set by a mutation (schema/mutations/base.py): the rest of the request reads its
    # own writes, public reads included (see read_engine).
    wrote: bool = False

    @property
    def engine(self) -> AsyncEngine:
        return self.app.engine

    @cached_property
    def loaders(self) -> Loaders:
        """Plain loaders: public objects, and what the viewer-scoped ones read through."""
        return Loaders(self.app.engine)

    @property
    def read_engine(self) -> AsyncEngine:
        """Where this request's public reads go: AppState.read_engine (the replica when
        there is one and it keeps up), but the primary once the request wrote, so that a
        mutation's payload shows what it wrote (a gift's publicFund with the gift in it)."""
        return self.app.engine if self.wrote else self.app.read_engine

    @property
    def public_loaders(self) -> Loaders:
        """Loaders for what anyone may see, through read_engine."""
        if self.app.replica is None or self.wrote:
            return self.loaders
        return self._replica_loaders

    @cached_property
    def _replica_loaders(self) -> Loaders:
        return Loaders(self.app.read_engine)

    @cached_property
    def visible(self) -> VisibleLoaders:
        """Loaders that answer only what this request's viewer may see."""
        return VisibleLoaders(self.loaders, self.viewer)

    def _token(self) -> str | None:
        header = self.authorization
        if header is None and isinstance(self.connection_params, dict):
            header = self.connection_params.get("Authorization") or self.connection_params.get(
                "authorization"
            )
        if not isinstance(header, str):
            return None
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    async def viewer(self) -> Viewer | None:
        """The signed-in user, read once per request; None for anonymous or bad tokens.

        Fields resolve concurrently, so the first caller starts one shared task and
        the others await it: one user lookup, and DataLoader batches stay aligned. When
        no read is needed (no token, a bad one, or its user read lately), the first
        caller answers at once and leaves a finished future for the others."""
        task = self._viewer_task
        if task is None:
            known, viewer = self._known_viewer()
            if known:
                task = self._viewer_task = asyncio.get_running_loop().create_future()
                task.set_result(viewer)
                return viewer
            task = self._viewer_task = asyncio.ensure_future(self._load_viewer())
        elif task.done():  # the common case, asked once per field: no new future
            return task.result()
        return await asyncio.shield(task)

    def _known_viewer(self) -> tuple[bool, Viewer | None]:
        token = self._token()
        return cached_viewer(self.app.engine, token, self.app.keys) if token else (True, None)

    async def _load_viewer(self) -> Viewer | None:
        token = self._token()
        return await viewer_from_token(self.app.engine, token, self.app.keys) if token else None


Info = _Info[Context, None]
