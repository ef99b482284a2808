"""The amount grammar of ledger/money.py, by property: every valid text becomes exactly
its fen, everything else is refused with InvalidAmount, and nothing else is raised.

Validity is decided here without a regular expression, character by character, so
that the tests do not share the parser's own definition."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ledger.errors import InvalidAmount
from ledger.money import FEN_PER_YUAN, MAX_AMOUNT_CHARS, MAX_FEN, to_decimal, to_fen

ASCII_DIGITS = "0123456789"
# Look like digits or numbers to Python (int(), Decimal(), str.isdigit()) but are not
# amounts: full-width, Arabic-Indic, Devanagari, superscript, and the ASCII troublemakers.
LOOKALIKES = "０１２３４５６７８９٠١٢٣٤٥٦٧٨٩०१२३४५६७८९²³¹" + ",_eE+- \t\n.xX"


def expected_fen(text: str) -> int | None:
    """The fen a text stands for, or None when it is not an acceptable amount."""
    if not text or len(text) > MAX_AMOUNT_CHARS or text.count(".") > 1:
        return None
    whole, _, decimals = text.partition(".")
    if not whole or ("." in text and not decimals) or len(decimals) > 2:
        return None
    if any(c not in ASCII_DIGITS for c in whole + decimals):
        return None
    fen = sum(ASCII_DIGITS.index(c) * 10 ** (len(whole) - 1 - i) for i, c in enumerate(whole))
    fen = fen * 100 + sum(
        ASCII_DIGITS.index(c) * 10 ** (1 - i) for i, c in enumerate(decimals.ljust(2, "0"))
    )
    return fen if 0 < fen <= MAX_FEN else None


valid_amounts = st.builds(
    lambda whole, decimals: whole + (f".{decimals}" if decimals is not None else ""),
    st.text(ASCII_DIGITS, min_size=1, max_size=12),
    st.none() | st.text(ASCII_DIGITS, min_size=1, max_size=2),
).filter(lambda t: expected_fen(t) is not None)


@given(valid_amounts)
@example("0.01")
@example("100000000000.00")
@example("007.5")
def test_every_valid_text_becomes_exactly_its_fen(text):
    fen = to_fen(text)
    assert fen == expected_fen(text)
    assert Decimal(text) == to_decimal(fen)  # the same number, to the fen


@given(st.integers(min_value=1, max_value=MAX_FEN))
def test_what_the_api_answers_is_read_back_to_the_same_fen(fen):
    assert to_fen(format(to_decimal(fen), "f")) == fen


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
@example(0)
@example(-1)
def test_an_amount_has_exactly_two_places_and_the_fens_value(fen):
    """Any bigint the ledger can hold, negative balances too: the same digits, sign
    and exponent as dividing by 100 and quantizing to the fen."""
    expected = (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))
    assert to_decimal(fen).as_tuple() == expected.as_tuple()
    assert to_decimal(fen).as_tuple().exponent == -2


def _insert(text: str, at: int, char: str) -> str:
    at = at % (len(text) + 1)
    return text[:at] + char + text[at:]


@given(valid_amounts, st.integers(min_value=0), st.sampled_from(LOOKALIKES))
def test_a_valid_text_with_any_lookalike_added_is_refused(text, at, char):
    spoiled = _insert(text, at, char)
    if expected_fen(spoiled) is not None:  # "1" + "." at the end of "10" is "10." ...
        return
    with pytest.raises(InvalidAmount):
        to_fen(spoiled)


@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(LOOKALIKES)))
@example("1e999999999")
@example("")
@example("1,000")
@example("0x10")
@example("1_000")
@example("NaN")
@example("Infinity")
@example("-Infinity")
@example("１０")
@example(" 10")
@example("10 ")
@example("10\n")
@example("+10")
@example("-10")
@example("1.")
@example(".5")
@example("1.005")
@example("1.000")
@example("0")
@example("0.00")
@example("100000000000.01")
@example("0" * (MAX_AMOUNT_CHARS + 1) + "1")
def test_any_other_text_is_refused_with_the_field_named(text):
    expected = expected_fen(text)
    if expected is not None:
        assert to_fen(text) == expected
        return
    with pytest.raises(InvalidAmount) as refused:
        to_fen(text, field="postings.0.amount.amount")
    assert refused.value.field == "postings.0.amount.amount"
    assert refused.value.code == "INVALID_AMOUNT"


@pytest.mark.parametrize("value", [10, 10.5, True, None, ["10"], {"amount": "10"}, b"10"])
def test_values_that_are_not_text_are_refused(value):
    with pytest.raises(InvalidAmount):
        to_fen(value)


@pytest.mark.parametrize(
    "value",
    ["1E+999999999", "1E-999999999", "-5", "-0", "0", "NaN", "sNaN", "Infinity", "1.001", "1.000"],
)
def test_decimals_from_the_project_s_own_code_are_held_to_the_same_rules(value):
    with pytest.raises(InvalidAmount):
        to_fen(Decimal(value))


@pytest.mark.parametrize(("value", "fen"), [("100.00", 10000), ("1E+2", 10000), ("0.5", 50)])
def test_decimals_in_range_are_exact(value, fen):
    assert to_fen(Decimal(value)) == fen


def test_zero_is_allowed_only_when_asked_for():
    assert to_fen("0.00", allow_zero=True) == 0
    with pytest.raises(InvalidAmount):
        to_fen("0.00")
