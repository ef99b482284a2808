"""Parsing and validation (schema/pipeline.py): the limits hold, and a query text seen
before is neither parsed nor validated again."""

from __future__ import annotations

import pytest

from schema import MAX_ALIASES, MAX_TOKENS, build_schema
from schema.pipeline import _parsed, _validated

DEV, PRODUCTION = build_schema(), build_schema(production=True)


def _nested(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"funds(first:1){{edges{{node{{community{{{inner}}}}}}}}}"
    return "{" + inner + "}"


def _codes(result) -> list[str]:
    return [e.extensions.get("code") for e in result.errors or []]


async def test_a_query_seen_before_is_neither_parsed_nor_validated_again():
    query = "query SeenBefore { __typename }"
    first = await DEV.execute(query)
    parsed, validated = _parsed.cache_info(), _validated.cache_info()
    second = await DEV.execute(query)
    assert first.data == second.data == {"__typename": "Query"}
    assert _parsed.cache_info().hits == parsed.hits + 1
    assert _parsed.cache_info().misses == parsed.misses
    assert _validated.cache_info().hits == validated.hits + 1
    assert _validated.cache_info().misses == validated.misses


@pytest.mark.parametrize(
    ("query", "message", "code"),
    [
        (_nested(4), "exceeds maximum operation depth", "GRAPHQL_VALIDATION_FAILED"),
        (
            "{" + " ".join(f"a{i}:__typename" for i in range(MAX_ALIASES + 1)) + "}",
            "aliases",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{" + "a " * MAX_TOKENS + "}", f"more than {MAX_TOKENS} tokens", "GRAPHQL_PARSE_FAILED"),
    ],
)
async def test_over_a_limit_is_refused_before_execution(query, message, code):
    for schema in (DEV, PRODUCTION):
        for _ in range(2):  # and again, from the caches
            result = await schema.execute(query)
            assert result.data is None
            assert message in result.errors[0].message
            assert _codes(result) == [code]


async def test_a_syntax_error_has_a_code():
    result = await DEV.execute("{ a")
    assert result.data is None and "Syntax Error" in result.errors[0].message
    assert _codes(result) == ["GRAPHQL_PARSE_FAILED"]


async def test_within_the_limits_is_accepted():
    query = "{" + " ".join(f"a{i}:__typename" for i in range(MAX_ALIASES)) + "}"
    result = await DEV.execute(query)
    assert result.errors is None and len(result.data) == MAX_ALIASES


async def test_introspection_is_refused_in_production_only():
    query = "{__schema{queryType{name}}}"
    assert (await DEV.execute(query)).data == {"__schema": {"queryType": {"name": "Query"}}}
    refused = await PRODUCTION.execute(query)
    assert refused.data is None and "introspection has been disabled" in refused.errors[0].message
    assert set(_codes(refused)) == {"GRAPHQL_VALIDATION_FAILED"}
