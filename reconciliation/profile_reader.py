"""Reading a statement table (CSV records or XLSX rows) through a profile.

Pure: rows in, statement lines out. Every problem is a StatementFileError naming the
data line and the file line, so that the file is refused whole and the row is found.
"""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reconciliation.csv_records import CsvError
from reconciliation.date_formats import parse_date
from reconciliation.profiles import Profile, normalize
from reconciliation.statement_files import (
    MAX_STATEMENT_LINES,
    BankLine,
    SettlementLine,
    StatementFileError,
    _amount,
    _reference,
)

Cell = str | datetime.date
Row = tuple[int, list[Cell]]  # (file line, cells)

# Fields that must be found in the header when the profile lists them; the rest
# (counterparty, memo) are read when present.
_OPTIONAL = frozenset({"counterparty", "memo"})
_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


@dataclass(frozen=True)
class HeaderMatch:
    """Where each field's columns are, in the profile's order of preference."""

    profile: Profile
    file_line: int
    index: dict[str, tuple[int, ...]]
    recognised: int  # header cells the profile knows: the most specific profile wins


@dataclass(frozen=True)
class _Raw:
    line_no: int
    file_line: int
    category: str
    date: datetime.date
    reference: str
    amount: int  # signed fen: positive is money in
    fee: int
    balance: int | None


def match_header(profile: Profile, file_line: int, cells: list[Cell]) -> HeaderMatch | None:
    """The profile's columns in this row, or None when a required one is missing."""
    names = [normalize(clean(profile, c)) if isinstance(c, str) else "" for c in cells]
    position: dict[str, int] = {}
    for i, name in enumerate(names):
        position.setdefault(name, i)
    index: dict[str, tuple[int, ...]] = {}
    for key, candidates in profile.columns.items():
        found = tuple(position[n] for n in map(normalize, candidates) if n in position)
        if not found and key not in _OPTIONAL:
            return None
        if found:
            index[key] = found
    recognised = len({i for found in index.values() for i in found})
    return HeaderMatch(profile, file_line, index, recognised)


def clean(profile: Profile, value: str) -> str:
    value = value.strip()
    if profile.strip_prefix and value.startswith(profile.strip_prefix):
        value = value[len(profile.strip_prefix) :].strip()
    return value


def _first(profile: Profile, cells: list[Cell]) -> Cell:
    """The row's first non-empty cell: blank rows, comments and end markers are told by it."""
    for cell in cells:
        value = clean(profile, cell) if isinstance(cell, str) else cell
        if value != "":
            return value
    return ""


def data_rows(
    header: HeaderMatch, rows: Iterable[Row], summary: dict[str, str]
) -> Iterator[tuple[int, int, list[Cell]]]:
    """(line number, file line, cells) of the data rows after the header, up to the end;
    the totals of a summary block go into `summary`."""
    profile = header.profile
    line_no = 0
    blank_at: int | None = None
    rows = iter(rows)
    while True:
        try:
            file_line, cells = next(rows)
        except StopIteration:
            break
        except CsvError as exc:
            raise StatementFileError(
                exc.message, line_no=line_no + 1, file_line=exc.file_line
            ) from None
        first = _first(profile, cells)
        if isinstance(first, str) and profile.comment_prefix:
            if first.startswith(profile.comment_prefix):
                continue
        if first == "":
            blank_at = blank_at or file_line
            continue
        if isinstance(first, str) and first.startswith(profile.end_markers or ("\0",)):
            summary.update(_summary(profile, cells, rows))
            break
        if blank_at is not None:
            raise StatementFileError(
                "blank line in the middle of the statement", file_line=blank_at
            )
        line_no += 1
        if line_no > MAX_STATEMENT_LINES:
            raise StatementFileError(f"more than {MAX_STATEMENT_LINES} data lines")
        yield line_no, file_line, cells
    if line_no == 0:
        raise StatementFileError("the statement has a header but no data lines")


