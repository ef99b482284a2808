"""The request context the server hands to resolvers, with what the WebSocket
handler needs on top: the bearer token, and a fresh copy for each operation."""

from __future__ import annotations

from dataclasses import dataclass

from schema.context import Context


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
