"""Parsing of the two statement file formats (see docs/statement-formats.md).

Pure: text or bytes in, frozen line records out, no I/O. A file is accepted whole or
refused whole with one StatementFileError naming the data line and the problem, so an
import never posts half a file.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from reconciliation.csv_records import CsvError, records

MAX_STATEMENT_BYTES = 20 * 1024 * 1024
MAX_STATEMENT_LINES = 200_000
MAX_REFERENCE_CHARS = 100
# 10^11 yuan, the ledger's own ceiling (ledger/money.py): anything larger is a broken file.
MAX_ABS_FEN = 10**11 * 100

SETTLEMENT_COLUMNS = ("date", "reference", "amount", "fee")
BANK_COLUMNS = ("date", "reference", "amount", "balance")

_BOM = "\ufeff"
# Zero padding is optional because Excel re-saves 2023/06/10 as 2023/6/10 in Chinese locales.
# The same separator on both sides: 2023-06/10 is more likely a typo than a format.
_DATE = re.compile(r"([0-9]{4})([-/])([0-9]{1,2})\2([0-9]{1,2})")
# [0-9], not \d or Decimal's own parser: both accept full-width digits and Decimal accepts
# "1_000", "1e3" and "NaN". Thousands separators and currency signs fail here too.
_AMOUNT = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]{1,2}))?")
# Control characters (tabs, newlines, NUL), lone surrogates and line/paragraph separators
# cannot be part of a reference a person typed; they mean a broken or binary file.
# (Unicode categories Cc, Cs, Zl and Zp, as one pattern: it runs once per line.)
_BAD_REFERENCE_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


class StatementFileError(Exception):
    """The file as a whole is refused; maps to the contract's INVALID_STATEMENT."""

    code = "INVALID_STATEMENT"

    def __init__(self, message: str, *, line_no: int | None = None, file_line: int | None = None):
        # Real exports have title rows above the header: the file line finds the row.
        if line_no is not None and file_line is not None:
            message = f"line {line_no} (file line {file_line}): {message}"
        elif line_no is not None:
            message = f"line {line_no}: {message}"
        elif file_line is not None:
            message = f"file line {file_line}: {message}"
        super().__init__(message)
        self.message = message
        self.line_no = line_no
        self.file_line = file_line


@dataclass(frozen=True)
class SettlementLine:
    line_no: int
    date: datetime.date
    reference: str
    amount_fen: int
    fee_fen: int


@dataclass(frozen=True)
class BankLine:
    line_no: int
    date: datetime.date
    reference: str
    amount_fen: int
    balance_fen: int


