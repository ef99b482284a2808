"""Public pages from the process's cache of public reads, with ETags.

A page's ETag is derived from its funds' journal heads, the page (its cache key), the
pages' version (the templates' text) and the viewer's visibility class, which for these
pages is always "public" (they are rendered anonymously), plus a digest of the body: a
change outside the journal (a published root) changes the body without moving the head,
and two workers that render the same body give the same tag. A request whose
If-None-Match holds the tag is answered 304 with no body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from resolvers.public_reads import PublicReads

VISIBILITY = "public"
# Revalidate on every use: a page may change with any donation.
CACHE_CONTROL = "no-cache"


def _pages_version() -> str:
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted((Path(__file__).resolve().parent / "templates").glob("*.html")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


VERSION = _pages_version()


@dataclass(slots=True, frozen=True)
class Page:
    status: int
    body: bytes
    media_type: str
    digest: str
    response: Response | None = None  # an answer not kept (an error page), as rendered


def page_of(key: tuple, response: Response) -> Page:
    if response.status_code != 200:
        return Page(response.status_code, b"", "", "", response)
    digest = hashlib.blake2b(digest_size=12)
    digest.update(repr((key, VERSION, VISIBILITY)).encode())
    digest.update(response.body)
    media_type = response.headers.get("content-type") or response.media_type or ""
    return Page(200, bytes(response.body), media_type, digest.hexdigest())


async def cached_page(
    request: Request,
    reads: PublicReads,
    engine: AsyncEngine,
    key: tuple,
    funds: tuple[int, ...],
    render: Callable[[], Awaitable[Response]],
) -> Response:
    async def load() -> Page:
        return page_of(key, await render())

    entry = await reads.get(engine, key, funds, load, keep=lambda page: page.status == 200)
    page: Page = entry.value
    if page.response is not None:
        return page.response
    etag = '"' + ".".join(map(str, entry.heads)) + "-" + page.digest + '"'
    headers = {"etag": etag, "cache-control": CACHE_CONTROL}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(page.body, headers={**headers, "content-type": page.media_type})


def _matches(header: str | None, etag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2): W/ prefixes do not matter."""
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags
