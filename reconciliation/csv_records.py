"""A strict CSV reader for statement files: records with the file line they start on.

The csv module accepts a quote inside an unquoted field (`ab"c` reads as `ab"c`), which
in a statement means a cut or hand-edited file; here it refuses the file instead, naming
the line. Quoted fields follow RFC 4180 (`"a, b"`, a doubled quote for a quote), spaces around a
quoted field are dropped, and a quoted field may span lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator


class CsvError(ValueError):
    """Malformed CSV at a file line (1-based, counting every physical line)."""

    def __init__(self, message: str, file_line: int):
        super().__init__(message)
        self.message = message
        self.file_line = file_line


# One field and what follows it: a delimiter, a line end, or the end of the text.
_QUOTED = re.compile(r'[ \t]*"((?:[^"]|"")*)"[ \t]*(,|\r\n|\n|\r|\Z)')
_UNQUOTED = re.compile(r'([^,"\r\n]*)(,|\r\n|\n|\r|\Z|")')


def records(text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """Yield (file line, fields) for every record; blank lines are empty records."""
    if delimiter != ",":
        raise ValueError("only comma-separated files are supported")
    pos, line, end = 0, 1, len(text)
    while pos < end:
        start_line = line
        # Fast path: a line without quotes or a lone CR is a plain split.
        nl = text.find("\n", pos)
        stop = end if nl < 0 else nl
        segment = text[pos:stop].removesuffix("\r")
        if '"' not in segment and "\r" not in segment:
            yield line, segment.split(",")
            pos, line = stop + 1, line + 1
            continue
        fields: list[str] = []
        while True:
            quoted = _QUOTED.match(text, pos) if _starts_quoted(text, pos) else None
            if quoted is not None:
                value = quoted.group(1)
                line += value.count("\n") + value.count("\r") - value.count("\r\n")
                fields.append(value.replace('""', '"'))
                sep, pos = quoted.group(2), quoted.end()
            else:
                plain = _UNQUOTED.match(text, pos)
                sep = plain.group(2)
                if sep == '"' or _starts_quoted(text, pos):
                    raise CsvError(_quote_problem(text, pos), line)
                fields.append(plain.group(1))
                pos = plain.end()
            if sep != ",":
                break
        if sep:
            line += 1
        yield start_line, fields


def _starts_quoted(text: str, pos: int) -> bool:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos < len(text) and text[pos] == '"'


def _quote_problem(text: str, pos: int) -> str:
    if _starts_quoted(text, pos):
        return "malformed CSV: a quoted field is not closed, or text follows its closing quote"
    return 'malformed CSV: a stray quote (") inside an unquoted field'
