"""schema.relay.selects: the look-ahead list resolvers use to preload in one batch."""

from __future__ import annotations

import strawberry

from schema.relay import selects

seen: list[bool] = []


@strawberry.type
class Leaf:
    name: str = "leaf"


@strawberry.type
class Item:
    id: int = 1
    leaf: Leaf = strawberry.field(default_factory=Leaf)


@strawberry.type
class Page:
    items: list[Item] = strawberry.field(default_factory=lambda: [Item()])


@strawberry.type
class Query:
    @strawberry.field
    def page(self, info: strawberry.Info) -> Page:
        seen.append(selects(info, "items", "leaf"))
        return Page()


schema = strawberry.Schema(query=Query)


def _asks_for_leaf(query: str) -> bool:
    seen.clear()
    result = schema.execute_sync(query)
    assert result.errors is None, result.errors
    return seen == [True]


def test_selects_follows_fields_aliases_and_fragments():
    assert _asks_for_leaf("{ page { items { leaf { name } } } }")
    assert _asks_for_leaf("{ page { items { l: leaf { name } } } }")  # alias: same field
    assert _asks_for_leaf("{ page { items { ...F } } } fragment F on Item { leaf { name } }")
    assert _asks_for_leaf("{ page { ... on Page { items { ... on Item { leaf { name } } } } } }")
    assert not _asks_for_leaf("{ page { items { id } } }")
    assert not _asks_for_leaf("{ page { items { ...F } } } fragment F on Item { id }")
