"""Control characters: INVALID_INPUT on any string argument (literal or variable,
however deep in an input), 404 on any path; nothing reaches the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.api.client import new_key
from tests.api.world import RECORD

BAD = ["\u0000", "\u001b", "\u007f", "\u0085"]


def _refused(body: dict, field: list[str]) -> None:
    assert "data" not in body, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert error["extensions"]["field"] == field


async def _post(api, query: str, variables: dict | None = None, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await api.http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("char", BAD, ids=[f"U+{ord(c):04X}" for c in BAD])
async def test_a_control_character_in_an_argument_is_invalid_input(world, char):
    api = world.api
    query = "query($c: String!) { publicFundReport(code: $c) { name } }"
    _refused(await _post(api, query, {"c": f"ET{char}GY"}), ["code"])
    escaped = f"\\u{ord(char):04x}"
    literal = '{ fundByCode(code: "ET' + escaped + 'GY") { name } }'
    _refused(await _post(api, literal, token=world.fin), ["code"])
    login = "mutation($i: LoginInput!) { login(input: $i) { token errors { code } } }"
    _refused(
        await _post(api, login, {"i": {"username": f"fin{char}", "password": "x" * 12}}),
        ["input", "username"],
    )


async def test_a_refused_write_stores_nothing(world):
    api = world.api
    async with api.state.engine.connect() as conn:
        before = await conn.scalar(text("SELECT count(*) FROM donations"))
    variables = {
        "i": {
            "fundId": world.fund,
            "channel": "CASH",
            "amount": {"amount": "10.00", "currency": "CNY"},
            "idempotencyKey": new_key("nul") + "\u0000",
            "donorName": "张三丰",
        }
    }
    _refused(await _post(api, RECORD, variables, token=world.fin), ["input", "idempotencyKey"])
    async with api.state.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM donations")) == before


async def test_tab_newline_and_return_are_text(world):
    body = await _post(
        world.api,
        "query($c: String!) { publicFundReport(code: $c) { name } }",
        {"c": "ET\tG\r\nY"},
    )
    assert body == {"data": {"publicFundReport": None}}


@pytest.mark.parametrize(
    "path",
    ["/funds/%00", "/funds/ET%1bGY", "/board/%00", "/exports/ETGY/journal%00.csv", "/graphql%00"],
)
async def test_a_control_character_in_a_path_is_not_found(world, path):
    response = await world.api.http.get(path, headers={"Authorization": f"Bearer {world.fin}"})
    assert response.status_code == 404
