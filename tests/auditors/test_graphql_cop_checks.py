"""What graphql-cop looks for, asked of `jinlin serve` in production mode: no finding.

graphql-cop cannot be installed here (docs/security.md, "Outside auditors"), so each of
its probes is restated: the same kind of request, and the same test of the answer that
would make it report the finding. A check that only passes because everything is
refused proves nothing, so the plain `__typename` query is checked to be answered too.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.faults.harness import create_users, login

pytestmark = pytest.mark.slow

TYPENAME = "query cop { __typename }"
REPORT = (
    'query cop{arguments} {{ fundReport(fundId: "RnVuZDox", kind: {kind}, from: "2023-01-01",'
    ' to: "2023-12-31") {{ url }} }}'
)
IDE_MARKS = ("graphiql.min.css", "GraphQL Playground", "GraphiQL", "graphql-playground")


@pytest.fixture
async def cop(production_server):
    """A client of the production server, sending what graphql-cop sends."""
    async with httpx.AsyncClient(
        base_url=production_server.base_url,
        headers={"user-agent": "graphql-cop-checks"},
        timeout=30,
    ) as http:
        yield http


async def post(http: httpx.AsyncClient, query: str, **extra) -> httpx.Response:
    return await http.post("/graphql", json={"query": query, "operationName": "cop", **extra})


def body_of(response: httpx.Response):
    try:
        return response.json()
    except ValueError:
        return None


def answered(response: httpx.Response, key: str = "__typename") -> bool:
    """graphql-cop's test of success: the answer's data holds the probed key."""
    body = body_of(response)
    return isinstance(body, dict) and isinstance(body.get("data"), dict) and key in body["data"]


def messages(response: httpx.Response) -> str:
    body = body_of(response)
    errors = body.get("errors") if isinstance(body, dict) else None
    return " ".join(str(error.get("message")) for error in errors or [])


async def test_the_plain_query_is_answered(cop):
    response = await post(cop, TYPENAME)
    assert response.status_code == 200 and response.json() == {"data": {"__typename": "Query"}}


# ------------------------------------------------------------------ denial of service


async def test_alias_overloading(cop):
    """101 aliases of one field: refused (the limit is 15 aliases)."""
    aliases = " ".join(f"alias{i}:__typename" for i in range(101))
    response = await post(cop, f"query cop {{ {aliases} }}")
    assert not answered(response, "alias100") and "aliases" in messages(response)


async def test_array_based_batching(cop):
    """Ten operations in one JSON array: one request error, not ten answers."""
    response = await cop.post("/graphql", json=[{"query": TYPENAME}] * 10)
    assert response.status_code == 400 and isinstance(body_of(response), dict)
    assert "data" not in response.json()


async def test_field_duplication(cop):
    """The same field 500 times in one selection set: refused (at most 20)."""
    response = await post(cop, "query cop { " + "__typename \n" * 500 + "}")
    assert not answered(response)


@pytest.mark.parametrize("directive", ["@aa", "@include(if: true)", "@skip(if: false)"])
async def test_directive_overloading(cop, directive):
    """Ten directives on one field: one refusal, not an error for each directive."""
    response = await post(cop, f"query cop {{ __typename {directive * 10} }}")
    errors = response.json()["errors"]
    assert not answered(response) and len(errors) < 10


async def test_directive_overloading_ladder(cop):
    """graphql-cop's newer probe: a valid directive repeated 10 to 1000 times, judged by
    a limit named in the refusal, a 5xx, or an answer ten times slower than none."""
    for count in (10, 100, 500, 1000):
        started = time.monotonic()
        response = await post(cop, "query cop { __typename " + "@skip(if:true)" * count + " }")
        assert time.monotonic() - started < 2 and response.status_code < 500
        assert not answered(response)
        limit = "too many directives" if count <= 100 else "more than 2000 tokens"
        assert limit in messages(response), count


async def test_circular_introspection_query(cop):
    nested = "fields { type { " * 4 + "name" + " } }" * 4
    response = await post(cop, f"query cop {{ __schema {{ types {{ {nested} }} }} }}")
    assert not answered(response, "__schema")


@pytest.mark.parametrize("on", ["__Schema", "Query"])
async def test_circular_fragments(cop, on):
    root = "__schema { ...A }" if on == "__Schema" else "...A"
    query = f"query cop {{ {root} }} fragment A on {on} {{ __typename ...B }} fragment B on {on} {{ ...A }}"
    response = await post(cop, query)
    assert response.json().get("errors") and not answered(response, "__schema")


# ------------------------------------------------------------------ information leaks


async def test_introspection_is_off(cop):
    """Introspection is off in production (README: JINLIN_ENV); clients type against
    the exported SDL (`jinlin export-schema`), which the contract fixes anyway."""
    for query in (
        "query cop { __schema { types { name fields { name } } } }",
        'query cop { __type(name: "Fund") { name fields { name } } }',
    ):
        response = await post(cop, query)
        assert not answered(response, "__schema") and not answered(response, "__type")
        assert "introspection has been disabled" in messages(response)


@pytest.mark.parametrize(
    "query, variables",
    [
        ("query cop { __schema { directive } }", None),
        ("query cop { fundz { id } }", None),
        ("query cop { funds(frist: 1) { totalCount } }", None),
        ("query cop { ...F } fragment F on Fnd { id }", None),
        ('query cop { fundByCode(code: "X") { statsu } }', None),
        (REPORT.format(arguments="", kind="TRIAL_BALANC"), None),
        (REPORT.format(arguments="($k: ReportKind!)", kind="$k"), {"k": "TRIAL_BALANC"}),
    ],
    ids=["graphql-cop's probe", "field", "argument", "type", "nested", "enum", "enum variable"],
)
async def test_field_suggestions_are_off(cop, query, variables):
    """No "Did you mean ...": a name that is almost right is not completed."""
    response = await post(cop, query, variables=variables)
    assert response.json().get("errors") and "Did you mean" not in response.text


@pytest.mark.parametrize("path", ["/graphql", "/graphiql", "/playground", "/console", "/"])
async def test_no_graphql_ide(cop, path):
    response = await cop.get(path, headers={"accept": "text/html"})
    assert not any(mark in response.text for mark in IDE_MARKS), response.text[:300]


async def test_no_trace_mode(cop):
    response = await post(cop, TYPENAME)
    assert "extensions" not in response.json() and "tracing" not in response.text.lower()
    response = await post(cop, "query cop { abc }")
    assert all("tracing" not in (e.get("extensions") or {}) for e in response.json()["errors"])


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"json": {"query": "qwerty cop { abc }"}},
        {"json": {"query": "query cop { funds(first: -1) { totalCount } }"}},
        {"json": {"query": 5}},
        {"json": {"query": TYPENAME, "variables": [1]}},
        {"content": b'{"query": "query cop {', "headers": {"content-type": "application/json"}},
        {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
    ],
    ids=["not GraphQL", "field error", "query not a string", "variables", "bad JSON", "bad UTF-8"],
)
async def test_unhandled_errors(cop, request_kwargs):
    """Errors are handled: a code on each, no exception, no stack trace."""
    response = await cop.post("/graphql", **request_kwargs)
    errors = response.json()["errors"]
    assert response.status_code < 500 and errors
    assert all((e.get("extensions") or {}).get("code") for e in errors)
    assert "exception" not in response.text.lower() and "traceback" not in response.text.lower()


# ------------------------------------------------------------------ cross-site requests


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"method": "GET", "params": {"query": "{__typename}"}},
        {"method": "GET", "params": {"query": "mutation cop {__typename}"}},
        {"method": "POST", "params": {"query": "query cop {__typename}"}},
        {
            "method": "POST",
            "data": {"query": "query cop {__typename}"},
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        {
            "method": "POST",
            "content": '{"query": "query cop {__typename}"}',
            "headers": {"content-type": "text/plain"},
        },
        {"method": "POST", "files": {"query": (None, "query cop {__typename}")}},
    ],
    ids=[
        "GET query",
        "GET mutation",
        "POST with the query in the URL",
        "url-encoded form",
        "text/plain",
        "multipart form",
    ],
)
async def test_no_queries_but_json_posts(cop, request_kwargs):
    """A page on another site can send these without a CORS preflight; none is run.
    (The API authenticates by bearer token only, never a cookie, so a forged request
    carries no one's credentials anyway.)"""
    response = await cop.request(url="/graphql", **request_kwargs)
    assert response.status_code in (405, 415) and not answered(response)


async def test_tokens_travel_only_in_the_header(cop, production_server):
    """A bearer token in the URL (where logs and referrers keep it) is not taken."""
    await create_users(production_server.database_url, {"copadmin": ["ADMIN"]})
    token = await login(cop, "copadmin")
    viewer = "query cop { viewer { username } }"
    for param in ("access_token", "token", "authorization"):
        response = await cop.post("/graphql", params={param: token}, json={"query": viewer})
        assert response.json() == {"data": {"viewer": None}}, param
    response = await post(cop, viewer, extensions={"authorization": f"Bearer {token}"})
    assert response.json()["data"] == {"viewer": None}
    response = await cop.post(
        "/graphql", json={"query": viewer}, headers={"authorization": f"Bearer {token}"}
    )
    assert response.json()["data"] == {"viewer": {"username": "copadmin"}}
