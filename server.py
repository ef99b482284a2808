"""The Starlette app: /graphql (HTTP and graphql-transport-ws), /health, /ready, /metrics,
and the lifespan that owns the database engine and the live-update feed."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData, process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from config import Settings, load_settings
from db.engine import make_engine, operating_warnings
from db.replica import ReadReplica
from ops import hooks as ops_hooks
from ops import metrics as ops_metrics
from ops.health import health_routes
from ops.logs import configure_logging
from ops.requests import OperationRecorder, RequestLog, current_request_id, note_errors
from pages import routes as page_routes
from pages.ide import Ide, IdeOrApi
from resolvers.exports_http import routes as export_routes
from resolvers.live import CampaignFeed
from resolvers.public_reads import reads_of
from resolvers.users import TokenKeys
from schema import build_schema
from schema.context import AppState
from web.broadcasts import Broadcasts
from web.cached_answers import CachedAnswers, send_answer
from web.context import DoorContext, authorization_of
from web.guards import DoorGuard
from web.persisted_queries import PersistedQueries, PersistedQueryError
from web.websocket import GuardedTransportWS, SocketLimits, timed_out

log = logging.getLogger("jinlin.server")
MAX_BODY_BYTES = 1024 * 1024
GRAPHQL_PATH = "/graphql"
CORS_MAX_AGE = 7200  # seconds a browser may reuse a preflight (Chromium's own ceiling)


HTTP_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
GET_OPERATIONS = frozenset({OperationType.QUERY})
ONLY_QUERIES = "GET runs persisted queries only: send mutations with POST"
MAX_GET_QUERY_STRING = 16 * 1024  # a hash and variables; longer requests use POST
USE_WEBSOCKET = (
    "subscriptions are served over WebSocket only: connect to /graphql with the"
    " graphql-transport-ws protocol"
)


class JinlinGraphQL(GraphQL):
    graphql_transport_ws_handler_class = GuardedTransportWS

    def __init__(self, state: AppState, settings: Settings, **kwargs: Any):
        super().__init__(build_schema(production=state.production), **kwargs)
        self.schema.extensions = (*self.schema.extensions, OperationRecorder)
        ops_hooks.watch_schema(self.schema)
        self.state = state
        self.persisted = PersistedQueries()
        self.answers = CachedAnswers()
        self.broadcasts = Broadcasts()
        self.timeout = settings.request_timeout_seconds
        self.max_subscriptions_per_connection = settings.ws_max_subscriptions
        self.socket_limits = SocketLimits(
            max_message_bytes=MAX_BODY_BYTES,
            max_per_address=settings.ws_max_connections_per_address,
        )

    async def __call__(self, scope, receive, send):
        """As strawberry's, but what it refuses over HTTP (a body that is not JSON, a
        query that is not a string, variables that are not an object) is answered in
        JSON with a code, like every other request error, not in plain text."""
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        answered = self.answers.answer(reads_of(self.state), scope)
        if answered is not None:
            return await send_answer(send, answered)
        body = scope.get("jinlin.body")
        if body is not None and scope["method"] == "POST" and not self._stream_transport_map:
            return await self._post(scope, body, receive, send)
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as exc:
            return await _refuse(send, exc.status_code, exc.reason)
        await response(scope, receive, send)

    async def _post(self, scope, body: bytes, receive, send) -> None:
        """A POST whose body RequestGuard read and vetted (application/json, within the
        size limit, not a batch), run as strawberry's view runs it (the same context, checks,
        execution, result processing and JSON response) without building its request
        adapter, sub-response and response objects. With no streaming transport
        configured, a POST's protocol is always plain HTTP."""
        try:
            context = self._context(scope, authorization_of(scope))
            request_data = _request_data(self.parse_json(body))
            result = await self._execute(context, request_data, get=False)
        except HTTPException as exc:
            return await _refuse(send, exc.status_code, exc.reason)
        response_data = await self.process_result(None, result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        response = Response(self.encode_json(response_data), media_type="application/json")
        await response(scope, receive, send)

    async def get_context(self, request, response) -> DoorContext:
        return self._context(request.scope, request.headers.get("authorization"))

    def _context(self, scope, authorization: str | None) -> DoorContext:
        context = DoorContext(app=self.state, authorization=authorization)
        context.raw_body = scope.get("jinlin.body")
        context.request_id = current_request_id() or context.request_id
        return context

    def should_render_graphql_ide(self, request) -> bool:
        # The IDE is pages/ide.py's; a GET that reaches the view is a persisted query.
        return False

    async def on_ws_connect(self, context: DoorContext):
        """A socket that brings a token must bring a good one (else 4403)."""
        if context.token() is not None and await context.viewer() is None:
            raise ConnectionRejectionError()
        return UNSET

    async def execute_single(
        self, request, request_adapter, sub_response, context, root_value, request_data
    ) -> ExecutionResult:
        get = request_adapter.method == "GET"
        return await self._execute(context, request_data, get=get, root_value=root_value)

    async def _execute(
        self, context, request_data, *, get: bool, root_value=None
    ) -> ExecutionResult:
        """Queries and mutations, within the execution timeout; a subscription is a
        request error that points to the WebSocket. A persisted query (APQ) runs the
        text stored under its hash; GET (which RequestGuard lets through only for a
        persisted query) runs queries only."""
        try:
            query = self.persisted.query_for(request_data.query, request_data.extensions)
        except PersistedQueryError as exc:
            return _request_error(exc.message, exc.code)
        try:
            async with asyncio.timeout(self.timeout):
                return await self.schema.execute(
                    query,
                    root_value=root_value,
                    variable_values=request_data.variables,
                    context_value=context,
                    operation_name=request_data.operation_name,
                    allowed_operation_types=GET_OPERATIONS if get else HTTP_OPERATIONS,
                    operation_extensions=request_data.extensions,
                )
        except InvalidOperationTypeError:
            return _request_error(ONLY_QUERIES if get else USE_WEBSOCKET, "BAD_REQUEST")
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request") from exc
        except TimeoutError:
            log.warning(
                "request %s ran past %s s and was stopped", context.request_id, self.timeout
            )
            return ExecutionResult(data=None, errors=[timed_out(self.timeout, context.request_id)])

    async def process_result(self, request, result: ExecutionResult) -> dict:
        """A request error (nothing executed) has no data entry (GraphQL over HTTP):
        a document that did not parse or validate, or variables that could not be
        coerced (graphql-core answers those with data None, before any resolver)."""
        note_errors(result.errors)
        response = process_result(result)
        if isinstance(result, PreExecutionError) or _variables_refused(result):
            response.pop("data", None)
        return response

    def encode_json(self, data: object) -> str:
        # A str, not bytes: WebSocket messages must go out as text frames.
        return orjson.dumps(data).decode()

    def parse_json(self, data: str | bytes) -> dict:
        """orjson refuses invalid UTF-8 and nesting past 1024 levels (the standard
        parser recurses until RecursionError); a body must be one JSON object."""
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, "Unable to parse request body as JSON") from exc
        if not isinstance(parsed, dict):
            raise HTTPException(400, "the request body must be one JSON object")
        return parsed


