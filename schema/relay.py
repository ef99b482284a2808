"""Relay basics: the Node interface, PageInfo and generic cursor connections."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from graphql import FieldNode, FragmentSpreadNode, GraphQLField
from graphql.execution.values import VariableValues, get_argument_values

from resolvers.pagination import Page, PageArgs

T = TypeVar("T")

# The four Relay paging arguments, described once for every connection field.
First = Annotated[
    int | None,
    strawberry.argument(description="Forward paging: at most this many items, after `after`."),
]
After = Annotated[
    str | None,
    strawberry.argument(description="Forward paging: start after this cursor (an endCursor)."),
]
Last = Annotated[
    int | None,
    strawberry.argument(description="Backward paging: at most this many items, before `before`."),
]
Before = Annotated[
    str | None,
    strawberry.argument(description="Backward paging: end before this cursor (a startCursor)."),
]


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global ID.")


def _start_cursor(self) -> str | None:
    return self.cursors[0] if self.cursors else None


def _end_cursor(self) -> str | None:
    return self.cursors[-1] if self.cursors else None


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(description="Items precede this page.")
    start_cursor: str | None = strawberry.field(
        resolver=_start_cursor, description="Cursor of the first item."
    )
    end_cursor: str | None = strawberry.field(
        resolver=_end_cursor, description="Cursor of the last item."
    )
    # The page's cursors: encoded only when asked (a list page rarely shows pageInfo).
    cursors: strawberry.Private[Sequence[str]] = ()


def _edge_cursor(self) -> str:
    return self.cursors[self.index]


@strawberry.type(description="An item and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        resolver=_edge_cursor, description="Pass as after/before to page from here."
    )
    node: T = strawberry.field(description="The item.")
    # The page's cursors and this item's place among them: encoded only when asked.
    cursors: strawberry.Private[Sequence[str]]
    index: strawberry.Private[int]


@strawberry.type(description="A page of a list.")
class Connection(Generic[T]):
    page_info: PageInfo = strawberry.field(description="Paging state.")
    edges: list[Edge[T]] = strawberry.field(description="The items of this page.")


def to_connection(page: Page, convert: Callable[[Any], T]) -> Connection[T]:
    cursors = page.cursors
    edges = [Edge(cursors=cursors, index=i, node=convert(r)) for i, r in enumerate(page.rows)]
    return Connection(
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            cursors=page.cursors,
        ),
        edges=edges,
    )


async def child_connection(
    loader: Any, parent: Any, convert: Callable[[Any], T], args: PageArgs, *extra: Any
) -> Connection[T]:
    """One page of a parent's children, through a paging DataLoader keyed
    (parent, PageArgs, *extra): what every nested connection field does."""
    return to_connection(await loader.load((parent, args, *extra)), convert)


def selects(info: Any, *path: str) -> bool:
    """Whether the query asks, below the field being resolved, for the field at `path`
    (GraphQL names, through fragments too). Lets a list resolver preload, in one batch,
    what its items would otherwise each fetch in a resolver of their own. Walks the
    syntax tree itself: info.selected_fields converts the whole selection, on every
    call, into Strawberry's own nodes."""
    raw = info._raw_info
    return bool(nodes_at(raw.field_nodes, raw.fragments, path))


def nodes_at(field_nodes: Sequence[Any], fragments: Any, path: Sequence[str]) -> list[FieldNode]:
    """The field nodes at `path` below `field_nodes` (GraphQL names, not aliases),
    through fragments too, in document order. Directives are not applied: a node that
    @skip leaves out is still found."""
    found: list[FieldNode] = []

    def walk(selection_set: Any, rest: Sequence[str]) -> None:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.name.value != rest[0]:
                    continue
                if len(rest) == 1:
                    found.append(selection)
                else:
                    walk(selection.selection_set, rest[1:])
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    walk(getattr(fragment, "definition", fragment).selection_set, rest)
            else:  # an inline fragment: same level
                walk(selection.selection_set, rest)

    for node in field_nodes:
        walk(node.selection_set, path)
    return found


def argument_values(field: GraphQLField, node: FieldNode, raw_info: Any) -> dict[str, Any]:
    """The field node's arguments as graphql-core coerces them for its resolver, with
    the request's variables (raises GraphQLError for values it refuses). For a list
    resolver that preloads what a field below it will ask for."""
    variables = VariableValues(sources={}, coerced=raw_info.variable_values)
    return get_argument_values(field, node, variables)
