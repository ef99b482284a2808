"""Schema extensions: error codes on GraphQL errors, and masking of the unexpected."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension

from db.driver import is_unavailable
from ledger.errors import LedgerError
from schema.input_errors import client_error_extensions

log = logging.getLogger("jinlin.errors")


class ErrorCodes(SchemaExtension):
    """Gives every error an extensions.code. Domain refusals in queries keep their
    message and code (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INVALID_INPUT, ...). A
    database that cannot serve the request now (down, restarting, saturated past its
    timeouts) is DATABASE_UNAVAILABLE. Anything else unexpected is logged with the
    request id and, in production, reaches the client only as "Internal server error"
    with that id, never a stack trace."""

    def __init__(self, *, production: bool = False):
        self.production = production

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [self._convert(e) for e in errors]

    def on_stream_result(self, result) -> Iterator[None]:
        # Results streamed over the WebSocket leave before on_operation's end: code
        # (and mask) them here, on their way out.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [self._convert(e) for e in errors]
        yield

    def _convert(self, error: GraphQLError) -> GraphQLError:
        converted = self._coded(error)
        if self.production:
            # graphql-core's hints ("Did you mean 'first'?") name arguments, types and
            # enum values the caller did not ask about: production keeps them.
            converted.message = converted.message.partition(" Did you mean ")[0]
        return converted

    def _coded(self, error: GraphQLError) -> GraphQLError:
        request = self.execution_context
        client = client_error_extensions(error, request.schema._schema, request.variables)
        if client is not None:  # the request itself is at fault (schema/input_errors.py)
            return _rebuilt(error, error.message, client)
        original = error.original_error
        if isinstance(original, LedgerError):
            extensions = {"code": original.code}
            if original.field:
                extensions["field"] = original.field.split(".")
            return _rebuilt(error, original.message, extensions)
        if original is None:
            extensions = dict(error.extensions or {})
            # A document that does not parse (or has too many tokens) is a parse
            # failure; any other error raised before execution failed validation.
            default = (
                "GRAPHQL_PARSE_FAILED"
                if isinstance(error, GraphQLSyntaxError)
                else "GRAPHQL_VALIDATION_FAILED"
            )
            extensions.setdefault("code", default)
            return _rebuilt(error, error.message, extensions)
        context = self.execution_context.context
        request_id = getattr(context, "request_id", "-")
        if is_unavailable(original):
            # Not a bug: the database is down, restarting or saturated. Say so, so that
            # clients retry later with the same idempotency key.
            log.warning("database unavailable in request %s: %r", request_id, original)
            return _rebuilt(
                error,
                "The database is unavailable right now; retry later with the same idempotency key.",
                {"code": "DATABASE_UNAVAILABLE", "requestId": request_id},
            )
        log.error("unexpected error in request %s at %s", request_id, error.path, exc_info=original)
        message = (
            "Internal server error" if self.production else f"{type(original).__name__}: {original}"
        )
        return _rebuilt(error, message, {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id})


def _rebuilt(error: GraphQLError, message: str, extensions: dict) -> GraphQLError:
    """The same error (where and in which field it happened) with a new message and
    extensions, and without the original exception."""
    return GraphQLError(
        message, error.nodes, error.source, error.positions, error.path, None, extensions
    )
