"""The statement file parser: refusals name the line, valid files round-trip exactly."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciliation.statement_files import (
    MAX_STATEMENT_BYTES,
    MAX_STATEMENT_LINES,
    BankLine,
    SettlementLine,
    StatementFileError,
    closing_balance,
    decode_statement,
    parse_bank_statement,
    parse_settlement,
)

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
S_HEADER = "date,reference,amount,fee\n"
B_HEADER = "date,reference,amount,balance\n"
D = datetime.date


def refused(parse, text: str, line_no: int | None, fragment: str) -> StatementFileError:
    with pytest.raises(StatementFileError) as info:
        parse(text)
    err = info.value
    assert err.code == "INVALID_STATEMENT"
    assert err.line_no == line_no
    assert fragment in err.message
    if line_no is not None:
        assert err.message.startswith(f"line {line_no}: ")
        assert str(err) == err.message
    return err


# ---------------------------------------------------------------- valid files


def test_samples_parse_to_the_documented_totals():
    settlement = parse_settlement((SAMPLES / "settlement.csv").read_text("utf-8"))
    assert len(settlement) == 8
    assert settlement[0] == SettlementLine(1, D(2023, 6, 10), "WX202306100001", 5000, 30)
    gross = sum(line.amount_fen for line in settlement)
    fees = sum(line.fee_fen for line in settlement)
    assert (gross, fees) == (105460, 633)

    bank = parse_bank_statement((SAMPLES / "bank-statement.csv").read_text("utf-8"))
    assert [line.line_no for line in bank] == [1, 2, 3, 4, 5, 6]
    # The channel's payout line carries exactly the settlement file's net total.
    payout = next(line for line in bank if line.reference == "WXPAYOUT20230612001")
    assert payout.amount_fen == gross - fees
    assert bank[3] == BankLine(4, D(2023, 6, 15), "PAY-20230615-01", -86000, 1347477)
    assert bank[4].reference == "中原区-001"
    assert closing_balance(bank) == 1277477
    # The sample's running balance is consistent line to line.
    for before, line in itertools.pairwise(bank):
        assert before.balance_fen + line.amount_fen == line.balance_fen


def test_settlement_crlf_both_date_formats_quotes_and_loose_header():
    text = (
        " Date , REFERENCE,Amount,fee\r\n"
        "2023-06-10,WX1,50,0\r\n"
        '2023/6/9,"WX,2","1.5","0.05"\r\n'
        '"2023/06/11", " WX3 ",0.01,0.01\r\n'
    )
    assert parse_settlement(text) == [
        SettlementLine(1, D(2023, 6, 10), "WX1", 5000, 0),
        SettlementLine(2, D(2023, 6, 9), "WX,2", 150, 5),
        SettlementLine(3, D(2023, 6, 11), "WX3", 1, 1),
    ]


def test_columns_in_another_order_are_read_by_name():
    text = "balance,amount,reference,date\n-3.00,+2.50,R1,2023-06-10\n"
    assert parse_bank_statement(text) == [BankLine(1, D(2023, 6, 10), "R1", 250, -300)]


def test_bank_signs_and_closing_balance():
    text = B_HEADER + "2023-06-10,IN,+100.00,100.00\n2023-06-11,OUT,-150.5,-50.50\n"
    lines = parse_bank_statement(text)
    assert [(line.amount_fen, line.balance_fen) for line in lines] == [
        (10000, 10000),
        (-15050, -5050),
    ]
    assert closing_balance(lines) == -5050


def test_closing_balance_of_nothing_is_refused():
    with pytest.raises(StatementFileError):
        closing_balance([])


def test_trailing_blank_lines_and_excel_comma_rows_are_ignored():
    text = S_HEADER + "2023-06-10,WX1,1.00,0\n\n  \r\n,,,\n"
    assert [line.line_no for line in parse_settlement(text)] == [1]


def test_text_may_start_with_a_bom():
    assert parse_settlement("\ufeff" + S_HEADER + "2023-06-10,WX1,1,0\n")[0].amount_fen == 100


def test_amount_limits_are_inclusive():
    text = B_HEADER + "2023-06-10,R,-100000000000.00,+100000000000\n"
    assert parse_bank_statement(text)[0].amount_fen == -(10**13)


def test_exactly_the_line_limit_is_accepted():
    text = S_HEADER + "2023-06-10,R,1,0\n" * MAX_STATEMENT_LINES
    assert parse_settlement(text)[-1].line_no == MAX_STATEMENT_LINES


# ---------------------------------------------------------------- bytes


SETTLEMENT_ZH = S_HEADER + "2023-06-10,中原区-001,100.00,0.60\r\n2023/06/11,儿童公园社区,5,0\r\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_bytes_in_each_supported_encoding_decode_to_the_same_lines(encoding):
    lines = parse_settlement(decode_statement(SETTLEMENT_ZH.encode(encoding)))
    assert [(line.reference, line.amount_fen, line.fee_fen) for line in lines] == [
        ("中原区-001", 10000, 60),
        ("儿童公园社区", 500, 0),
    ]


def test_undecodable_bytes_are_refused():
    with pytest.raises(StatementFileError, match="neither UTF-8 nor GBK"):
        decode_statement(b"date,reference\n\x80\xff\xfe")


def test_utf16_is_refused_with_advice():
    with pytest.raises(StatementFileError, match="UTF-16"):
        decode_statement(SETTLEMENT_ZH.encode("utf-16"))


def test_oversized_bytes_are_refused_before_decoding():
    with pytest.raises(StatementFileError, match="larger than 20 MiB"):
        decode_statement(b" " * (MAX_STATEMENT_BYTES + 1))


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("\n\r\n  \n", "empty"),
        ("\ufeff", "empty"),
        (S_HEADER, "no data lines"),
        (S_HEADER + "\n\n", "no data lines"),
        ("date,reference,amount\n2023-06-10,R,1\n", "header: expected columns"),
        ("date,reference,amount,fee,note\n2023-06-10,R,1,0,x\n", "header: expected columns"),
        ("date,reference,amount,amount\n2023-06-10,R,1,0\n", "header: expected columns"),
        ("2023-06-10,R,1.00,0\n", "header: expected columns"),
        ("\n" + S_HEADER + "2023-06-10,R,1,0\n", "header: expected columns"),
        (B_HEADER + "2023-06-10,R,1,0\n", "header: expected columns"),
        ('date,"reference\n', "header: malformed CSV"),
    ],
)
def test_whole_file_refusals_name_no_line(text, fragment):
    refused(parse_settlement, text, None, fragment)


SETTLEMENT_REFUSALS = [
    ("2023-06-10,R,1,0,extra", "expected 4 fields, found 5"),
    ("2023-06-10,R,1,234.50,0.6", "thousands separator"),
    ("2023-06-10,R,1", "expected 4 fields, found 3"),
    ('2023-06-10,R,"1,234.50",0', "no thousands separators"),
    ("2023-06-10,R,¥12.00,0", "not an amount"),
    ("2023-06-10,R,１２.00,0", "not an amount"),  # full-width digits
    ("2023-06-10,R,1_000,0", "not an amount"),
    ("2023-06-10,R,1e3,0", "not an amount"),
    ("2023-06-10,R,NaN,0", "not an amount"),
    ("2023-06-10,R,12.345,0", "at most two decimals"),
    ("2023-06-10,R,12.,0", "not an amount"),
    ("2023-06-10,R,abc,0", "not an amount"),
    ("2023-06-10,R,,0", "not an amount"),
    ("2023-06-10,R,0.00,0", "greater than zero"),
    ("2023-06-10,R,-5.00,0", "without a sign"),
    ("2023-06-10,R,+5.00,0", "without a sign"),
    ("2023-06-10,R,5.00,-0.01", "without a sign"),
    ("2023-06-10,R,5.00,5.01", "fee 5.01 is larger than amount 5.00"),
    ("2023-06-10,R,100000000000.01,0", "impossibly large"),
    ("2023-06-10,R,9" + "9" * 5000 + ",0", "impossibly large"),
    ("2023.06.10,R,1,0", "not YYYY-MM-DD"),
    ("10/06/2023,R,1,0", "not YYYY-MM-DD"),
    ("2023-06/10,R,1,0", "not YYYY-MM-DD"),
    ("2023-06-10 14:33:00,R,1,0", "not YYYY-MM-DD"),
    ("2023-02-30,R,1,0", "does not exist"),
    ("0000-01-01,R,1,0", "does not exist"),
    (",R,1,0", "not YYYY-MM-DD"),
    ("2023-06-10,,1,0", "reference is empty"),
    ("2023-06-10,   ,1,0", "reference is empty"),
    ("2023-06-10," + "R" * 101 + ",1,0", "longer than 100"),
    ('2023-06-10,"R\nS",1,0', "control characters"),
    ("2023-06-10,R\x00,1,0", "control characters"),
    ("2023-06-10,R\ud800,1,0", "invalid Unicode"),
    ('2023-06-10,"R"x,1,0', "malformed CSV"),
    ('2023-06-10,"R,1,0', "malformed CSV"),
    ('2023-06-10,R"x,1,0', "a stray quote"),  # in an unquoted field (issue 13)
    ('2023-06-10,R,1",0', "a stray quote"),
]


@pytest.mark.parametrize(("row", "fragment"), SETTLEMENT_REFUSALS)
def test_a_bad_settlement_row_refuses_the_file_naming_its_line(row, fragment):
    good = "2023-06-10,OK,1.00,0.01\n"
    # The bad row is data line 3, after two good ones and before another.
    refused(parse_settlement, S_HEADER + good * 2 + row + "\n" + good, 3, fragment)


def test_reference_of_exactly_100_characters_is_accepted():
    assert parse_settlement(S_HEADER + f"2023-06-10,{'R' * 100},1,0\n")[0].reference == "R" * 100


@pytest.mark.parametrize(
    ("row", "fragment"),
    [
        ("2023-06-10,R,0.00,5", "must not be zero"),
        ("2023-06-10,R,-0,5", "must not be zero"),
        ("2023-06-10,R,1,", "balance '' is not an amount"),
        ("2023-06-10,R,1,1.001", "balance"),
        ("2023-06-10,R,1,-100000000000.01", "impossibly large"),
        ("2023-06-10,R,--1,5", "not an amount"),
        ("2023-06-10,R,1,0,", "expected 4 fields, found 5"),
    ],
)
def test_a_bad_bank_row_refuses_the_file_naming_its_line(row, fragment):
    refused(parse_bank_statement, B_HEADER + "2023-06-10,OK,1,1\n" + row + "\n", 2, fragment)


def test_a_blank_line_in_the_middle_is_refused_at_the_blank_line():
    text = S_HEADER + "2023-06-10,R,1,0\r\n\r\n,,,\r\n2023-06-11,S,1,0\r\n"
    refused(parse_settlement, text, 2, "blank line in the middle")


def test_one_line_over_the_limit_is_refused():
    text = S_HEADER + "2023-06-10,R,1,0\n" * (MAX_STATEMENT_LINES + 1)
    refused(parse_settlement, text, MAX_STATEMENT_LINES + 1, f"more than {MAX_STATEMENT_LINES}")


def test_text_over_the_size_limit_is_refused_counting_utf8_bytes():
    row = "2023-06-10,中原区中原区中原区中原区,1,0\n"  # 28 characters, 52 bytes in UTF-8
    rows = MAX_STATEMENT_BYTES // len(row.encode("utf-8")) + 1
    text = S_HEADER + row * rows
    assert len(text) <= MAX_STATEMENT_BYTES < len(text.encode("utf-8"))
    refused(parse_settlement, text, None, "larger than 20 MiB")


# ---------------------------------------------------------------- fuzzing

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

csv_alphabet = st.sampled_from(list('date,referncamoutfblB"\r\n 0123456789-+./¥中\ufeff\x00'))
csv_like = st.text(alphabet=csv_alphabet, max_size=200)
header_then_noise = st.tuples(
    st.sampled_from([S_HEADER, B_HEADER, "DATE,Reference,amount,FEE\r\n"]),
    st.text(max_size=200) | csv_like,
).map("".join)


@FUZZ
@given(st.text(max_size=300) | csv_like | header_then_noise)
def test_arbitrary_text_is_parsed_or_refused_never_crashes(text):
    for parse in (parse_settlement, parse_bank_statement):
        try:
            lines = parse(text)
        except StatementFileError as err:
            assert err.message
            assert err.line_no is None or err.line_no >= 1
        else:
            assert lines and [line.line_no for line in lines] == list(range(1, len(lines) + 1))


@FUZZ
@given(st.binary(max_size=300) | csv_like.map(lambda t: t.encode("utf-8")))
def test_arbitrary_bytes_are_decoded_or_refused_never_crash(data):
    try:
        text = decode_statement(data)
    except StatementFileError:
        return
    try:
        parse_bank_statement(text)
    except StatementFileError:
        pass


# References as people and platforms write them: printable, no surrounding spaces
# (fields are trimmed), quoted by the writer when they hold commas or quotes.
references = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
    min_size=1,
    max_size=100,
).filter(lambda ref: ref == ref.strip() and ref)
references = (
    references
    | st.from_regex(r"WX2023[0-9]{8}", fullmatch=True)
    | st.sampled_from(["中原区-001", "儿童公园社区", "DEP,2023", 'say "hi"'])
)
dates = st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31))
fen = st.integers(min_value=1, max_value=10**13)


def yuan(value: int, style: int) -> str:
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    if style == 0:
        return f"{sign}{whole}.{cents:02d}"
    if style == 1 and cents % 10 == 0:
        return f"{sign}{whole}.{cents // 10}"
    if cents == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}"


def write(header: list[str], rows: list[list[str]], crlf: bool) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def as_date(day: datetime.date, slash: bool) -> str:
    return day.strftime("%Y/%m/%d") if slash else day.isoformat()


def to_bytes_and_back(text: str, encoding: str) -> str:
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if encoding in ("gbk", "gb18030"):
        # Known limit, documented: GBK bytes that also happen to be valid UTF-8 are read
        # as UTF-8. Only round-trip through GBK what cannot be mistaken for it.
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            data = text.encode("utf-8")
    return decode_statement(data)


encodings = st.sampled_from(["text", "utf-8", "utf-8-sig", "gbk", "gb18030"])


@FUZZ
@given(
    st.lists(st.tuples(dates, references, fen, st.integers(0, 100), st.booleans()), min_size=1),
    st.booleans(),
    st.integers(0, 2),
    encodings,
)
def test_valid_settlement_rows_round_trip_exactly(rows, crlf, style, encoding):
    expected = [
        SettlementLine(i, day, ref, amount, amount * percent // 100)
        for i, (day, ref, amount, percent, _) in enumerate(rows, start=1)
    ]
    text = write(
        ["date", "reference", "amount", "fee"],
        [
            [
                as_date(line.date, slash),
                line.reference,
                yuan(line.amount_fen, style),
                yuan(line.fee_fen, style),
            ]
            for line, (*_, slash) in zip(expected, rows, strict=True)
        ],
        crlf,
    )
    if encoding != "text":
        text = to_bytes_and_back(text, encoding)
    assert parse_settlement(text) == expected


signed_fen = st.integers(min_value=-(10**13), max_value=10**13)


@FUZZ
@given(
    st.lists(
        st.tuples(dates, references, signed_fen.filter(bool), signed_fen, st.booleans()),
        min_size=1,
    ),
    st.booleans(),
    st.integers(0, 2),
    encodings,
)
def test_valid_bank_rows_round_trip_exactly(rows, crlf, style, encoding):
    expected = [
        BankLine(i, day, ref, amount, balance)
        for i, (day, ref, amount, balance, _) in enumerate(rows, start=1)
    ]
    text = write(
        ["Date", " reference ", "AMOUNT", "balance"],
        [
            [
                as_date(line.date, slash),
                line.reference,
                yuan(line.amount_fen, style),
                yuan(line.balance_fen, style),
            ]
            for line, (*_, slash) in zip(expected, rows, strict=True)
        ],
        crlf,
    )
    if encoding != "text":
        text = to_bytes_and_back(text, encoding)
    lines = parse_bank_statement(text)
    assert lines == expected
    assert closing_balance(lines) == expected[-1].balance_fen
