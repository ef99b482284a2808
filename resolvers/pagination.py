"""Cursor pagination by keyset, for one parent or many at once.

Cursors are opaque (base64 of the sort key). Many parents are paged in one
statement, a LATERAL subquery per parent that stops after the page, which is what
lets a nested connection cost one query however many parents there are, and a page
cost the same however many children its parent has.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import BigInteger, Select, and_, bindparam, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased

from resolvers.errors import invalid
from resolvers.validation import within_calendar

MAX_PAGE = 100
DEFAULT_PAGE = 50


@dataclass(frozen=True)
class PageArgs:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @classmethod
    def of(cls, first=None, after=None, last=None, before=None) -> PageArgs:
        for name, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= MAX_PAGE:
                raise invalid(f"{name} must be between 0 and {MAX_PAGE}", name)
        if first is not None and last is not None:
            raise invalid("give first or last, not both", "last")
        return cls(first, after, last, before)

    @property
    def backwards(self) -> bool:
        return self.last is not None and self.first is None

    @property
    def size(self) -> int:
        size = self.last if self.backwards else self.first
        return DEFAULT_PAGE if size is None else size


@dataclass(frozen=True)
class OrderKey:
    """An ORM attribute and its direction; the last key must be unique (the id)."""

    column: Any
    descending: bool = False


@dataclass
class Page:
    rows: list[Any]
    cursors: Sequence[str]
    has_next: bool
    has_previous: bool


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(orjson.dumps(plain)).decode().rstrip("=")


class Cursors(Sequence[str]):
    """A page's cursors, each encoded when read: most queries of a list ask for no
    cursor, or only for its first and last (pageInfo)."""

    __slots__ = ("_keys", "_rows")

    def __init__(self, rows: list[Any], keys) -> None:
        self._rows, self._keys = rows, keys

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [encode_cursor(self._keys(row)) for row in self._rows[index]]
        return encode_cursor(self._keys(self._rows[index]))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)


def decode_cursor(cursor: str, order: Sequence[OrderKey], field: str) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise invalid("not a cursor of this list", field) from exc
    if not isinstance(values, list) or len(values) != len(order):
        raise invalid("not a cursor of this list", field)
    out = []
    for value, key in zip(values, order, strict=True):
        # A cursor is client input: each value must have its column's type exactly.
        python_type = key.column.type.python_type
        try:
            if python_type is datetime:
                value = datetime.fromisoformat(value) if isinstance(value, str) else None
                if value is None or value.tzinfo is None or not within_calendar(value.date()):
                    raise TypeError
            elif python_type is int:
                # The column's own range: a larger value would not fit the parameter.
                bound = 2**63 if isinstance(key.column.type, BigInteger) else 2**31
                if not isinstance(value, int) or isinstance(value, bool) or abs(value) >= bound:
                    raise TypeError
            elif not isinstance(value, python_type):
                raise TypeError
        except (TypeError, ValueError) as exc:
            raise invalid("not a cursor of this list", field) from exc
        out.append(value)
    return out


def _after(order: Sequence[OrderKey], values: Sequence[Any], reverse: bool):
    """Rows strictly after `values` in `order` (or before, when reverse)."""
    clauses = []
    for i, key in enumerate(order):
        descending = key.descending != reverse
        cmp = key.column < values[i] if descending else key.column > values[i]
        equal = [order[j].column == values[j] for j in range(i)]
        clauses.append(and_(*equal, cmp) if equal else cmp)
    return or_(*clauses)


def _ordering(order: Sequence[OrderKey], reverse: bool):
    return [k.column.desc() if (k.descending != reverse) else k.column.asc() for k in order]


def _filtered(stmt: Select, order: Sequence[OrderKey], args: PageArgs) -> Select:
    if args.after:
        stmt = stmt.where(_after(order, decode_cursor(args.after, order, "after"), False))
    if args.before:
        stmt = stmt.where(_after(order, decode_cursor(args.before, order, "before"), True))
    return stmt


def _page(rows: list[Any], order: Sequence[OrderKey], args: PageArgs, keys) -> Page:
    size = args.size
    more = len(rows) > size
    rows = rows[:size]
    if args.backwards:
        rows.reverse()
    cursors = Cursors(rows, keys)
    if args.backwards:
        return Page(rows, cursors, has_next=bool(args.before), has_previous=more)
    return Page(rows, cursors, has_next=more, has_previous=bool(args.after))


def _key_getter(order: Sequence[OrderKey]):
    names = [k.column.key for k in order]
    return lambda row: [getattr(row, n) for n in names]


async def paginate(
    session: AsyncSession, stmt: Select, order: Sequence[OrderKey], args: PageArgs
) -> Page:
    """One page of `stmt` (a select of one ORM entity) in `order`."""
    if args.size == 0:
        return Page([], [], False, False)
    stmt = _filtered(stmt, order, args)
    stmt = stmt.order_by(*_ordering(order, args.backwards)).limit(args.size + 1)
    rows = list((await session.scalars(stmt)).all())
    return _page(rows, order, args, _key_getter(order))


async def paginate_rows(
    conn: AsyncConnection, stmt: Select, order: Sequence[OrderKey], args: PageArgs
) -> Page:
    """paginate on a Core connection: read-only rows (the columns by name) rather
    than ORM objects, for lists that are only shown."""
    if args.size == 0:
        return Page([], [], False, False)
    stmt = _filtered(stmt, order, args)
    stmt = stmt.order_by(*_ordering(order, args.backwards)).limit(args.size + 1)
    rows = list((await conn.execute(stmt)).all())
    return _page(rows, order, args, _key_getter(order))


async def paginate_many(
    session: AsyncSession,
    model: Any,
    parent_column: Any,
    parent_ids: Sequence[Any],
    order: Sequence[OrderKey],
    args: PageArgs,
    *,
    where: Sequence[Any] = (),
    plain: bool = False,
) -> dict[Any, Page]:
    """One page per parent, all in one statement. `plain`: the rows are read-only
    Core rows (the table's columns by name) rather than ORM objects, which cost
    several times more CPU to build; for lists that are only shown."""
    if args.size == 0:
        return {pid: Page([], [], False, False) for pid in parent_ids}
    # Per parent, a LATERAL subquery that walks the parent's index from the page's end
    # and stops after the page: a page of a fund with a hundred thousand entries costs
    # what one of ten does (ROW_NUMBER() over all the parents' rows read every one).
    table = model.__table__
    ids = bindparam("parents", list(dict.fromkeys(parent_ids)), type_=ARRAY(parent_column.type))
    parents = func.unnest(ids).table_valued("id", with_ordinality="n").render_derived("parent")
    inner = select(*table.c) if plain else select(model)
    inner = inner.where(parent_column == parents.c.id, *where)
    inner = _filtered(inner, order, args).order_by(*_ordering(order, args.backwards))
    inner = inner.limit(args.size + 1).lateral("page")
    page_order = [parents.c.n, *_ordering(_on(inner, order), args.backwards)]
    if plain:
        stmt = select(*(inner.c[c.name] for c in table.c))
    else:
        stmt = select(aliased(model, inner))
    stmt = stmt.select_from(parents).join(inner, true()).order_by(*page_order)
    result = await (session.execute(stmt) if plain else session.scalars(stmt))
    return pages_by_parent(result.all(), parent_ids, parent_column.key, order, args)


def _on(subquery: Any, order: Sequence[OrderKey]) -> list[OrderKey]:
    """The order's keys as the subquery's columns of the same names."""
    return [OrderKey(subquery.c[k.column.expression.name], k.descending) for k in order]


def pages_by_parent(
    rows: Sequence[Any],
    parent_ids: Sequence[Any],
    parent_key: str,
    order: Sequence[OrderKey],
    args: PageArgs,
) -> dict[Any, Page]:
    """Each parent's page from rows read as paginate_many reads them: every parent's
    rows in page order, at most one more than the page holds."""
    grouped: dict[Any, list[Any]] = {pid: [] for pid in parent_ids}
    for row in rows:
        grouped[getattr(row, parent_key)].append(row)
    keys = _key_getter(order)
    return {pid: _page(rows, order, args, keys) for pid, rows in grouped.items()}
