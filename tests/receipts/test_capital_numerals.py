"""Amounts in Chinese capital numerals: examples from the payment rules, and
properties over every amount a fund can hold (read back, the text gives the amount)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import MAX_FEN
from resolvers.capital_numerals import DIGITS, capital_amount

UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def read_back(text: str) -> int:
    """An independent reader: capital numerals to fen."""
    body = text.removesuffix("整")
    yuan_text, _, rest = body.rpartition("元")
    total = section = number = 0
    for ch in yuan_text:
        if ch == "零":
            continue
        if ch in DIGITS:
            number = DIGITS.index(ch)
        elif ch in UNITS:
            section += number * UNITS[ch]
            number = 0
        elif ch == "万":
            total += (section + number) * 10_000
            section = number = 0
        elif ch == "亿":
            total = (total + section + number) * 100_000_000
            section = number = 0
        else:
            raise AssertionError(f"unexpected {ch!r} in {text}")
    yuan = total + section + number
    fen = 0
    rest = rest.replace("零", "")
    for ch, unit in zip(rest[::2], rest[1::2], strict=True):
        fen += DIGITS.index(ch) * {"角": 10, "分": 1}[unit]
    return yuan * 100 + fen


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (12345, "壹佰贰拾叁元肆角伍分"),
        (10000, "壹佰元整"),
        (168032, "壹仟陆佰捌拾元零叁角贰分"),
        (10700053, "壹拾万柒仟元零伍角叁分"),
        (1000, "壹拾元整"),
        (50, "伍角"),
        (5, "伍分"),
        (100500, "壹仟零伍元整"),
        (100001000, "壹佰万零壹拾元整"),
    ],
)
def test_the_payment_rules_examples(fen, text):
    assert capital_amount(fen) == text


@given(st.integers(1, MAX_FEN))
def test_every_amount_reads_back(fen):
    text = capital_amount(fen)
    assert read_back(text) == fen
    assert "零零" not in text and not text.startswith("零")
    assert text.endswith("整") == (fen % 100 == 0)
    assert ("元" in text) == (fen >= 100)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, MAX_FEN * 10**6])
def test_refuses_what_is_not_an_amount(bad):
    with pytest.raises(ValueError):
        capital_amount(bad)
