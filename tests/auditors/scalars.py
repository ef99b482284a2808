"""Values for the scalars that schemathesis cannot make up well by itself.

The custom scalars (Decimal, DateTime, Date) it cannot make at all; IDs, strings and
integers it makes, but nearly never one that names a real object or passes the door
(any control character is refused before a resolver runs). So each strategy gives
mostly well-formed values, with real keys, codes and the edges of what is allowed, so
that requests reach the resolvers and the database, and now and then a near miss or
plain junk, so that the refusals are exercised too.
"""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta, timezone

import orjson
import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from ledger.accounts import CHART
from resolvers.ids import to_global_id
from resolvers.nodes import LOADER

MIN_INT, MAX_INT = -(2**31), 2**31 - 1


def mostly(usual: st.SearchStrategy, rare: st.SearchStrategy, one_in: int = 8):
    """`usual`, and `rare` once in `one_in` draws."""
    return st.integers(1, one_in).flatmap(lambda n: rare if n == 1 else usual)


# Anything at all, control characters and lone surrogates included.
JUNK = st.text(max_size=40)
CLEAN = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=60)
WORDS = st.sampled_from(
    ["ETGY", "JSL", "PGY", "CNY", "USD", "admin", "finance", "fuzzadmin", "建设路街道"]
    + [spec.code for spec in CHART]
)
# Cursors are base64url JSON lists of a list's sort keys: keys of any size, instants.
CURSORS = st.lists(
    st.one_of(
        st.integers(-(2**63), 2**63 - 1),
        st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat),
    ),
    min_size=1,
    max_size=3,
).map(lambda values: base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("="))
STRINGS = mostly(st.one_of(CLEAN, WORDS, CURSORS), JUNK)

INTS = mostly(st.integers(-2, 120), st.integers(MIN_INT, MAX_INT), one_in=4)

# Amounts: ASCII digits with up to two decimals, around the edges of what is allowed
# (zero, a fen, 10^11 yuan and past it), then near misses (docs/api-conventions.md).
AMOUNTS = mostly(
    st.one_of(
        st.integers(1, 10**7).map(lambda fen: f"{fen // 100}.{fen % 100:02d}"),
        st.integers(0, 10**14).map(lambda fen: f"{fen // 100}.{fen % 100:02d}"),
        st.sampled_from(["0", "0.00", "0.01", "100000000000", "100000000000.01", "9" * 32]),
    ),
    st.one_of(
        st.sampled_from(["1e5", "-1", "+1", "NaN", "Infinity", "1.005", "10.", ".5", "1,000"]),
        st.sampled_from([" 10", "１０", "0x10", "", "9" * 40, "1_000"]),
        JUNK,
    ),
)

# Offsets as RFC 3339 writes them, up to ±23:59 (datetime's own limit), and Z.
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


def _rfc3339(moment: datetime) -> str:
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if moment.utcoffset() == timedelta(0) else text


MOMENTS = mostly(
    st.one_of(
        # The years the ledger sees, so that some land inside funds' periods...
        st.datetimes(datetime(2022, 1, 1), datetime(2028, 12, 31), timezones=OFFSETS),
        # ...any year datetime can hold, with any offset, and its very first and last days.
        st.datetimes(timezones=OFFSETS | st.just(UTC)),
        st.datetimes(datetime(1, 1, 1), datetime(1, 1, 3), timezones=OFFSETS),
        st.datetimes(datetime(9999, 12, 29), timezones=OFFSETS),
    ).map(_rfc3339),
    st.one_of(
        st.sampled_from(["2023-06-10T09:00:00", "2023-06-10 09:00:00+08:00", "20230610T090000Z"]),
        JUNK,
    ),
)

DAYS = mostly(
    st.one_of(
        st.dates(date(2022, 1, 1), date(2028, 12, 31)),
        st.dates(),
        st.sampled_from([date.min, date(1, 1, 2), date(2, 1, 1), date(9998, 12, 31), date.max]),
    ).map(date.isoformat),
    st.one_of(st.sampled_from(["2023-02-29", "2023-13-01", "23-06-10", "2023-6-1"]), JUNK),
)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


KINDS = st.sampled_from(sorted(LOADER))
# Real objects' IDs (the demo's keys are small), then IDs of nothing, and IDs that
# only look like IDs: wrong types, huge or negative keys, bad base64.
IDS = mostly(
    st.builds(to_global_id, KINDS, st.integers(1, 40)),
    st.one_of(
        st.builds(to_global_id, KINDS, st.integers(0, 10**18 - 1)),
        st.builds(
            lambda kind, key: _b64(f"{kind}:{key}"),
            st.one_of(KINDS, st.sampled_from(["Query", "", "fund"])),
            st.one_of(
                st.integers(-(2**63), 2**63).map(str),
                st.sampled_from(["2147483647", "2147483648", "²", "١", "1 ", "01", "+1"]),
                CLEAN,
            ),
        ),
        JUNK,
    ),
    one_in=4,
)


def register() -> None:
    """Give schemathesis these strategies (it keeps them for the whole process)."""
    strings = {"Decimal": AMOUNTS, "DateTime": MOMENTS, "Date": DAYS, "ID": IDS, "String": STRINGS}
    for name, strategy in strings.items():
        schemathesis.graphql.scalar(name, strategy.map(nodes.String))
    schemathesis.graphql.scalar("Int", INTS.map(nodes.Int))
