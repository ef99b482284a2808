"""The request context the server hands to resolvers, with what the WebSocket
handler needs on top: the bearer token, and a fresh copy for each operation."""

from __future__ import annotations

from dataclasses import dataclass

from schema.context import Context


def authorization_of(scope: dict) -> str | None:
    """An HTTP request's Authorization header, as Starlette's Headers.get reads it: the
    first one."""
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            return value.decode("latin-1")
    return None


@dataclass
class DoorContext(Context):
    raw_body: bytes | None = None  # an HTTP request's exact body (web/cached_answers.py)

    def token(self) -> str | None:
        return self._token()

    def fresh(self) -> DoorContext:
        """Same app and credentials, nothing read yet: the viewer is looked up again."""
        return DoorContext(
            app=self.app, authorization=self.authorization, connection_params=self.connection_params
        )