class RequestGuard:
    """Refuses, before any parsing, what /graphql never accepts: bodies over 1 MB
    (however they are sent, chunked included), anything but POST with
    application/json (GET queries, forms, multipart, text/plain: which also closes
    the CSRF door). GET stays open for the GraphiQL page in development, and for
    persisted queries (APQ, web/persisted_queries.py)."""

    def __init__(self, app, *, allow_ide: bool, read_timeout: float):
        self.app = app
        self.state = app.state  # the Starlette app's, as tests and tools reach for it
        self.allow_ide = allow_ide
        self.read_timeout = read_timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].rstrip("/") != GRAPHQL_PATH:
            return await self.app(scope, receive, send)
        method = scope["method"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if (
            method == "GET"
            and self.allow_ide
            and "text/html" in headers.get("accept", "")
            and not scope.get("query_string")
        ):
            return await self.app(scope, receive, send)
        if method == "GET" and _persisted_get(scope.get("query_string", b"")):
            return await self.app(scope, receive, send)
        if method != "POST":
            return await _refuse(send, 405, "use POST with a JSON body", {"allow": "POST"})
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            return await _refuse(send, 415, "Content-Type must be application/json")
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            return await _refuse(send, 413, "request body is larger than 1 MB")
        try:
            async with asyncio.timeout(self.read_timeout):
                body = await _read_body(receive)
        except TimeoutError:
            return await _refuse(send, 408, "the request body came too slowly")
        if body is None:
            return None
        if len(body) > MAX_BODY_BYTES:
            return await _refuse(send, 413, "request body is larger than 1 MB")
        if body.lstrip()[:1] == b"[":
            return await _refuse(send, 400, "batched requests are not accepted: send one operation")
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        # The exact body, for answers kept by it (web/cached_answers.py).
        return await self.app({**scope, "jinlin.body": bytes(body)}, replay, send)


class PersistedGet:
    """A GET of a persisted query goes to the API, before the IDE's page (development)
    takes every other GET."""

    def __init__(self, api, other):
        self.api, self.other = api, other

    async def __call__(self, scope, receive, send):
        if scope["method"] == "GET" and _persisted_get(scope.get("query_string", b"")):
            return await self.api(scope, receive, send)
        return await self.other(scope, receive, send)


def _request_data(data: dict) -> GraphQLRequestData:
    """A request's fields, refused as strawberry's view refuses them."""
    query, variables = data.get("query"), data.get("variables")
    extensions = data.get("extensions")
    if not isinstance(query, str | None):
        raise HTTPException(400, f"The GraphQL operation's `query` {_STRING_OR_NULL}")
    if not isinstance(variables, dict | None):
        raise HTTPException(400, f"The GraphQL operation's `variables` {_OBJECT_OR_NULL}")
    if not isinstance(extensions, dict | None):
        raise HTTPException(400, f"The GraphQL operation's `extensions` {_OBJECT_OR_NULL}")
    return GraphQLRequestData(
        query=query,
        variables=variables,
        operation_name=data.get("operationName"),
        extensions=extensions,
        protocol="http",
    )


_STRING_OR_NULL = "must be a string or null, if provided."
_OBJECT_OR_NULL = "must be an object or null, if provided."


def _persisted_get(query_string: bytes) -> bool:
    """Whether a GET asks for a persisted query (APQ: extensions.persistedQuery in the
    query string). Bearer tokens travel in a header a cross-site page cannot set, and
    GET runs queries only, so this opens no CSRF door."""
    if not query_string or len(query_string) > MAX_GET_QUERY_STRING:
        return False
    values = parse_qs(query_string.decode("latin-1")).get("extensions", [])
    try:
        extensions = orjson.loads(values[0]) if len(values) == 1 else None
    except orjson.JSONDecodeError:
        return False
    return isinstance(extensions, dict) and "persistedQuery" in extensions


async def _read_body(receive) -> bytearray | None:
    """The whole body, or as much as proves it too large; None if the client left."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body.extend(message.get("body", b""))
        if len(body) > MAX_BODY_BYTES or not message.get("more_body"):
            return body


def _variables_refused(result: ExecutionResult) -> bool:
    """Whether nothing ran because a variable could not be coerced: no data, and every
    error BAD_USER_INPUT with no path (an error of a resolver has one)."""
    return (
        result.data is None
        and bool(result.errors)
        and all(
            e.path is None and (e.extensions or {}).get("code") == "BAD_USER_INPUT"
            for e in result.errors
        )
    )


def _request_error(message: str, code: str) -> PreExecutionError:
    return PreExecutionError(data=None, errors=[GraphQLError(message, extensions={"code": code})])


async def _refuse(send, status: int, message: str, extra_headers: dict | None = None) -> None:
    payload = orjson.dumps(
        {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    headers += [(k.encode(), v.encode()) for k, v in (extra_headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class ApiCors:
    """CORS for /graphql only, from JINLIN_CORS_ORIGINS: POST with Authorization and
    Content-Type. It sits outside the request guard, which refuses OPTIONS."""

    def __init__(self, app, origins: tuple[str, ...]):
        self.app = app
        self.state = app.state
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=CORS_MAX_AGE,
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].rstrip("/") == GRAPHQL_PATH:
            return await self.cors(scope, receive, send)
        return await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> Any:
    settings = settings or load_settings()
    engine = make_engine(
        settings.database_url, writers=settings.db_writers, pooler=settings.db_pooler
    )
    ops_hooks.watch_engine(engine)
    replica = read_replica(settings, engine)
    if replica is not None:
        ops_hooks.watch_pool(replica.engine, ops_metrics.REPLICA_POOL_IN_USE)
    state = AppState(
        engine=engine,
        keys=TokenKeys(settings.secret_key, settings.token_ttl_seconds),
        production=settings.production,
        timezone=settings.timezone,
        events=CampaignFeed(engine, listen_url=settings.listen_database_url),
        replica=replica,
    )
    graphql = JinlinGraphQL(
        state,
        settings,
        graphql_ide=None,  # the IDE page is pages/ide.py's, from local files
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        keep_alive=True,
        keep_alive_interval=15,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        for warning in await operating_warnings(engine):
            log.warning(warning)
        await state.events.start()
        if replica is not None:
            replica.watch_lag()
        try:
            yield
        finally:
            await state.events.stop()
            if replica is not None:
                await replica.dispose()
            await engine.dispose()
            ops_metrics.worker_exited()

    ide = None if settings.production else Ide()
    routes = [
        Route(GRAPHQL_PATH, PersistedGet(graphql, IdeOrApi(graphql, ide)), methods=["GET", "POST"]),
        WebSocketRoute(GRAPHQL_PATH, graphql),
        *health_routes(engine),
        Route("/metrics", ops_metrics.metrics_endpoint(settings.metrics_token)),
        *export_routes(state),
    ]
    routes += page_routes(state)
    routes += ide.routes() if ide else []
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.jinlin = state
    guarded = RequestGuard(
        app, allow_ide=not settings.production, read_timeout=settings.read_timeout_seconds
    )
    if settings.cors_origins:
        guarded = ApiCors(guarded, settings.cors_origins)
    # The IDE page sends its own CSP (no inline script), so no path is exempt.
    return RequestLog(DoorGuard(guarded, ide_path=None))


def read_replica(settings: Settings, primary: AsyncEngine) -> ReadReplica | None:
    """The replica public reads go to (JINLIN_READ_DATABASE_URL), if any."""
    if settings.read_database_url is None:
        return None
    return ReadReplica(
        settings.read_database_url,
        primary,
        pooler=settings.db_pooler,
        max_lag=settings.read_max_lag_seconds,
    )


def app_factory() -> Any:
    """uvicorn --factory entry point."""
    settings = load_settings()
    configure_logging(settings.log_format)
    app = create_app(settings)
    # Everything built so far (schema, types, modules) lives as long as the process:
    # keep the cyclic GC from re-scanning it on every collection.
    gc.freeze()
    return app
