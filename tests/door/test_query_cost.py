"""Query cost is linear in the document: fragments are expanded once, the total of
selections is capped, the caches ignore layout, and an operation has a time limit."""

from __future__ import annotations

import time

from schema import MAX_FIELDS
from schema.pipeline import _validated
from tests.door.conftest import client_with
from tests.door.queries import fan_out


async def _post(api, query: str, variables: dict | None = None) -> dict:
    response = await api.http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_fan_out_query_is_refused_within_milliseconds(api):
    query = fan_out()
    assert len(query) < 700
    for _ in range(2):  # and again, from the cache
        started = time.perf_counter()
        body = await _post(api, query)
        elapsed = time.perf_counter() - started
        assert elapsed < 0.25, f"took {elapsed:.3f} s"
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "fields once fragments are expanded" in body["errors"][0]["message"]


async def test_selections_are_counted_after_expansion(api):
    # 11 x 10 x 20 = 2,200 __typename selections from a short, shallow document.
    wide = "fragment Leaf on Query { " + "__typename " * 20 + "}"
    middle = "fragment Mid on Query { " + "...Leaf " * 10 + "}"
    query = "{ " + "...Mid " * 11 + "} " + middle + " " + wide
    body = await _post(api, query)
    assert "data" not in body and f"more than the {MAX_FIELDS}" in body["errors"][0]["message"]
    # The same shape under the cap runs.
    small = "{ " + "...Mid " * 5 + "} " + middle + " " + wide
    assert (await _post(api, small))["data"] == {"__typename": "Query"}


async def test_depth_and_aliases_count_through_fragments(api):
    aliased = "fragment A on Query { " + " ".join(f"a{i}: __typename" for i in range(8)) + " }"
    body = await _post(api, "{ ...A ...B } fragment B on Query { ...A } " + aliased)
    assert "aliases" in body["errors"][0]["message"]
    nested = "fragment N on Fund { community { funds(first: 1) { edges { node { id } } } } }"
    deep = (
        "{ funds(first: 1) { edges { node { ...N community { funds(first: 1) { edges { node { ...N community { funds(first: 1) { edges { node { ...N } } } } } } } } } } } } "
        + nested
    )
    body = await _post(api, deep)
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_whitespace_and_comments_do_not_make_a_query_new(api):
    base = "query Layout($c: String!) { publicFundReport(code: $c) { name } }"
    variants = [
        base,
        base.replace(" ", "   "),
        "# a comment\n" + base.replace("{", "{\n\t"),
        base.replace(" ", " , "),
    ]
    await _post(api, base, {"c": "NONE"})
    misses = _validated.cache_info().misses
    for query in variants:
        body = await _post(api, query, {"c": "NONE"})
        assert body["data"] == {"publicFundReport": None}
    assert _validated.cache_info().misses == misses


async def test_an_operation_past_the_time_limit_is_stopped(db_url):
    async with client_with(db_url, JINLIN_REQUEST_TIMEOUT="0.000001") as slow:
        body = await _post(slow, '{ publicFundReport(code: "ETGY") { name } }')
        assert body["errors"][0]["extensions"]["code"] == "TIMEOUT"
        assert body["data"] is None