def read_lines(
    header: HeaderMatch, rows: Iterable[Row]
) -> tuple[list[SettlementLine] | list[BankLine], datetime.date | None]:
    """The statement's lines and, for a channel file, the date of its payout row."""
    totals: dict[str, str] = {}
    raws = [_raw(header, n, fl, cells) for n, fl, cells in data_rows(header, rows, totals)]
    if "balance" in header.index:
        raws = _in_balance_order(header.profile, raws)
    if header.profile.kind == "bank":
        lines = [BankLine(r.line_no, r.date, r.reference, r.amount, r.balance) for r in raws]
        return lines, None
    lines, payout = _settlement(raws)
    if header.profile.summary:
        _check_totals(header.profile, totals, len(raws), lines)
    return lines, payout


# ---------------------------------------------------------------- one row


def _raw(header: HeaderMatch, line_no: int, file_line: int, cells: list[Cell]) -> _Raw:
    profile = header.profile

    def get(key: str) -> Cell:
        for i in header.index.get(key, ()):
            if i < len(cells):
                value = clean(profile, cells[i]) if isinstance(cells[i], str) else cells[i]
                if value != "":
                    return value
        return ""

    try:
        category = _category(profile, get("category"))
        amount = _signed_amount(profile, get)
        if amount == 0:
            raise StatementFileError("the amount is zero")
        fee = _money(profile, get("fee"), "fee", signed=True) if "fee" in header.index else 0
        balance = None
        if "balance" in header.index:
            balance = _money(profile, get("balance"), "balance", signed=True, required=True)
        reference = _reference(_text(get("reference")), None)
        return _Raw(
            line_no,
            file_line,
            category,
            _date(profile, get("date")),
            reference,
            amount,
            fee,
            balance,
        )
    except StatementFileError as exc:
        raise StatementFileError(exc.message, line_no=line_no, file_line=file_line) from None


def _signed_amount(profile: Profile, get) -> int:
    if "money_in" in profile.columns:
        # Some exports sign these columns (Alipay's +50.00 and -0.30); a sign against
        # the column's direction is refused.
        money_in = _money(profile, get("money_in"), "money in", signed=True)
        money_out = _money(profile, get("money_out"), "money out", signed=True)
        if money_in < 0 or _text(get("money_out")).startswith("+"):
            raise StatementFileError("money in is negative, or money out positive-signed")
        money_out = abs(money_out)
        if money_in and money_out:
            raise StatementFileError("both money in and money out are given")
        return money_in - money_out
    if "direction" in profile.columns:
        amount = _money(profile, get("amount"), "amount", signed=False, required=True)
        flag = _text(get("direction"))
        if flag in profile.direction.get("in", ()):
            return amount
        if flag in profile.direction.get("out", ()):
            return -amount
        known = "/".join(profile.direction.get("in", ()) + profile.direction.get("out", ()))
        raise StatementFileError(f"direction {flag[:20]!r} is not one of {known}")
    return _money(profile, get("amount"), "amount", signed=True, required=True)


def _money(profile: Profile, cell: Cell, what: str, *, signed: bool, required=False) -> int:
    value = _text(cell)
    if value == "":
        if required:
            raise StatementFileError(f"{what} is empty")
        return 0
    if profile.thousands_separator and _THOUSANDS.fullmatch(value):
        value = value.replace(",", "")
    return _amount(value, what, None, signed=signed)


def _date(profile: Profile, cell: Cell) -> datetime.date:
    if isinstance(cell, datetime.datetime):
        return cell.date()
    if isinstance(cell, datetime.date):
        return cell
    try:
        day = parse_date(cell, profile.date_formats)
    except ValueError:
        raise StatementFileError(f"date {cell[:40]!r} does not exist") from None
    if day is None:
        formats = ", ".join(profile.date_formats)
        raise StatementFileError(f"date {cell[:40]!r} is not in the profile's formats ({formats})")
    return day


def _category(profile: Profile, cell: Cell) -> str:
    if not profile.rows:
        return "lines"
    value = _text(cell)
    for kind, values in profile.rows.items():
        if value in values:
            return kind
    known = "; ".join(f"{k}: {', '.join(v)}" for k, v in profile.rows.items())
    raise StatementFileError(
        f"row kind {value[:40]!r} is not one the profile {profile.name} handles ({known})"
    )


