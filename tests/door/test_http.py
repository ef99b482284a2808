"""HTTP hygiene: security headers and no inline script on the pages, request errors
without data, subscriptions pointed to the WebSocket, and read timeouts for slow
headers and bodies (against a real server)."""

from __future__ import annotations

import asyncio
import re
import time

from tests.door.conftest import serving


def _directives(csp: str) -> dict[str, str]:
    return {d.split()[0]: d for d in (part.strip() for part in csp.split(";")) if d}


async def test_pages_carry_security_headers_and_no_inline_script(world):
    for path in ("/funds/ETGY", f"/board/{world.campaign}"):
        response = await world.api.http.get(path)
        assert response.status_code == 200, path
        headers = response.headers
        csp = _directives(headers["content-security-policy"])
        assert csp["script-src"] == "script-src 'self'"
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert csp["frame-ancestors"] == "frame-ancestors 'none'"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        html = response.text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
        assert not re.search(r"\sstyle=|\son[a-z]+=", html), "inline style or handler"
    api_response = await world.api.http.post("/graphql", json={"query": "{__typename}"})
    assert api_response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in api_response.headers["content-security-policy"]


async def test_request_errors_have_no_data_and_field_errors_do(world):
    api = world.api
    for query in ("{ nosuch }", "{ a", "query($x: Int!) { __typename }"):
        body = (await api.http.post("/graphql", json={"query": query})).json()
        assert "data" not in body and body["errors"], query
    # A field error is not a request error: data is there.
    body = (
        await api.http.post("/graphql", json={"query": '{ fundByCode(code: "ETGY") { name } }'})
    ).json()
    assert body["data"] == {"fundByCode": None}
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_subscription_over_post_is_told_to_use_the_websocket(world):
    query = "subscription($c: ID!) { campaignProgress(campaignId: $c) { donationCount } }"
    response = await world.api.http.post(
        "/graphql", json={"query": query, "variables": {"c": world.campaign}}
    )
    body = response.json()
    assert "data" not in body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in error["message"]


async def _closed_or_answered(reader, within: float) -> bytes:
    """What the server sends before it closes the connection (b"" for nothing)."""
    return await asyncio.wait_for(reader.read(), within)


async def test_slow_headers_are_cut_off(db_url):
    async with serving(db_url, JINLIN_READ_TIMEOUT="0.5") as host:
        address, port = host.split(":")
        reader, writer = await asyncio.open_connection(address, int(port))
        started = time.monotonic()
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")

        async def dribble():
            for _ in range(50):  # one header byte every 0.1 s: never complete
                await asyncio.sleep(0.1)
                writer.write(b"X")
                await writer.drain()

        dribbler = asyncio.create_task(dribble())
        try:
            answer = await _closed_or_answered(reader, 3)
        finally:
            dribbler.cancel()
            writer.close()
        assert time.monotonic() - started < 2.5
        assert answer.startswith(b"HTTP/1.1 408") or answer == b""


async def test_a_slow_body_is_refused_with_408(db_url):
    async with serving(db_url, JINLIN_READ_TIMEOUT="0.5") as host:
        address, port = host.split(":")
        reader, writer = await asyncio.open_connection(address, int(port))
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"query":'
        )
        await writer.drain()
        started = time.monotonic()
        status = await asyncio.wait_for(reader.readline(), 3)
        writer.close()
        assert status.startswith(b"HTTP/1.1 408"), status
        assert time.monotonic() - started < 2.5
