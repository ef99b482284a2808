"""Statement format profiles: how one provider's file maps onto statement lines.

A profile is a small TOML document (docs/statement-formats.md). The built-in ones are in
builtin_profiles.py; users add their own as `*.toml` files in the folder named by
JINLIN_STATEMENT_PROFILES, and theirs are tried first, so a user's profile for a changed
layout wins over the built-in one it replaces.
"""

from __future__ import annotations

import os
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from reconciliation.builtin_profiles import BUILTIN_PROFILES
from reconciliation.date_formats import compile_formats

KINDS = ("bank", "payment-channel")
FIELDS = (
    "date",
    "reference",
    "amount",
    "money_in",
    "money_out",
    "direction",
    "fee",
    "balance",
    "counterparty",
    "memo",
    "category",
)
ROW_KINDS = ("lines", "fees", "payouts", "skip")
DEFAULT_ENCODINGS = ("utf-8-sig", "gbk", "gb18030")
PROFILES_ENV = "JINLIN_STATEMENT_PROFILES"
_KEYS = {
    "name",
    "title",
    "kind",
    "encodings",
    "date_formats",
    "columns",
    "strip_prefix",
    "comment_prefix",
    "thousands_separator",
    "end_markers",
    "summary",
    "direction",
    "rows",
    "newest_first",
}


class ProfileError(ValueError):
    """A profile file that cannot be used, with the reason."""


def normalize(name: str) -> str:
    """Header names compare after NFKC (full-width brackets), trimming and casefolding."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    kind: str
    columns: dict[str, tuple[str, ...]]
    date_formats: tuple[str, ...]
    encodings: tuple[str, ...] = DEFAULT_ENCODINGS
    strip_prefix: str = ""
    comment_prefix: str = ""
    thousands_separator: bool = False
    end_markers: tuple[str, ...] = ()
    summary: dict[str, str] = field(default_factory=dict)
    direction: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rows: dict[str, tuple[str, ...]] = field(default_factory=dict)
    newest_first: bool | None = None  # None: found from the running balance
    source: str = "built in"

    @property
    def statement_source(self) -> str:
        """The import's source (the API's StatementSource)."""
        return "BANK" if self.kind == "bank" else "PAYMENT_CHANNEL"


def parse_profile(text: str, *, name: str, source: str) -> Profile:
    """A profile from TOML text; ProfileError says what is wrong with it."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise ProfileError(f"unknown keys: {', '.join(unknown)}")
    kind = doc.get("kind")
    if kind not in KINDS:
        raise ProfileError(f"kind must be one of {', '.join(KINDS)}")
    columns = _columns(doc.get("columns"))
    _check_fields(kind, columns, doc)
    date_formats = _texts(doc.get("date_formats", ["%Y-%m-%d"]), "date_formats", nonempty=True)
    try:
        compile_formats(date_formats)
    except ValueError as exc:
        raise ProfileError(str(exc)) from None
    return Profile(
        name=_text(doc.get("name", name), "name"),
        title=_text(doc.get("title", name), "title"),
        kind=kind,
        columns=columns,
        date_formats=date_formats,
        encodings=_encodings(doc.get("encodings", list(DEFAULT_ENCODINGS))),
        strip_prefix=_text(doc.get("strip_prefix", ""), "strip_prefix", empty=True),
        comment_prefix=_text(doc.get("comment_prefix", ""), "comment_prefix", empty=True),
        thousands_separator=_flag(doc.get("thousands_separator", False), "thousands_separator"),
        end_markers=_texts(doc.get("end_markers", []), "end_markers"),
        summary=_summary(doc.get("summary", {})),
        direction=_table_of_lists(doc.get("direction", {}), ("in", "out"), "direction"),
        rows=_table_of_lists(doc.get("rows", {}), ROW_KINDS, "rows"),
        newest_first=_optional_flag(doc.get("newest_first"), "newest_first"),
        source=source,
    )


def load_profiles(folder: str | None = None) -> tuple[list[Profile], list[str]]:
    """The user's profiles (first) and the built-in ones; and a note per unusable file."""
    folder = folder if folder is not None else os.environ.get(PROFILES_ENV, "")
    user: list[Profile] = []
    problems: list[str] = []
    if folder:
        path = Path(folder)
        if not path.is_dir():
            problems.append(f"{folder}: {PROFILES_ENV} is not a folder")
        else:
            for file in sorted(path.glob("*.toml")):
                try:
                    text = file.read_text(encoding="utf-8")
                    user.append(parse_profile(text, name=file.stem, source=str(file)))
                except (OSError, UnicodeDecodeError, ProfileError) as exc:
                    problems.append(f"{file.name}: {exc}")
    builtin = [parse_profile(text, name=name, source="built in") for name, text in BUILTIN_PROFILES]
    return user + builtin, problems


# ---------------------------------------------------------------- validation


def _check_fields(kind: str, columns: dict[str, tuple[str, ...]], doc: dict) -> None:
    for required in ("date", "reference"):
        if required not in columns:
            raise ProfileError(f"columns.{required} is required")
    split = "money_in" in columns or "money_out" in columns
    if split and not ("money_in" in columns and "money_out" in columns):
        raise ProfileError("columns.money_in and columns.money_out go together")
    if split == ("amount" in columns):
        raise ProfileError("give either columns.amount or columns.money_in and money_out")
    if ("direction" in columns) != bool(doc.get("direction")):
        raise ProfileError("columns.direction and the [direction] values go together")
    if "direction" in columns and split:
        raise ProfileError("a direction column goes with a single amount column")
    if kind == "bank":
        if "balance" not in columns:
            raise ProfileError("a bank profile needs columns.balance (the running balance)")
        if "category" in columns or "fee" in columns:
            raise ProfileError("category and fee columns are for payment-channel profiles")
    if ("category" in columns) != bool(doc.get("rows")):
        raise ProfileError("columns.category and the [rows] kinds go together")


def _columns(value) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not value:
        raise ProfileError("[columns] maps fields to the column names in the file")
    unknown = sorted(set(value) - set(FIELDS))
    if unknown:
        raise ProfileError(f"unknown fields in [columns]: {', '.join(unknown)}")
    return {
        key: _texts([names] if isinstance(names, str) else names, f"columns.{key}", nonempty=True)
        for key, names in value.items()
    }


def _summary(value) -> dict[str, str]:
    if not isinstance(value, dict) or set(value) - {"count", "amount", "fee"}:
        raise ProfileError("[summary] takes count, amount and fee column names")
    return {key: _text(names, f"summary.{key}") for key, names in value.items()}


def _table_of_lists(value, keys: tuple[str, ...], what: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or set(value) - set(keys):
        raise ProfileError(f"[{what}] takes {', '.join(keys)}")
    return {key: _texts(items, f"{what}.{key}") for key, items in value.items()}


def _encodings(value) -> tuple[str, ...]:
    names = _texts(value, "encodings", nonempty=True)
    for name in names:
        try:
            "".encode(name)
        except LookupError:
            raise ProfileError(f"unknown encoding {name!r}") from None
    return names


def _texts(value, what: str, *, nonempty: bool = False) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ProfileError(f"{what} must be a list of non-empty strings")
    if nonempty and not value:
        raise ProfileError(f"{what} must not be empty")
    return tuple(value)


def _text(value, what: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or not (value or empty):
        raise ProfileError(f"{what} must be a string")
    return value


def _optional_flag(value, what: str) -> bool | None:
    return None if value is None else _flag(value, what)


def _flag(value, what: str) -> bool:
    if not isinstance(value, bool):
        raise ProfileError(f"{what} must be true or false")
    return value
