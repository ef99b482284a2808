"""One record per HTTP request: its id, the GraphQL operation, the viewer, the error
codes, the status and the time taken. The ASGI layer (RequestLog) opens it and, when
the response is sent, writes one log line and the request metrics; the schema
extension (OperationRecorder) and the GraphQL view fill it in on the way.

The line never holds variables, headers or tokens: donors' names and passwords travel
in variables, and a bearer token in a header.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from ops import metrics
from ops.caches import after_request

log = logging.getLogger("jinlin.request")
_RECORD: ContextVar[RequestRecord | None] = ContextVar("jinlin_request", default=None)
_GOOD_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
# Probes and scrapes come every few seconds: logged at DEBUG, not INFO.
QUIET_PATHS = frozenset({"/health", "/ready", "/metrics"})
# Other paths are labelled by their first segment, never in full (codes, ids, numbers).
_SEGMENTS = frozenset({"funds", "board", "verify", "receipts", "exports", "static", "favicon.svg"})


@dataclass
class RequestRecord:
    request_id: str
    operation: str | None = None  # "mutation recordDonation": type and first root field
    operation_name: str | None = None  # the client's operationName, if a plain name
    viewer_id: int | None = None
    error_codes: list[str] = field(default_factory=list)


def current_request_id() -> str | None:
    record = _RECORD.get()
    return record.request_id if record else None


def note_errors(errors) -> None:
    """The extensions.code of each GraphQL error answered (counted and logged)."""
    record = _RECORD.get()
    for error in errors or ():
        code = str((error.extensions or {}).get("code") or "UNKNOWN")[:40]
        metrics.child(metrics.GRAPHQL_ERRORS, code).inc()
        if record is not None:
            record.error_codes.append(code)


class RequestLog:
    """ASGI middleware around the whole app (HTTP only; WebSockets pass through)."""

    def __init__(self, app):
        self.app = app
        self.state = getattr(app, "state", None)  # as the layers inside expose it

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        record = RequestRecord(request_id=_request_id(scope))
        token = _RECORD.set(record)
        status = 500  # unless a response starts: the app failed before answering
        started = time.perf_counter()

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    *message.get("headers", []),
                    (b"x-request-id", record.request_id.encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _RECORD.reset(token)
            _finish(scope, record, status, time.perf_counter() - started)


def _finish(scope, record: RequestRecord, status: int, seconds: float) -> None:
    path = scope["path"]
    graphql = path.rstrip("/") == "/graphql"
    operation = record.operation or ("graphql (not executed)" if graphql else _label(scope))
    if graphql:
        metrics.child(metrics.REQUESTS, operation, str(status)).inc()
        metrics.child(metrics.LATENCY, operation).observe(seconds)
        after_request()
    fields = {
        "request_id": record.request_id,
        "method": scope["method"],
        "path": path if not graphql else "/graphql",
        "operation": operation,
        "operation_name": record.operation_name,
        "viewer_id": record.viewer_id,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
    }
    if record.error_codes:
        fields["errors"] = record.error_codes
    level = logging.DEBUG if path in QUIET_PATHS else logging.INFO
    log.log(level, "request", extra={"fields": fields})


def _label(scope) -> str:
    segment = scope["path"].strip("/").split("/", 1)[0]
    if scope["path"] in QUIET_PATHS or segment in _SEGMENTS:
        return f"{scope['method']} /{segment}"
    return f"{scope['method']} other"


def _request_id(scope) -> str:
    """The proxy's X-Request-Id when it is a plain token, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _GOOD_REQUEST_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex[:16]


class OperationRecorder(SchemaExtension):
    """Names the operation that executes (its type and first root field: bounded by the
    schema, unlike operationName, which any client may vary) and who asked."""

    def on_execute(self) -> Iterator[None]:
        yield
        record = _RECORD.get()
        if record is None:
            return
        ctx = self.execution_context
        record.operation, record.operation_name = operation_of(ctx)
        record.viewer_id = _viewer_id(ctx.context)


def operation_of(ctx) -> tuple[str | None, str | None]:
    """The operation's label (type and first root field) and its plain operationName."""
    name = ctx.operation_name
    return _operation_label(ctx), name if name and _NAME.fullmatch(name) else None


def note_operation(operation: str | None, operation_name: str | None) -> None:
    """For an answer served without execution (web/cached_answers.py): the same record."""
    record = _RECORD.get()
    if record is not None:
        record.operation, record.operation_name = operation, operation_name


def _operation_label(ctx) -> str | None:
    document = ctx.graphql_document
    if document is None:
        return None
    operation = get_operation_ast(document, ctx.operation_name)
    if not isinstance(operation, OperationDefinitionNode):
        return None
    fields = list(_root_fields(operation.selection_set.selections))
    label = f"{operation.operation.value} {fields[0] if fields else '-'}"
    return label + ("+" if len(fields) > 1 else "")


def _root_fields(selections) -> Iterator[str]:
    for selection in selections:
        if isinstance(selection, FieldNode):
            yield selection.name.value
        elif isinstance(selection, InlineFragmentNode):
            yield from _root_fields(selection.selection_set.selections)


def _viewer_id(context) -> int | None:
    """The viewer the request looked up, if it did (not looked up for this log)."""
    task = getattr(context, "_viewer_task", None)
    if task is None or not task.done() or task.cancelled() or task.exception() is not None:
        return None
    viewer = task.result()
    return getattr(viewer, "user_id", None)
