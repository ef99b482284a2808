"""Which format a statement file is in, and its lines read through that format.

The project's own four-column files (docs/statement-formats.md) keep their strict
parser; everything else is found among the profiles by its header row, which may sit
below title rows. A file no profile fits is refused naming the profiles tried and the
header found.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from reconciliation.csv_records import CsvError, records
from reconciliation.profile_reader import HeaderMatch, Row, match_header, read_lines
from reconciliation.profiles import Profile, load_profiles, normalize
from reconciliation.statement_files import (
    MAX_STATEMENT_BYTES,
    BankLine,
    SettlementLine,
    StatementFileError,
    _too_large,
    _utf8_size,
    closing_balance,
    decode_statement,
    parse_bank_statement,
    parse_settlement,
)
from reconciliation.xlsx_rows import is_xlsx, xlsx_rows

# The header of a real export sits under at most this many title rows.
HEADER_SEARCH_ROWS = 30
LEGACY_FORMATS = (
    ("jinlin-settlement", "PAYMENT_CHANNEL", "Jinlin settlement CSV (date,reference,amount,fee)"),
    ("jinlin-bank", "BANK", "Jinlin bank statement CSV (date,reference,amount,balance)"),
)


@dataclass(frozen=True)
class ParsedStatement:
    format: str  # the profile's name
    title: str
    source: str  # BANK or PAYMENT_CHANNEL
    lines: list[SettlementLine] | list[BankLine]
    payout_date: datetime.date | None = None  # a channel file's payout row, if it has one

    @property
    def last_date(self) -> datetime.date:
        return max(line.date for line in self.lines)


def read_statement(
    content: str | bytes, source: str | None = None, profiles: list[Profile] | None = None
) -> ParsedStatement:
    """Detect the format and read the whole file, or refuse it (StatementFileError)."""
    if isinstance(content, bytes) and len(content) > MAX_STATEMENT_BYTES:
        decode_statement(content)  # refuses with the size message
    if isinstance(content, str) and _utf8_size(content) > MAX_STATEMENT_BYTES:
        raise StatementFileError(_too_large())
    if profiles is None:
        profiles, _problems = load_profiles()
    parsed = _read_any(content, source, profiles)
    if source is not None and parsed.source != source:
        raise StatementFileError(
            f"the file is a {parsed.title} ({parsed.format}), a {parsed.source} file, not {source}"
        )
    return parsed


def detect_format(content: str | bytes, profiles: list[Profile] | None = None) -> tuple[str, str]:
    """The format's name and source from the file's header alone (nothing else is read)."""
    if profiles is None:
        profiles, _problems = load_profiles()
    if isinstance(content, bytes) and is_xlsx(content):
        rows = xlsx_rows(content, limit=HEADER_SEARCH_ROWS)
        header, _ = _best([(p, None, rows) for p in profiles], None)
        return header.profile.name, header.profile.statement_source
    legacy = _legacy_columns(content)
    if legacy is not None:
        name, source, _ = LEGACY_FORMATS[0 if "balance" not in legacy else 1]
        return name, source
    tables = [
        (p, enc, rows)
        for p in profiles
        for enc in ((None,) if isinstance(content, str) else p.encodings)
        if (rows := _head_rows(content, enc)) is not None
    ]
    if not tables and isinstance(content, bytes):
        decode_statement(content)
    header, _ = _best(tables, None)
    return header.profile.name, header.profile.statement_source


def _read_any(content: str | bytes, source: str | None, profiles: list[Profile]) -> ParsedStatement:
    if isinstance(content, bytes) and is_xlsx(content):
        rows = xlsx_rows(content)
        header, _ = _best([(p, None, rows) for p in profiles], source)
        return _read(header, iter(rows))
    legacy = _legacy(content, source)
    if legacy is not None:
        return legacy
    heads: dict[str | None, list[Row] | None] = {}
    tables = []
    for profile in profiles:
        for encoding in (None,) if isinstance(content, str) else profile.encodings:
            if encoding not in heads:
                heads[encoding] = _head_rows(content, encoding)
            if heads[encoding] is not None:
                tables.append((profile, encoding, heads[encoding]))
    if not tables and isinstance(content, bytes):
        decode_statement(content)  # refuses, saying which encodings were tried
    header, encoding = _best(tables, source)
    return _read(header, records(_decode(content, encoding)))


def _read(header: HeaderMatch, rows: Iterator[Row]) -> ParsedStatement:
    after = itertools.dropwhile(lambda row: row[0] <= header.file_line, rows)
    lines, payout = read_lines(header, after)
    if header.profile.kind == "bank":
        closing_balance(lines)
    profile = header.profile
    return ParsedStatement(profile.name, profile.title, profile.statement_source, lines, payout)


def _best(
    tables: list[tuple[Profile, str | None, list[Row]]], source: str | None
) -> tuple[HeaderMatch, str | None]:
    best: tuple[HeaderMatch, str | None] | None = None
    for profile, encoding, rows in tables:
        for file_line, cells in rows[:HEADER_SEARCH_ROWS]:
            found = match_header(profile, file_line, cells)
            if found is not None and (best is None or found.recognised > best[0].recognised):
                best = (found, encoding)
    if best is not None:
        return best
    tried = ", ".join(dict.fromkeys(p.name for p, _, _ in tables)) or "none"
    kind = f" {source}" if source else ""
    seen = _first_row(tables[0][2]) if tables else ""
    raise StatementFileError(
        f"unknown{kind} statement layout: no format fits (tried: {tried}, and the Jinlin "
        f"four-column CSV); header found: {seen!r}"
    )


def _first_row(rows: list[Row]) -> str:
    for _file_line, cells in rows[:HEADER_SEARCH_ROWS]:
        texts = [c if isinstance(c, str) else c.isoformat() for c in cells]
        if any(t.strip() for t in texts):
            return ",".join(texts)[:200]
    return ""


# The header is looked for in the file's first bytes, decoded once per encoding tried.
_HEAD_BYTES = 64 * 1024


def _head_rows(content: str | bytes, encoding: str | None) -> list[Row] | None:
    """The first records in this encoding; None when the file's start does not decode."""
    if isinstance(content, bytes):
        head = content[:_HEAD_BYTES]
        if len(content) > _HEAD_BYTES and b"\n" in head:
            head = head[: head.rindex(b"\n") + 1]
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            return None
    else:
        text = content[:_HEAD_BYTES]
    rows: list[Row] = []
    try:
        for row in records(text.removeprefix("\ufeff")):
            rows.append(row)
            if len(rows) >= HEADER_SEARCH_ROWS:
                break
    except CsvError:
        pass  # a fault below the header is reported when the data is read
    return rows


