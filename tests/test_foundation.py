"""Settings, the CLI and partner registration refusals."""

from __future__ import annotations

import io

import pytest

from cli import main
from config import ConfigError, load_settings
from tests.api.client import new_key


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="JINLIN_SECRET_KEY"):
        load_settings({"JINLIN_ENV": "production"})
    with pytest.raises(ConfigError, match="32"):
        load_settings({"JINLIN_ENV": "production", "JINLIN_SECRET_KEY": "short"})
    with pytest.raises(ConfigError):
        load_settings({"JINLIN_ENV": "staging"})
    assert load_settings({"JINLIN_ENV": "production", "JINLIN_SECRET_KEY": "k" * 40}).production
    for bad in ("0", "-1", "two"):
        with pytest.raises(ConfigError, match="JINLIN_DB_WRITERS"):
            load_settings({"JINLIN_DB_WRITERS": bad})
    assert load_settings({"JINLIN_DB_WRITERS": "5"}).db_writers == 5
    assert load_settings({}).db_writers == 4


def test_cli_refuses_bad_arguments(db_url, capsys, monkeypatch):
    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    with pytest.raises(SystemExit) as exc:
        main(["create-user", "bob", "--role", "KING", "--password-stdin"])
    assert exc.value.code == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert (
        main(
            [
                "create-user",
                "bob",
                "--role",
                "COMMUNITY_STAFF",
                "--community",
                "nonsense",
                "--password-stdin",
            ]
        )
        == 2
    )
    assert "no community named nonsense" in capsys.readouterr().err.lower()


def test_cli_creates_a_user_who_can_sign_in(db_url, monkeypatch, capsys):
    monkeypatch.setenv("JINLIN_DATABASE_URL", db_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["create-user", "treasurer", "--role", "FINANCE", "--password-stdin"]) == 0
    assert "created user treasurer" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["create-user", "treasurer", "--role", "FINANCE", "--password-stdin"]) == 2
    assert "taken" in capsys.readouterr().err


async def test_partner_signs_once_per_community_and_bad_places_input_is_refused(world):
    api = world.api
    register = "mutation($c:ID!,$n:String!,$d:Date!){registerPartner(input:{name:$n,kind:BUSINESS,communityId:$c,signedOn:$d}){partner{id partnerships{community{name}}} errors{code field}}}"
    again = await api.data(
        register,
        {"c": world.community, "n": "浦发银行百花路支行", "d": "2023-06-01"},
        token=world.admin,
    )
    assert again["registerPartner"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "communityId"]}
    ]
    second = await api.data(
        register,
        {"c": world.other_community, "n": "浦发银行百花路支行", "d": "2023-06-01"},
        token=world.admin,
    )
    assert second["registerPartner"]["partner"]["id"] == world.partner_id
    assert len(second["registerPartner"]["partner"]["partnerships"]) == 2
    bad_date = await api.execute(
        register, {"c": world.community, "n": "新伙伴", "d": "2023-13-45"}, token=world.admin
    )
    assert bad_date["errors"] and bad_date.get("data") is None
    empty = await api.data(
        'mutation($s:ID!){createCommunity(input:{subdistrictId:$s,name:"   "}){community{id} errors{code field}}}',
        {"s": world.subdistrict},
        token=world.admin,
    )
    assert empty["createCommunity"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "name"]}
    ]
    unknown = await api.data(
        'mutation{createCommunity(input:{subdistrictId:"U3ViZGlzdHJpY3Q6OTk5",name:"x"}){errors{code field}}}',
        token=world.admin,
    )
    assert unknown["createCommunity"]["errors"] == [
        {"code": "NOT_FOUND", "field": ["input", "subdistrictId"]}
    ]
    hours = await api.data(
        'mutation($p:ID!,$k:String!){recordService(input:{partnerId:$p,hours:"1.234",description:"x",idempotencyKey:$k}){errors{code field}}}',
        {"p": world.partner_id, "k": new_key()},
        token=world.admin,
    )
    assert hours["recordService"]["errors"] == [
        {"code": "INVALID_INPUT", "field": ["input", "hours"]}
    ]
