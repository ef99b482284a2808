"""Hostile requests against a real server: each gets a clear 4xx or GraphQL error
quickly, the server stays up, and its memory stays bounded."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import pytest

from tests.faults.harness import Server

pytestmark = pytest.mark.slow

QUICK = 5.0  # seconds; generous for a shared CI machine
MB = 1024 * 1024
JSON = {"content-type": "application/json"}


def _nested(depth: int) -> str:
    # funds -> community -> funds -> ... : every level a real field.
    inner = "id"
    for _ in range(depth):
        inner = f"funds(first:1){{edges{{node{{community{{{inner}}}}}}}}}"
    return "{" + inner + "}"


async def _chunks(total: int, size: int = 64 * 1024):
    sent = 0
    yield b'{"query":"{__typename}","pad":"'
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


CASES: list[tuple[str, dict]] = [
    ("deeply nested query", {"json": {"query": _nested(40)}}),
    ("nesting past the token limit", {"json": {"query": "{a" * 3000 + "}" * 3000}}),
    (
        "3,000 aliases",
        {"json": {"query": "{" + " ".join(f"a{i}:__typename" for i in range(3000)) + "}"}},
    ),
    (
        "alias fan-out on a list",
        {
            "json": {
                "query": "{" + " ".join(f"a{i}:funds{{edges{{cursor}}}}" for i in range(16)) + "}"
            }
        },
    ),
    (
        "fragment cycle",
        {"json": {"query": "{...A} fragment A on Query{...B} fragment B on Query{...A}"}},
    ),
    ("5 MB body", {"content": b'{"query":"{__typename}","pad":"' + b"x" * 5 * MB + b'"}'}),
    ("5 MB chunked body", {"content": "chunked"}),
    ("batch of 300", {"json": [{"query": "{__typename}"}] * 300}),
    ("malformed JSON", {"content": b'{"query": "{__typename}"'}),
    ("JSON that is not an object", {"content": b'"{__typename}"'}),
    ("query that is not a string", {"json": {"query": 5}}),
    ("no query", {"json": {"variables": {}}}),
    ("variables that are not an object", {"json": {"query": "{__typename}", "variables": [1]}}),
    (
        "JSON nested 100,000 deep",
        {
            "content": b'{"query":"{__typename}","variables":{"a":'
            + b"[" * 100_000
            + b"]" * 100_000
            + b"}}"
        },
    ),
    ("invalid UTF-8", {"content": b'{"query":"{\xff\xfe}"}'}),
    (
        "text/plain",
        {"content": b'{"query":"{__typename}"}', "headers": {"content-type": "text/plain"}},
    ),
    ("form", {"data": {"query": "{__typename}"}}),
    ("multipart", {"files": {"f": ("a.txt", b"x")}}),
    ("no content type", {"content": b'{"query":"{__typename}"}', "headers": {}}),
    ("GET query", {"method": "GET", "params": {"query": "{__typename}"}}),
    ("PUT", {"method": "PUT", "json": {"query": "{__typename}"}}),
    ("introspection in production", {"json": {"query": "{__schema{types{name}}}"}}),
    ("unknown operation name", {"json": {"query": "query A{__typename}", "operationName": "B"}}),
]


async def _send(http: httpx.AsyncClient, case: dict) -> httpx.Response:
    case = dict(case)
    method = case.pop("method", "POST")
    if case.get("content") == "chunked":
        case["content"] = _chunks(5 * MB)
    if "content" in case and "headers" not in case:
        case["headers"] = JSON
    return await http.request(method, "/graphql", **case)


async def _raw_status(port: int, content_length: bytes) -> bytes:
    """The status line for a request whose Content-Length httpx would refuse to send."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + content_length + b"\r\n\r\n{}"
        )
        await writer.drain()
        async with asyncio.timeout(QUICK):
            return (await reader.readline()).strip()
    finally:
        writer.close()


def _is_clear_refusal(r: httpx.Response) -> bool:
    if 400 <= r.status_code < 500:
        return True
    if r.status_code == 200:
        body = r.json()
        return bool(body.get("errors")) and all(e.get("message") for e in body["errors"])
    return False


async def test_hostile_requests_get_clear_quick_refusals(db_url):
    with Server(db_url, workers=1) as server:
        await server.start_ready()
        process = server.worker_processes()[0]
        # A fresh connection per request: one refusal must not cost the next one.
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30, limits=limits) as http:
            baseline_rss = process.memory_info().rss
            failures = []
            for round_ in range(3):
                for label, case in CASES:
                    started = time.monotonic()
                    try:
                        r = await _send(http, case)
                    except httpx.TransportError as exc:  # the server may hang up on a body
                        if label not in ("5 MB body", "5 MB chunked body"):
                            failures.append(f"{label}: connection error {exc!r}")
                        continue
                    elapsed = time.monotonic() - started
                    if not _is_clear_refusal(r):
                        failures.append(f"{label}: {r.status_code} {r.text[:200]}")
                    elif elapsed > QUICK:
                        failures.append(f"{label}: answered in {elapsed:.1f} s")
                    if round_ == 0 and label == "introspection in production":
                        assert "__schema" not in str(r.json().get("data") or "")
                assert server.alive(), server.output()
            for length in (b"-1", b"abc", b"99999999"):
                status = await _raw_status(server.port, length)
                if not (status.startswith(b"HTTP/1.1 4")):
                    failures.append(f"Content-Length {length!r}: {status!r}")
            # Many big bodies at once.
            big = {"content": b'{"query":"{__typename}","p":"' + b"x" * 3 * MB + b'"}'}
            results = await asyncio.gather(
                *(_send(http, big) for _ in range(20)), return_exceptions=True
            )
            assert all(isinstance(r, httpx.TransportError) or r.status_code == 413 for r in results)
            assert failures == [], "\n".join(failures)

            ready = await http.get("/ready")
            assert ready.status_code == 200
            ok = await http.post(
                "/graphql", content=orjson.dumps({"query": "{__typename}"}), headers=JSON
            )
            assert ok.json() == {"data": {"__typename": "Query"}}
            rss = process.memory_info().rss
            assert server.alive()
            assert rss < 400 * MB, f"RSS {rss / MB:.0f} MB"
            assert rss - baseline_rss < 150 * MB, (
                f"RSS grew from {baseline_rss / MB:.0f} to {rss / MB:.0f} MB"
            )