def decode_statement(data: bytes) -> str:
    """Decode an uploaded file: UTF-8 (BOM optional), else GBK/GB18030, else refuse.

    UTF-8 goes first because it is strict: GBK text of any length is almost never valid
    UTF-8, while nearly any bytes decode as something in GB18030.
    """
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementFileError(_too_large())
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise StatementFileError("the file is UTF-16; save it as UTF-8 or GBK CSV")
    for encoding in ("utf-8-sig", "gbk", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementFileError("the file is neither UTF-8 nor GBK text")


def parse_settlement(text: str) -> list[SettlementLine]:
    """A payment channel's settlement file: date,reference,amount,fee."""

    def line(line_no: int, fields: dict[str, str]) -> SettlementLine:
        amount = _amount(fields["amount"], "amount", line_no, signed=False)
        if amount == 0:
            raise StatementFileError("amount must be greater than zero", line_no=line_no)
        fee = _amount(fields["fee"], "fee", line_no, signed=False)
        if fee > amount:
            raise StatementFileError(
                f"fee {fields['fee']} is larger than amount {fields['amount']}", line_no=line_no
            )
        return SettlementLine(
            line_no=line_no,
            date=_date(fields["date"], line_no),
            reference=_reference(fields["reference"], line_no),
            amount_fen=amount,
            fee_fen=fee,
        )

    return list(_rows(text, SETTLEMENT_COLUMNS, line))


def parse_bank_statement(text: str) -> list[BankLine]:
    """The bank's statement: date,reference,amount,balance with signed amounts."""

    def line(line_no: int, fields: dict[str, str]) -> BankLine:
        amount = _amount(fields["amount"], "amount", line_no, signed=True)
        if amount == 0:
            raise StatementFileError(
                "amount must not be zero (positive is money in, negative money out)",
                line_no=line_no,
            )
        return BankLine(
            line_no=line_no,
            date=_date(fields["date"], line_no),
            reference=_reference(fields["reference"], line_no),
            amount_fen=amount,
            balance_fen=_amount(fields["balance"], "balance", line_no, signed=True),
        )

    return list(_rows(text, BANK_COLUMNS, line))


def closing_balance(lines: list[BankLine]) -> int:
    """The statement's closing balance: the running balance after its last line."""
    if not lines:
        raise StatementFileError("the statement has no data lines")
    return lines[-1].balance_fen


# ---------------------------------------------------------------- internals

_Line = TypeVar("_Line")


def _rows(
    text: str, columns: tuple[str, ...], make: Callable[[int, dict[str, str]], _Line]
) -> Iterator[_Line]:
    if text.startswith(_BOM):
        text = text[1:]
    if _utf8_size(text) > MAX_STATEMENT_BYTES:
        raise StatementFileError(_too_large())
    if not text.strip():
        raise StatementFileError("the statement is empty")

    # A stray quote ("abc"def, or ab"c in an unquoted field) is refused rather than
    # silently glued together (csv_records); spaces around a quoted field are dropped.
    reader = _strict_records(text)
    header = _next_record(reader, None)
    index = _header_index(header, columns)

    line_no = 0
    first_blank: int | None = None
    while True:
        record = _next_record(reader, line_no + 1)
        if record is None:
            break
        line_no += 1
        if all(not field.strip() for field in record):
            # Trailing blank lines (and the ",,," rows Excel leaves) are ignored; one in the
            # middle is refused, as it usually means two files pasted together or a cut.
            if first_blank is None:
                first_blank = line_no
            continue
        if first_blank is not None:
            raise StatementFileError(
                "blank line in the middle of the statement", line_no=first_blank
            )
        if line_no > MAX_STATEMENT_LINES:
            raise StatementFileError(f"more than {MAX_STATEMENT_LINES} data lines", line_no=line_no)
        if len(record) != len(columns):
            hint = (
                " (an unquoted thousands separator such as 1,234.50?)"
                if len(record) > len(columns)
                else ""
            )
            raise StatementFileError(
                f"expected {len(columns)} fields, found {len(record)}{hint}", line_no=line_no
            )
        yield make(line_no, {name: record[i].strip() for name, i in index.items()})

    if line_no == 0 or first_blank == 1:
        raise StatementFileError("the statement has a header but no data lines")


def _strict_records(text: str) -> Iterator[list[str]]:
    for _file_line, fields in records(text):
        yield fields


def _next_record(reader: Iterator[list[str]], line_no: int | None) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except CsvError as exc:  # unbalanced quotes, a stray quote
        prefix = "header: " if line_no is None else ""
        raise StatementFileError(f"{prefix}{exc.message}", line_no=line_no) from None


def _header_index(header: list[str] | None, columns: tuple[str, ...]) -> dict[str, int]:
    expected = ",".join(columns)
    names = [name.strip().casefold() for name in header or []]
    # Any order is accepted: the names say which column is which. Duplicates, extras and
    # missing ones are refused, because guessing would misread money.
    if sorted(names) != sorted(columns):
        got = ",".join(header or [])[:200]
        raise StatementFileError(f"header: expected columns {expected}, found {got!r}")
    return {name: names.index(name) for name in columns}


def _date(value: str, line_no: int) -> datetime.date:
    match = _DATE.fullmatch(value)
    if match is None:
        raise StatementFileError(
            f"date {value[:40]!r} is not YYYY-MM-DD or YYYY/MM/DD", line_no=line_no
        )
    year, _, month, day = match.groups()
    try:
        return datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise StatementFileError(f"date {value!r} does not exist", line_no=line_no) from None


def _amount(value: str, column: str, line_no: int, *, signed: bool) -> int:
    """Yuan with at most two decimals to integer fen, exactly (Decimal, never float)."""
    match = _AMOUNT.fullmatch(value)
    if match is None:
        raise StatementFileError(
            f"{column} {value[:40]!r} is not an amount in yuan with at most two decimals "
            "(no thousands separators or currency signs)",
            line_no=line_no,
        )
    sign = match.group(1)
    if not signed and sign:
        raise StatementFileError(
            f"{column} {value!r} must be a positive amount written without a sign",
            line_no=line_no,
        )
    # Exact: the pattern allows two decimals at most, so yuan * 100 is a whole number.
    fen = Decimal(value).scaleb(2)
    if abs(fen) > MAX_ABS_FEN:
        raise StatementFileError(f"{column} {value[:40]!r} is impossibly large", line_no=line_no)
    return int(fen)


def _reference(value: str, line_no: int) -> str:
    if not value:
        raise StatementFileError("reference is empty", line_no=line_no)
    if len(value) > MAX_REFERENCE_CHARS:
        raise StatementFileError(
            f"reference is longer than {MAX_REFERENCE_CHARS} characters", line_no=line_no
        )
    if _BAD_REFERENCE_CHARS.search(value):
        raise StatementFileError(
            "reference contains control characters or invalid Unicode", line_no=line_no
        )
    return value


def _utf8_size(text: str) -> int:
    if len(text) > MAX_STATEMENT_BYTES:  # every character is at least one byte
        return len(text)
    # Chunked so a 20 MiB statement is not copied whole; surrogatepass so that lone
    # surrogates (possible in JSON strings) are sized here and refused later, not crash.
    chunk = 1 << 20
    return sum(
        len(text[i : i + chunk].encode("utf-8", "surrogatepass"))
        for i in range(0, len(text), chunk)
    )


def _too_large() -> str:
    return f"the statement is larger than {MAX_STATEMENT_BYTES // (1024 * 1024)} MiB"
