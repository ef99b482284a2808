"""uvicorn's httptools protocol with a deadline for a request's headers.

uvicorn reads headers for as long as a client cares to send them (its keep-alive
timer is reset by every byte), so a client dribbling a byte every few seconds holds
a connection forever. Here a request's headers must be complete within
JINLIN_READ_TIMEOUT seconds of its first byte (of the connection, for the first
request), or the connection is closed. Slow bodies are the request guard's (server.py).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from config import load_settings


class HeaderDeadlineProtocol(HttpToolsProtocol):
    read_timeout: float | None = None  # seconds; read from the settings once
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            cls = type(self)
            if cls.read_timeout is None:
                cls.read_timeout = load_settings().read_timeout_seconds
            self._deadline = self.loop.call_later(cls.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            self.transport.close()
