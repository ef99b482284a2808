"""Public report answers served before the GraphQL view.

A request to /graphql costs most of its time in the view, not in the cache: decoding
the body, parsing (or the parse cache), validation, the extensions' hooks and encoding
the answer. Once an anonymous request's body has been answered by a full execution
from the cache of public reads (schema/public_report_cache.py names the body an alias
of the cache entry), the same bytes are answered from here while that entry is
fresh: the same data, encoded once per entry, with the same headers as the view's.

Only anonymous requests (no Authorization header) are answered here, so a token,
good or bad, always meets the view's own checks. Anything else (another body, a
stale entry, a listener that lost its session) goes to the view as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

import orjson

from ops.requests import note_operation
from resolvers.public_reads import Entry, PublicReads
from schema.public_report_cache import MAX_KEPT_SIZE
from web.context import authorization_of

_HEADERS = [(b"content-type", b"application/json")]


class CachedAnswers:
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._encoded: OrderedDict[Hashable, tuple[Entry, bytes]] = OrderedDict()

    def answer(self, reads: PublicReads | None, scope: dict) -> bytes | None:
        """The encoded answer for this request, or None when the view must answer."""
        body = scope.get("jinlin.body")
        if (
            reads is None
            or body is None
            or len(body) > MAX_KEPT_SIZE
            or authorization_of(scope) is not None
        ):
            return None
        found = reads.by_alias(("body", body))
        if found is None:
            return None
        key, entry, meta = found
        encoded = self._encode(key, entry)
        note_operation(*meta)
        return encoded

    def _encode(self, key: Hashable, entry: Entry) -> bytes:
        held = self._encoded.get(key)
        if held is not None and held[0] is entry:
            return held[1]
        encoded = orjson.dumps({"data": entry.value})
        self._encoded[key] = (entry, encoded)
        self._encoded.move_to_end(key)
        while len(self._encoded) > self.size:
            self._encoded.popitem(last=False)
        return encoded


async def send_answer(send, encoded: bytes) -> None:
    headers = [*_HEADERS, (b"content-length", str(len(encoded)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": encoded})
