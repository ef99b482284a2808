"""Apollo's automatic persisted queries (APQ): a client sends the SHA-256 of its query
instead of the query, and the whole query only when the server does not know it yet.

    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<64 hex digits>"}}}

- A known hash runs its query. The stored text is the same str object every time, so
  the parse and validation caches (schema/pipeline.py) answer it without lexing again.
- An unknown hash without a query: the error PERSISTED_QUERY_NOT_FOUND (message
  "PersistedQueryNotFound", as Apollo Client expects); the client sends the query along.
- A query with a hash that is not its SHA-256: BAD_REQUEST, nothing stored.

Each worker keeps its own store, bounded in entries and in characters (least recently
used first out), so that clients cannot grow it without limit; a hash one worker never
saw costs the client one more round trip.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from typing import Any

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
MAX_QUERIES = 1000
MAX_CHARS = 4_000_000  # of query text per worker
_HASH = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(Exception):
    def __init__(self, message: str, code: str = "BAD_REQUEST"):
        super().__init__(message)
        self.message, self.code = message, code


def persisted_hash(extensions: Any) -> str | None:
    """The request's persisted-query hash; None when it asks for none. Raises
    PersistedQueryError for an extension that is not APQ version 1."""
    if not isinstance(extensions, dict) or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise PersistedQueryError("extensions.persistedQuery must be an object")
    if persisted.get("version") != 1:
        raise PersistedQueryError("Unsupported persisted query version")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise PersistedQueryError(
            "persistedQuery.sha256Hash must be 64 lowercase hexadecimal digits"
        )
    return digest


class PersistedQueries:
    """One worker's store: hash -> query text."""

    def __init__(self, max_queries: int = MAX_QUERIES, max_chars: int = MAX_CHARS):
        self.max_queries, self.max_chars = max_queries, max_chars
        self._queries: OrderedDict[str, str] = OrderedDict()
        self._chars = 0

    def query_for(self, query: str | None, extensions: Any) -> str | None:
        """The query to run: `query` itself, or the one stored under the request's hash."""
        digest = persisted_hash(extensions)
        if digest is None:
            return query
        if query is None:
            stored = self._queries.get(digest)
            if stored is None:
                raise PersistedQueryError("PersistedQueryNotFound", NOT_FOUND)
            self._queries.move_to_end(digest)
            return stored
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise PersistedQueryError("provided sha does not match query")
        return self._store(digest, query)

    def _store(self, digest: str, query: str) -> str:
        stored = self._queries.get(digest)
        if stored is not None:
            self._queries.move_to_end(digest)
            return stored  # the text the caches already know
        if len(query) > self.max_chars:
            return query  # runs, but is not kept
        self._queries[digest] = query
        self._chars += len(query)
        while len(self._queries) > self.max_queries or self._chars > self.max_chars:
            _, dropped = self._queries.popitem(last=False)
            self._chars -= len(dropped)
        return query

    def __len__(self) -> int:
        return len(self._queries)
