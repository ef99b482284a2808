"""The checks graphql-cop makes, against production mode, expecting no finding.

graphql-cop is not published on PyPI, so it cannot be installed here; these are its
probes restated (the same requests, the same test of the answer). Schemathesis, the
other auditor, is run by hand (docs/security.md): it is not cheap enough for every run.
"""

from __future__ import annotations

import pytest

from tests.door.conftest import client_with


@pytest.fixture
async def production(db_url):
    async with client_with(db_url, JINLIN_ENV="production") as client:
        yield client.http


def _json(response) -> dict:
    try:
        return response.json()
    except ValueError:
        return {}


def _answered(body: dict, key: str = "__typename") -> bool:
    return isinstance(body.get("data"), dict) and key in body["data"]


async def test_alias_overloading(production):
    query = "query cop { " + " ".join(f"alias{i}:__typename" for i in range(101)) + " }"
    assert not _answered(
        _json(await production.post("/graphql", json={"query": query})), "alias100"
    )


async def test_batch_queries(production):
    response = await production.post("/graphql", json=[{"query": "query cop { __typename }"}] * 10)
    assert response.status_code >= 400 and not isinstance(_json(response), list)


async def test_directive_overloading(production):
    query = "query cop { __typename " + "@aa" * 10 + " }"
    body = _json(await production.post("/graphql", json={"query": query}))
    assert len(body.get("errors", [])) < 10


async def test_field_duplication(production):
    query = "query cop { " + "__typename \n" * 500 + "}"
    assert not _answered(_json(await production.post("/graphql", json={"query": query})))


async def test_field_suggestions(production):
    body = _json(
        await production.post("/graphql", json={"query": "query cop { __schema { directive } }"})
    )
    assert "Did you mean" not in str(body)
    body = _json(await production.post("/graphql", json={"query": "query cop { fundz { id } }"}))
    assert "Did you mean" not in str(body)


async def test_introspection_and_circular_introspection(production):
    query = "query cop { __schema { types { name fields { type { fields { type { name } } } } } } }"
    body = _json(await production.post("/graphql", json={"query": query}))
    assert not _answered(body, "__schema")


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "GET", "url": "/graphql", "params": {"query": "query cop { __typename }"}},
        {"method": "GET", "url": "/graphql", "params": {"query": "mutation cop { __typename }"}},
        {
            "method": "POST",
            "url": "/graphql",
            "content": "query=query cop { __typename }",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
    ],
    ids=["GET query", "GET mutation (CSRF)", "url-encoded POST (CSRF)"],
)
async def test_queries_outside_json_post(production, request_kwargs):
    response = await production.request(**request_kwargs)
    assert response.status_code >= 400 and not _answered(_json(response))


async def test_graphql_ide_and_tracing(production):
    for path in ("/graphql", "/graphiql", "/playground", "/console"):
        response = await production.get(path, headers={"accept": "text/html"})
        assert "graphiql" not in response.text.lower(), path
    body = _json(await production.post("/graphql", json={"query": "query cop { __typename }"}))
    assert "tracing" not in str(body.get("extensions", {}))


async def test_unhandled_errors(production):
    body = _json(await production.post("/graphql", json={"query": "qwerty cop { abc }"}))
    assert "Traceback" not in str(body) and "Exception" not in str(body)
