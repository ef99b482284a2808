"""The rows of an XLSX statement's first sheet as statement cells.

Numbers become their shortest decimal text (`repr`), never floats used as money: an
amount Excel stored as 1234.5 reads as "1234.5" and is then parsed exactly, and one
that is not a two-decimal amount (1234.5000001) is refused by the amount rules.
Date cells stay dates. A file openpyxl cannot read is INVALID_STATEMENT.
"""

from __future__ import annotations

import datetime
import io
import itertools
from collections.abc import Iterator

from reconciliation.statement_files import StatementFileError

XLSX_MAGIC = b"PK\x03\x04"


def is_xlsx(data: bytes) -> bool:
    return data.startswith(XLSX_MAGIC)


def xlsx_rows(data: bytes, limit: int | None = None) -> list[tuple[int, list[str | datetime.date]]]:
    """(row number, cells) for the rows of the first worksheet (the first `limit`)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    # A damaged workbook fails inside zipfile, zlib or the XML parser in many ways
    # (BadZipFile, zlib.error, ParseError, EOFError ...): each is the same refusal.
    except Exception as exc:
        raise StatementFileError(f"the file is not a readable XLSX workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        return list(itertools.islice(_rows(sheet.iter_rows(values_only=True)), limit))
    except Exception as exc:
        raise StatementFileError(f"the XLSX workbook is damaged ({exc})") from None
    finally:
        book.close()


def _rows(rows) -> Iterator[tuple[int, list[str | datetime.date]]]:
    for number, values in enumerate(rows, start=1):
        yield number, [_cell(v) for v in values]


def _cell(value) -> str | datetime.date:
    if value is None:
        return ""
    if isinstance(value, datetime.date):  # datetime is a date too
        return value
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same double: Excel's 12.3 is "12.3".
        return repr(value) if value != int(value) else str(int(value))
    return str(value)