def _text(cell: Cell) -> str:
    return cell if isinstance(cell, str) else cell.isoformat()


# ---------------------------------------------------------------- the whole file


def _in_balance_order(profile: Profile, raws: list[_Raw]) -> list[_Raw]:
    """Check the running balance line by line; a newest-first file is turned around."""
    forward = _balance_break(raws)
    if forward is None and profile.newest_first is not True:
        return raws
    backward = _balance_break(raws[::-1])
    if backward is None and profile.newest_first is not False:
        return raws[::-1]
    at, expected = forward if forward is not None else backward
    raise StatementFileError(
        f"the running balance breaks: the balance before this line plus its amount is "
        f"{_yuan(expected)}, the line says {_yuan(at.balance)}",
        line_no=at.line_no,
        file_line=at.file_line,
    )


def _balance_break(raws: list[_Raw]) -> tuple[_Raw, int] | None:
    for before, line in itertools.pairwise(raws):
        if before.balance + line.amount != line.balance:
            return line, before.balance + line.amount
    return None


def _settlement(raws: list[_Raw]) -> tuple[list[SettlementLine], datetime.date | None]:
    fees: dict[str, int] = {}
    payout: datetime.date | None = None
    for r in raws:
        if r.category == "fees":
            fees[r.reference] = fees.get(r.reference, 0) - r.amount
        elif r.category == "payouts":
            payout = max(payout or r.date, r.date)
    lines: list[SettlementLine] = []
    for r in raws:
        if r.category != "lines":
            continue
        if r.amount < 0:
            raise StatementFileError(
                "a settlement line must be money in", line_no=r.line_no, file_line=r.file_line
            )
        fee = abs(r.fee) + fees.pop(r.reference, 0)
        if fee < 0 or fee > r.amount:
            raise StatementFileError(
                f"fee {_yuan(fee)} is not between zero and the amount {_yuan(r.amount)}",
                line_no=r.line_no,
                file_line=r.file_line,
            )
        lines.append(SettlementLine(r.line_no, r.date, r.reference, r.amount, fee))
    if fees:
        ref = next(iter(fees))
        raise StatementFileError(f"a fee row for {ref[:40]!r} has no line with that reference")
    if not lines:
        raise StatementFileError("the statement has no settlement lines")
    return lines, payout


def _summary(profile: Profile, names: list[Cell], rows: Iterator[Row]) -> dict[str, str]:
    """The summary block after the data: a line of its column names, one line of totals."""
    wanted = {normalize(v): k for k, v in profile.summary.items()}
    where = {
        wanted[normalize(n)]: i
        for i, n in enumerate(names)
        if isinstance(n, str) and normalize(n) in wanted
    }
    for _file_line, cells in rows:
        texts = [_text(clean(profile, c) if isinstance(c, str) else c) for c in cells]
        if any(texts):
            return {k: texts[i] for k, i in where.items() if i < len(texts)}
    return {}


def _check_totals(
    profile: Profile, totals: dict[str, str], rows: int, lines: list[SettlementLine]
) -> None:
    """A cut or edited file disagrees with the totals the channel wrote at its end."""
    if set(totals) != set(profile.summary):
        raise StatementFileError("the summary at the end of the file is missing: is it cut?")
    try:
        count = int(totals["count"]) if "count" in totals else rows
        amount = _money(profile, totals.get("amount", ""), "summary amount", signed=True)
        fee = _money(profile, totals.get("fee", ""), "summary fee", signed=True)
    except ValueError:
        raise StatementFileError(
            f"summary: count {totals['count'][:20]!r} is not a number"
        ) from None
    found = (rows, sum(line.amount_fen for line in lines), sum(line.fee_fen for line in lines))
    written = (
        count,
        amount if "amount" in totals else found[1],
        fee if "fee" in totals else found[2],
    )
    if found != written:
        raise StatementFileError(
            f"summary: the file's totals ({written[0]} rows, {_yuan(written[1])}, fees "
            f"{_yuan(written[2])}) disagree with its lines ({found[0]} rows, "
            f"{_yuan(found[1])}, fees {_yuan(found[2])})"
        )


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"
