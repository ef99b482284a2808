"""One execution per anonymous subscription, its frames sent to every socket.

A thousand phones watching a campaign's board subscribe with the same document and
variables, and none of them brings a token: what each may see is what anyone may see,
so every one of them would execute the same selection on every change and encode the
same answer. Per worker, such sockets share one execution instead: its results are
encoded once and the same payload goes to each socket, under its own operation id.

- Only anonymous sockets share, and the shared execution runs with an anonymous
  context: visibility is decided on the objects exactly as for each socket alone.
  A socket with a token runs its own execution (web/websocket.py).
- Emissions are at least `MIN_INTERVAL` apart: changes that arrive meanwhile coalesce
  into the next emission (the resolver re-reads progress once per wake-up), so a
  festival's donation rate does not multiply into frames per socket.
- Each socket sends from its own task, the latest payload it has not sent: a slow
  socket skips to the newest answer and delays no one else.
- A socket that joins a running execution gets its latest payload at once.
- A document that does not yield answers (a request error, incremental delivery) is
  not shared: each socket runs it alone and gets the usual error.
- The execution ends with its last socket, and a socket completes when it ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from typing import Any

import orjson
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from ops import metrics

log = logging.getLogger("jinlin.broadcasts")
MIN_INTERVAL = 0.5  # seconds between two emissions of one shared execution


class Broadcast:
    """One shared execution: its latest encoded payload and who listens."""

    def __init__(self, key: Hashable) -> None:
        self.key = key
        self.payload: str | None = None
        self.version = 0  # bumped on every payload
        self.ended = False  # the execution is over: listeners complete
        self.refused = False  # not shareable: listeners run their own executions
        self.listeners = 0
        self.task: asyncio.Task | None = None
        self._changed = asyncio.Event()

    def publish(self, result: ExecutionResult) -> None:
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        self.payload = orjson.dumps(payload).decode()
        self.version += 1
        self._wake()

    def end(self, *, refused: bool = False) -> None:
        self.refused = self.refused or refused
        self.ended = True
        self._wake()

    def _wake(self) -> None:
        # Every waiter is woken by set(); clearing at once re-arms it for the next.
        self._changed.set()
        self._changed.clear()

    async def changed(self) -> None:
        await self._changed.wait()


class Broadcasts:
    """The worker's shared executions, by (document, variables, operation name)."""

    def __init__(self, min_interval: float = MIN_INTERVAL) -> None:
        self.min_interval = min_interval
        self._running: dict[Hashable, Broadcast] = {}

    def __len__(self) -> int:
        return len(self._running)

    async def serve(self, operation, start: Callable[[], Any], send_text) -> bool:
        """Send the shared execution's payloads to `operation` until it ends; False
        (nothing sent) when the document is not shareable. `start()` opens the
        execution's result stream; `send_text` sends one text frame on the socket."""
        try:
            key = (operation.query, _variables(operation.variables), operation.operation_name)
        except orjson.JSONEncodeError:  # nested past orjson's depth: not shared
            return False
        broadcast = self._running.get(key)
        if broadcast is None:
            broadcast = self._running[key] = Broadcast(key)
            broadcast.task = asyncio.create_task(self._run(broadcast, start))
        broadcast.listeners += 1
        metrics.SUBSCRIPTIONS.inc()
        try:
            return await _listen(broadcast, operation, send_text)
        finally:
            metrics.SUBSCRIPTIONS.dec()
            broadcast.listeners -= 1
            if broadcast.listeners == 0:
                self._forget(broadcast)
                if broadcast.task is not None and not broadcast.task.done():
                    broadcast.task.cancel()

    async def _run(self, broadcast: Broadcast, start: Callable[[], Any]) -> None:
        refused = False
        try:
            source = await start()
            async with aclosing(source):
                async for result in source:
                    if isinstance(result, PreExecutionError) or not isinstance(
                        result, ExecutionResult
                    ):
                        refused = broadcast.version == 0
                        return
                    broadcast.publish(result)
                    # Changes heard meanwhile wait for the next pull: they coalesce.
                    await asyncio.sleep(self.min_interval)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("a shared subscription failed; its sockets complete")
        finally:
            self._forget(broadcast)
            broadcast.end(refused=refused)

    def _forget(self, broadcast: Broadcast) -> None:
        if self._running.get(broadcast.key) is broadcast:
            del self._running[broadcast.key]


async def _listen(broadcast: Broadcast, operation, send_text) -> bool:
    sent = 0
    while True:
        if broadcast.version > sent:
            sent = broadcast.version
            if operation.completed:
                return True
            frame = _frame(operation.id, broadcast.payload)
            try:
                await send_text(frame)
            except WebSocketDisconnect as exc:
                raise WebSocketDisconnected from exc
            continue
        if broadcast.ended:
            return not (broadcast.refused and sent == 0)
        await broadcast.changed()


def _frame(operation_id: str, payload: str | None) -> str:
    return f'{{"id":{orjson.dumps(operation_id).decode()},"type":"next","payload":{payload}}}'


def _variables(variables: dict | None) -> str:
    return orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS).decode()
