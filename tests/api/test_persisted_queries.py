"""Apollo's automatic persisted queries (docs/api-conventions.md): a hash alone runs the
query stored under it, over POST and GET; an unknown hash is PERSISTED_QUERY_NOT_FOUND;
a query whose hash does not match is refused and not stored; GET runs no mutation."""

from __future__ import annotations

import hashlib
import json

from web.persisted_queries import PersistedQueries

QUERY = "query Funds($n: Int!) { funds(first: $n) { edges { node { code name } } } }"
OPEN = (
    'mutation { createSubdistrict(input: {name: "须水街道", district: "中原区"}) '
    "{ subdistrict { id } } }"
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(digest: str, version: int = 1) -> dict:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def post(api, body: dict, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = await api.http.post("/graphql", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def get(api, params: dict, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    encoded = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
    return await api.http.get("/graphql", params=encoded, headers=headers)


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_unknown_hash_then_registered_then_by_hash_alone(api):
    fin = await api.user("fin", "FINANCE")
    digest = sha(QUERY)
    missing = await post(api, {"extensions": apq(digest), "variables": {"n": 5}}, fin)
    assert codes(missing) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert missing["errors"][0]["message"] == "PersistedQueryNotFound"
    assert "data" not in missing

    full = await post(api, {"query": QUERY, "extensions": apq(digest), "variables": {"n": 5}}, fin)
    assert "errors" not in full and full["data"] == {"funds": {"edges": []}}
    alone = await post(api, {"extensions": apq(digest), "variables": {"n": 5}}, fin)
    assert alone == full


async def test_a_hash_that_is_not_the_querys_is_refused_and_not_stored(api):
    fin = await api.user("fin", "FINANCE")
    wrong = sha(QUERY + " ")
    body = await post(api, {"query": QUERY, "extensions": apq(wrong), "variables": {"n": 1}}, fin)
    assert codes(body) == ["BAD_REQUEST"]
    assert body["errors"][0]["message"] == "provided sha does not match query"
    again = await post(api, {"extensions": apq(wrong), "variables": {"n": 1}}, fin)
    assert codes(again) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_malformed_extensions_are_refused(api):
    for extensions in (apq(sha(QUERY), version=2), apq("ABC"), {"persistedQuery": "x"}):
        body = await post(api, {"query": QUERY, "extensions": extensions, "variables": {"n": 1}})
        assert codes(body) == ["BAD_REQUEST"], extensions


async def test_get_runs_a_persisted_query_with_the_callers_rights(api):
    fin = await api.user("fin", "FINANCE")
    digest = sha(QUERY)
    r = await get(api, {"extensions": apq(digest), "variables": {"n": 3}}, fin)
    assert r.status_code == 200 and codes(r.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    r = await get(api, {"query": QUERY, "extensions": apq(digest), "variables": {"n": 3}}, fin)
    assert r.status_code == 200 and r.json() == {"data": {"funds": {"edges": []}}}
    r = await get(api, {"extensions": apq(digest), "variables": {"n": 3}}, fin)
    assert r.status_code == 200 and r.json() == {"data": {"funds": {"edges": []}}}
    # Anonymous: the same query, what an anonymous caller may see (no funds).
    r = await get(api, {"extensions": apq(digest), "variables": {"n": 3}})
    assert r.json() == {"data": {"funds": {"edges": []}}}


async def test_get_runs_no_mutation_and_plain_get_stays_refused(api):
    admin = await api.user("admin", "ADMIN")
    r = await get(api, {"query": OPEN, "extensions": apq(sha(OPEN))}, admin)
    assert codes(r.json()) == ["BAD_REQUEST"]
    listing = await api.data("{ subdistricts(first: 10) { edges { node { id } } } }", token=admin)
    assert listing["subdistricts"]["edges"] == []  # nothing was created
    r = await get(api, {"query": QUERY, "variables": {"n": 1}}, admin)
    assert r.status_code == 405


async def test_parse_and_validation_are_not_repeated_for_a_stored_hash(api, monkeypatch):
    import schema.pipeline as pipeline

    fin = await api.user("fin", "FINANCE")
    digest = sha(QUERY)
    await post(api, {"query": QUERY, "extensions": apq(digest), "variables": {"n": 1}}, fin)
    parsed = pipeline._parsed.cache_info().misses
    validated = pipeline._validated.cache_info().misses

    def no_lexing(*_args):
        raise AssertionError("lexed again")

    monkeypatch.setattr(pipeline, "Lexer", no_lexing)
    for _ in range(3):
        body = await post(api, {"extensions": apq(digest), "variables": {"n": 1}}, fin)
        assert "errors" not in body
    assert pipeline._parsed.cache_info().misses == parsed
    assert pipeline._validated.cache_info().misses == validated


def test_the_store_is_bounded_in_entries_and_characters():
    store = PersistedQueries(max_queries=2, max_chars=100)
    queries = ["{ a }", "{ b }", "{ c }"]
    for q in queries:
        store.query_for(q, apq(sha(q)))
    assert len(store) == 2
    assert store.query_for(None, apq(sha("{ c }"))) == "{ c }"
    big = "{ " + "x " * 60 + "}"
    assert store.query_for(big, apq(sha(big))) == big  # runs, is not kept
    assert len(store) == 2