def _decode(content: str | bytes, encoding: str | None) -> str:
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise StatementFileError(
            f"the file is not {encoding} text throughout (byte {exc.start})"
        ) from None


def _legacy(content: str | bytes, source: str | None) -> ParsedStatement | None:
    """The Jinlin four-column files: a first line naming date and reference columns."""
    names = _legacy_columns(content)
    if names is None:
        return None
    text = decode_statement(content) if isinstance(content, bytes) else content
    if source is None:
        source = "BANK" if "balance" in names else "PAYMENT_CHANNEL"
    if source == "PAYMENT_CHANNEL":
        name, _, title = LEGACY_FORMATS[0]
        return ParsedStatement(name, title, source, parse_settlement(text))
    lines = parse_bank_statement(text)
    closing_balance(lines)
    name, _, title = LEGACY_FORMATS[1]
    return ParsedStatement(name, title, source, lines)


def _legacy_columns(content: str | bytes) -> set[str] | None:
    """The first line's names when it names date or reference columns, else None."""
    try:
        text = decode_statement(content[:4096]) if isinstance(content, bytes) else content[:4096]
    except StatementFileError:
        return None  # perhaps a profile's own encoding, or a character cut at 4096 bytes
    first = text.removeprefix("\ufeff").split("\n", 1)[0]
    names = {normalize(n.strip('" ')) for n in first.split(",")}
    return names if {"date", "reference"} & names else None
