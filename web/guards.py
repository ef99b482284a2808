"""The outermost ASGI layer: refuses paths with control characters, records who the
client is for the request (login throttling), and adds the security headers.

Pages get a Content-Security-Policy that allows scripts, styles and connections from
this origin only (no inline script); every response says nosniff, sends no referrer
and may not be framed. GraphiQL (development only, served from a CDN with inline
script) is the one page without the CSP.
"""

from __future__ import annotations

from resolvers.throttle import CLIENT, Client
from schema.strings import has_control_characters

PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class DoorGuard:
    def __init__(self, app, *, ide_path: str | None):
        self.app = app
        self.state = getattr(app, "state", None)  # the Starlette app's, for tests and tools
        self.ide_path = ide_path  # where the development IDE page is served, if anywhere

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        if _bad_path(scope):
            return await _not_found(scope, send)
        client = Client(address=(scope.get("client") or (None,))[0])
        token = CLIENT.set(client)
        try:
            if scope["type"] == "websocket":
                return await self.app(scope, receive, send)
            return await self.app(scope, receive, self._headers(scope, send, client))
        finally:
            CLIENT.reset(token)

    def _headers(self, scope, send, client: Client):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in COMMON if h[0] not in names]
                if b"content-security-policy" not in names:
                    csp = self._csp(scope, headers)
                    if csp:
                        headers.append((b"content-security-policy", csp.encode()))
                if client.retry_after is not None:
                    headers.append((b"retry-after", str(client.retry_after).encode()))
                message = {**message, "headers": headers}
            await send(message)

        return send_with_headers

    def _csp(self, scope, headers) -> str | None:
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        if not content_type.startswith(b"text/html"):
            return API_CSP
        if self.ide_path is not None and scope["path"].rstrip("/") == self.ide_path:
            return "frame-ancestors 'none'"
        return PAGE_CSP


def _bad_path(scope) -> bool:
    # The ASGI path is percent-decoded (as UTF-8): /funds/%00 arrives as a NUL.
    return has_control_characters(scope.get("path", ""))


async def _not_found(scope, send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b'{"error":"not found"}'
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *COMMON,
                (b"content-security-policy", API_CSP.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
