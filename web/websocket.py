"""graphql-transport-ws with the door's limits, on top of Strawberry's handler.

- A message over the size limit closes the socket (1009); anything that is not a
  well-formed protocol message (not an object, no string type, a subscribe without a
  string id and query...) closes it with 4400.
- connection_init authenticates: a token that is bad, expired or revoked closes with
  4403 (Strawberry's code for a refused connection); no token is anonymous. The
  socket closes with 4403 when its token expires.
- Each operation runs with a context of its own, so its viewer is read again (token
  expiry, revocation, deleted user, role changes within the viewer cache's time); a
  socket whose token no longer holds is closed with 4403.
- One client address holds at most so many sockets per worker (4429); each socket
  runs at most so many operations at once (Strawberry's per-connection cap).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass, field

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocketState
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import CompleteMessage
from strawberry.utils.aio import aclosing

from resolvers.throttle import current_client
from resolvers.users import token_claims
from schema import MAX_TOKENS
from schema.pipeline import is_subscription
from web.context import DoorContext

MAX_ID_LENGTH = 128


def timed_out(seconds: float, request_id: str) -> GraphQLError:
    return GraphQLError(
        f"the operation took longer than {seconds:g} s and was stopped",
        extensions={"code": "TIMEOUT", "requestId": request_id},
    )


@dataclass
class SocketLimits:
    max_message_bytes: int
    max_per_address: int
    open_by_address: Counter = field(default_factory=Counter)

    def admit(self, address: str | None) -> bool:
        if self.open_by_address[address] >= self.max_per_address:
            return False
        self.open_by_address[address] += 1
        return True

    def release(self, address: str | None) -> None:
        self.open_by_address[address] -= 1
        if self.open_by_address[address] <= 0:
            del self.open_by_address[address]


def _optional(payload: dict, key: str, kind: type) -> bool:
    return payload.get(key) is None or isinstance(payload[key], kind)


def malformed(message: object) -> str | None:
    """Why a decoded message is not a graphql-transport-ws message, or None."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message must be a JSON object with a string type"
    kind = message["type"]
    if kind in ("connection_init", "ping", "pong"):
        return None if _optional(message, "payload", dict) else f"{kind}: payload must be an object"
    if kind not in ("subscribe", "complete"):
        return f"unknown message type {kind[:40]!r}"
    ident = message.get("id")
    if not isinstance(ident, str) or not ident or len(ident) > MAX_ID_LENGTH:
        return f"{kind}: id must be a string of 1 to {MAX_ID_LENGTH} characters"
    if kind == "complete":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return "subscribe: payload.query must be a string"
    if not (
        _optional(payload, "variables", dict)
        and _optional(payload, "operationName", str)
        and _optional(payload, "extensions", dict)
    ):
        return "subscribe: variables and extensions must be objects, operationName a string"
    return None


class GuardedTransportWS(BaseGraphQLTransportWSHandler):
    _expiry: asyncio.Task | None = None

    async def handle(self) -> None:
        limits: SocketLimits = self.view.socket_limits
        address = current_client().address
        if not limits.admit(address):
            await self.websocket.close(code=4429, reason="too many connections from this address")
            return
        try:
            await self._serve()
        finally:
            limits.release(address)
            if self._expiry is not None:
                self._expiry.cancel()

    async def _serve(self) -> None:
        self.on_request_accepted()
        try:
            async for message in self._messages():
                await self.handle_message(message)
        except WebSocketDisconnected:
            pass
        finally:
            await self.shutdown()

    async def _messages(self) -> AsyncIterator[dict]:
        ws = self.websocket.ws  # the Starlette WebSocket
        limit = self.view.socket_limits.max_message_bytes
        while ws.application_state is not WebSocketState.DISCONNECTED:
            event = await ws.receive()
            if event["type"] == "websocket.disconnect":
                return
            text = event.get("text")
            if text is None:
                await self.handle_invalid_message("WebSocket message type must be text")
                return
            if len(text) > limit:  # characters: at least as many bytes
                await self.websocket.close(code=1009, reason="message too big")
                return
            try:
                message = orjson.loads(text)
            except orjson.JSONDecodeError:
                message = None
            problem = malformed(message) if message is not None else "message must be valid JSON"
            if problem:
                await self.handle_invalid_message(problem)
                return
            yield message

    async def handle_connection_init(self, message) -> None:
        await super().handle_connection_init(message)
        token = self.context.token()
        claims = token_claims(token, self.context.app.keys) if token else None
        if self.connection_acknowledged and claims and self._expiry is None:
            self._expiry = asyncio.create_task(self._close_at(claims.expires))

    async def _close_at(self, expires: float) -> None:
        await asyncio.sleep(max(0.0, expires - time.time()))
        with suppress(Exception):
            await self.websocket.close(code=4403, reason="token expired")

    async def run_operation(self, operation: Operation) -> None:
        """Strawberry's, with a fresh context (and viewer) for each operation."""
        context = self.context.fresh()
        try:
            if context.token() is not None and await context.viewer() is None:
                with contextlib.suppress(Exception):
                    await self.websocket.close(code=4403, reason="token no longer valid")
                self.operations.pop(operation.id, None)
                return
            # Queries and mutations get the HTTP time limit; subscriptions live on.
            subscription = is_subscription(operation.query, operation.operation_name, MAX_TOKENS)
            if subscription and context.token() is None and await self._shared(operation):
                await operation.send_operation_message(
                    CompleteMessage(id=operation.id, type="complete")
                )
                return
            async with asyncio.timeout(None if subscription else self.view.timeout):
                result_source = await self.schema.stream(
                    operation.query,
                    variable_values=operation.variables,
                    context_value=context,
                    root_value=self.root_value,
                    operation_name=operation.operation_name,
                )
                async with aclosing(result_source):
                    await self._send_result_stream(operation, result_source)
            await operation.send_operation_message(
                CompleteMessage(id=operation.id, type="complete")
            )
        except _OperationStreamClosed:
            return
        except TimeoutError:
            await operation.send_initial_errors([timed_out(self.view.timeout, context.request_id)])
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def _shared(self, operation: Operation) -> bool:
        """An anonymous subscription joins the worker's shared execution of the same
        document and variables (web/broadcasts.py); False when it is not shareable."""

        def start():
            return self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=DoorContext(app=self.context.app, broadcast=True),
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )

        return await self.view.broadcasts.serve(operation, start, self.websocket.ws.send_text)
