"""DateTime's serializer keeps the answers of recent instants (a page answers the same
donations' times request after request). A kept answer must be the one the instant
would get anyway: equal instants alike whatever their offset, and the two instants of
an hour set back for daylight saving (equal on the wall clock) never mixed up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from schema.types import common
from schema.types.common import scalar_map

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def _serializer(zone):
    return scalar_map(zone)[datetime].serialize


def test_equal_instants_answer_alike_whatever_their_offset():
    serialize = _serializer(SHANGHAI)
    utc = datetime(2023, 6, 10, 1, 30, tzinfo=UTC)
    east = utc.astimezone(timezone(timedelta(hours=8)))
    west = utc.astimezone(timezone(timedelta(hours=-5)))
    answers = {serialize(utc), serialize(east), serialize(west), serialize(utc)}
    assert answers == {"2023-06-10T09:30:00+08:00"}
    assert serialize(utc + timedelta(microseconds=1)) == "2023-06-10T09:30:00.000001+08:00"


def test_the_two_instants_of_an_hour_set_back_are_not_mixed_up():
    """New York's 01:30 on 2023-11-05 happens twice (fold 0: EDT, fold 1: EST). Python
    compares them equal (same zone, same wall clock); they are an hour apart."""
    serialize = _serializer(UTC)
    first = datetime(2023, 11, 5, 1, 30, tzinfo=NEW_YORK)
    second = first.replace(fold=1)
    assert first == second  # why such values are not kept
    assert serialize(first) == "2023-11-05T05:30:00+00:00"
    assert serialize(second) == "2023-11-05T06:30:00+00:00"
    assert serialize(first) == "2023-11-05T05:30:00+00:00"


@given(st.lists(st.datetimes(timezones=st.just(UTC)), min_size=1, max_size=50))
def test_kept_answers_are_what_the_instant_gets_anyway(instants):
    serialize = _serializer(SHANGHAI)
    for instant in instants + instants:
        assert serialize(instant) == instant.astimezone(SHANGHAI).isoformat()


def test_the_kept_answers_are_bounded(monkeypatch):
    monkeypatch.setattr(common, "INSTANTS_KEPT", 10)
    serialize = _serializer(SHANGHAI)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    for i in range(25):
        instant = start + timedelta(seconds=i)
        assert serialize(instant) == instant.astimezone(SHANGHAI).isoformat()
    kept = next(c.cell_contents for c in serialize.__closure__ if isinstance(c.cell_contents, dict))
    assert 0 < len(kept) <= 10
