"""Cursors and global IDs are client input: anything else than ours is refused cleanly."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import orjson
from hypothesis import given
from hypothesis import strategies as st

from db.models import DonationRow
from resolvers.errors import UseCaseError
from resolvers.ids import parse_global_id, to_global_id
from resolvers.pagination import OrderKey, decode_cursor, encode_cursor

ORDER = [
    OrderKey(DonationRow.received_at, descending=True),
    OrderKey(DonationRow.id, descending=True),
]


def test_cursor_round_trip():
    at = datetime(2023, 6, 10, 2, 0, tzinfo=UTC)
    assert decode_cursor(encode_cursor([at, 42]), ORDER, "after") == [at, 42]


def _raw(values) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode()


@given(
    st.one_of(
        st.text(max_size=200),
        st.builds(
            _raw,
            st.lists(
                st.one_of(
                    st.none(),
                    st.booleans(),
                    st.integers(-(2**63), 2**63 - 1),
                    st.floats(allow_nan=False),
                    st.text(max_size=30),
                ),
                max_size=3,
            ),
        ),
    )
)
def test_foreign_cursors_are_invalid_input_and_nothing_else(cursor):
    try:
        values = decode_cursor(cursor, ORDER, "after")
    except UseCaseError as exc:
        assert exc.code == "INVALID_INPUT" and exc.field == "after"
    else:
        assert isinstance(values[0], datetime) and values[0].tzinfo is not None
        assert type(values[1]) is int


@given(st.text(max_size=120))
def test_global_ids_parse_or_are_none(value):
    parsed = parse_global_id(value)
    assert parsed is None or (isinstance(parsed[0], str) and parsed[1] >= 0)


def test_global_id_round_trip():
    assert parse_global_id(to_global_id("Fund", 7)) == ("Fund", 7)
    assert parse_global_id("Rnvu ZDo3") is None


def _encoded(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_each_object_has_one_global_id():
    """A key with leading zeros names nothing: "Fund:01" is not a second ID of Fund 1."""
    assert parse_global_id(_encoded("Fund:1")) == ("Fund", 1)
    assert parse_global_id(_encoded("Fund:0")) == ("Fund", 0)
    for raw in ("Fund:01", "Fund:007", "Fund:00"):
        assert parse_global_id(_encoded(raw)) is None, raw


@given(st.integers(min_value=0, max_value=2**31 - 1), st.sampled_from(["Fund", "JournalEntry"]))
def test_a_parsed_id_encodes_back_to_itself(key, type_name):
    value = to_global_id(type_name, key)
    assert parse_global_id(value) == (type_name, key)
    assert to_global_id(*parse_global_id(value)) == value
