"""Errors in what the client sent carry the codes GraphQL clients know, never
INTERNAL_SERVER_ERROR: GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED, and
BAD_USER_INPUT with the path to the value at fault (variable name first)."""

from __future__ import annotations

import pytest

from tests.api.client import make_client, new_key
from tests.api.world import RECORD
from tests.strict.rows import row_counts


def donation(world, **changes) -> dict:
    inp = {
        "fundId": world.fund,
        "channel": "CASH",
        "amount": {"amount": "10.00", "currency": "CNY"},
        "donorName": "张三丰",
        "idempotencyKey": new_key(),
    }
    inp.update(changes)
    return {key: value for key, value in inp.items() if value is not ...}


BAD_DONATIONS = [
    # (what changes in the input, the path to the value at fault)
    ({"channel": "CHEQUE"}, ["i", "channel"]),  # an unknown enum value
    ({"channel": "cash"}, ["i", "channel"]),  # enum values are case-sensitive
    ({"channel": 1}, ["i", "channel"]),
    ({"fundId": {"id": 1}}, ["i", "fundId"]),  # an ID as an object
    ({"anonymous": "yes"}, ["i", "anonymous"]),  # a Boolean as a string
    ({"donorName": 12}, ["i", "donorName"]),
    ({"amount": "10.00"}, ["i", "amount"]),  # a MoneyInput as a string
    ({"amount": {"amount": "10.00"}}, ["i", "amount"]),  # currency missing
    ({"amount": {"amount": "1", "currency": "CNY", "rate": 1}}, ["i", "amount"]),
    ({"idempotencyKey": ...}, ["i"]),  # a required field left out
    ({"receivedAt": 1686360600}, ["i", "receivedAt"]),  # a DateTime as a number
]


@pytest.mark.parametrize(("changes", "path"), BAD_DONATIONS)
async def test_a_variable_that_cannot_be_coerced_is_bad_user_input(world, changes, path):
    before = await row_counts(world)
    body = await world.api.execute(RECORD, {"i": donation(world, **changes)}, token=world.fin)
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": path}, error
    assert error["message"].startswith("Variable '$i'")
    assert await row_counts(world) == before


async def test_a_required_variable_left_out_is_bad_user_input(world):
    body = await world.api.execute(RECORD, {}, token=world.fin)
    assert "data" not in body
    assert [e["extensions"] for e in body["errors"]] == [{"code": "BAD_USER_INPUT", "field": ["i"]}]


async def test_each_bad_variable_is_named_on_its_own(world):
    query = (
        "query($f:ID!,$from:Date!,$to:Date!){node(id:$f){... on Fund{"
        "statement(from:$from,to:$to){closing{amount}}}}}"
    )
    body = await world.api.execute(
        query, {"f": world.fund, "from": 20230601, "to": "June"}, token=world.fin
    )
    assert "data" not in body
    assert sorted(e["extensions"]["field"] for e in body["errors"]) == [["from"], ["to"]]
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}


async def test_a_bad_value_inside_a_list_names_its_index(world):
    query = "mutation($i:RecordCashCountInput!){recordCashCount(input:$i){errors{code}}}"
    inp = {
        "fundId": world.fund,
        "counted": {"amount": "1.00", "currency": "CNY"},
        "countedBy": ["甲", 7],
        "idempotencyKey": new_key(),
    }
    body = await world.api.execute(query, {"i": inp}, token=world.staff)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": ["i", "countedBy", 1]}


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ fundByCode(code: ", "GRAPHQL_PARSE_FAILED"),
        ('{ fundByCode(code: "ETGY") { name } } }', "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ fundByCode(code: 5) { name } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query($c: NoSuchType){ __typename }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_documents_that_do_not_parse_or_validate_have_their_codes(api, query, code):
    body = await api.execute(query)
    assert "data" not in body  # a request error: GraphQL over HTTP
    assert body["errors"] and {e["extensions"]["code"] for e in body["errors"]} == {code}


async def test_production_gives_the_same_codes_and_the_client_its_message(db_url, world):
    production = make_client(db_url, env="production")
    try:
        body = await production.execute(
            RECORD, {"i": donation(world, channel="CHEQUE", anonymous="yes")}, token=world.fin
        )
        assert sorted(e["extensions"]["field"] for e in body["errors"]) == [
            ["i", "anonymous"],
            ["i", "channel"],
        ]
        assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
        assert any("CHEQUE" in e["message"] for e in body["errors"])
        parse = await production.execute("{ a")
        assert parse["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    finally:
        await production.close()
