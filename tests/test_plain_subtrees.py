"""The executor's short way through plain subtrees (schema/executor.py) answers exactly
what graphql-core's own path answers: the same data, in the same key order, and the same
errors at the same paths, whatever the selection (aliases, fragments, @skip, @include,
__typename) and whatever the values (nulls where the schema forbids them, errors raised,
awaitables returned by a synchronous resolver)."""

from __future__ import annotations

import asyncio
import enum
import gc
import inspect
import warnings
from dataclasses import dataclass
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache
from strawberry.types import Info

from schema.executor import NOT_PRELOADED, PlainSubtreeExecutor, preloaded, preloaded_by_node
from schema.relay import argument_values, nodes_at


@strawberry.enum
class Kind(enum.Enum):
    SMALL = "small"
    LARGE = "large"


class Shouting(str):
    """A str of another type: graphql-core's String answers it as it is, too."""


# What each item's `label` (a String) holds: a str, an int graphql-core turns into a
# string, a str subclass, and an object no String can represent (a field error).
LABELS = {"A": "a", "B": 7, "C": Shouting("c"), "D": object()}


@strawberry.type
class Tag:
    name: str
    weight: int | None


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Item(Named):
    code: str
    tags: list[Tag]
    strict: str  # non-null: an item whose strict is None is a field error
    calls: strawberry.Private[list]
    # Set by the lists that preload each item's best tag (see best_tag).
    preloaded_best: strawberry.Private[Any] = NOT_PRELOADED
    # Set by the list that preloads tags_like, by node (see by_node_items).
    preloaded_like: strawberry.Private[dict | None] = None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @strawberry.field
    def seen_by(self, info: Info) -> str:
        return f"{info.context} " + ".".join(map(str, info.path.as_list()))

    @strawberry.field
    def kind(self) -> Kind:
        # A member, or for C the member's value (graphql-core serializes both).
        return Kind.SMALL if self.code in "AB" else "large" if self.code == "C" else Kind.LARGE

    @strawberry.field
    def ref(self) -> strawberry.ID | None:
        return None if self.code == "B" else strawberry.ID(f"ref-{self.code}")

    @strawberry.field
    def label(self) -> str:
        return LABELS[self.code]

    @strawberry.field
    def fails(self) -> str | None:
        if self.code == "B":
            raise ValueError("no shout for B")
        return "ok"

    @strawberry.field
    def first_tag(self, info: Info) -> Tag | None:
        # Synchronous, with info: an awaitable for item C (as a loader's would be).
        self.calls.append(info.path.as_list())
        if self.code == "C":
            return _later(self.tags[0])
        return self.tags[0] if self.tags else None

    @strawberry.field
    @preloaded("preloaded_best")
    def best_tag(self, info: Info) -> Tag | None:
        # What a list preloaded, else a load of its own (an awaitable, as a loader's).
        BEST_TAG_CALLS.append(".".join(map(str, info.path.as_list())))
        if self.preloaded_best is not NOT_PRELOADED:
            return self.preloaded_best
        return _later(self.tags[-1])

    @strawberry.field
    @preloaded_by_node("preloaded_like")
    async def tags_like(self, suffix: str = "") -> list[Tag]:
        # What the list preloaded for this node's arguments, else read here.
        LIKE_CALLS.append((self.code, suffix))
        return _tags_like(self, suffix)


BEST_TAG_CALLS: list[str] = []
LIKE_CALLS: list[tuple[str, str]] = []


def _tags_like(item: Item, suffix: str) -> list[Tag]:
    return [tag for tag in item.tags if tag.name.endswith(suffix)]


async def _later(tag: Tag) -> Tag:
    await asyncio.sleep(0)
    return tag


@dataclass
class Box:
    items: list[Item]


def _items() -> list[Item]:
    def item(code: str, strict: str | None) -> Item:
        tags = [Tag(name=f"{code}1", weight=1), Tag(name=f"{code}2", weight=None)]
        return Item(name=f"item {code}", code=code, tags=tags, strict=strict, calls=[])

    return [item("A", "a"), item("B", "b"), item("C", "c"), item("D", None)]


@strawberry.type
class Query:
    @strawberry.field
    async def items(self) -> list[Item]:
        return _items()

    @strawberry.field
    async def named(self) -> list[Named]:
        return _items()

    @strawberry.field
    async def strict_items(self) -> list[Item]:
        return [i for i in _items() if i.strict is not None]

    @strawberry.field
    async def preloaded_items(self, only: list[str] | None = None) -> list[Item]:
        """Items whose best tag a list preloaded (their first tag, or None for B): all
        of them, or those named in `only`."""
        items = _items()
        for item in items:
            if only is None or item.code in only:
                item.preloaded_best = None if item.code == "B" else item.tags[0]
        return items

    @strawberry.field
    async def by_node_items(self, info: Info) -> list[Item]:
        """Items whose tagsLike a list preloaded for each node of the query, with the
        node's own arguments; all but B, which the resolver answers."""
        raw = info._raw_info
        field = raw.schema.get_type("Item").fields["tagsLike"]
        nodes = nodes_at(raw.field_nodes, raw.fragments, ("tagsLike",))
        items = _items()
        for item in items:
            if item.code != "B":
                item.preloaded_like = {
                    id(node): _tags_like(item, **argument_values(field, node, raw))
                    for node in nodes
                }  # fmt: skip
        return items


QUERIES = [
    ("{ items { code name shout tags { name weight } } }", {}),
    ("{ items { c: code n: name t: tags { w: weight name } __typename } }", {}),
    (
        "query($s: Boolean!) { items { ...F tags @skip(if: $s) { name } } } "
        "fragment F on Item { code ... on Item { shout } }",
        {"s": True},
    ),
    ("query($i: Boolean!) { items { code tags @include(if: $i) { name } } }", {"i": False}),
    ("{ items { code fails } }", {}),
    ("{ items { code strict } }", {}),
    ("{ strictItems { code strict firstTag { name weight } } }", {}),
    ("{ items { code firstTag { name } } }", {}),
    ("{ named { name ... on Item { code tags { name } } } }", {}),
    ("{ strictItems { code kind ref k2: kind } }", {}),
    ("{ items { code label } }", {}),
    ("{ strictItems { ref code label } }", {}),
    ("{ preloadedItems { code bestTag { name } } }", {}),
    ('{ preloadedItems(only: ["A", "C"]) { code bestTag { name } } }', {}),
    ("{ items { code bestTag { name } } }", {}),
    ('{ byNodeItems { code tagsLike(suffix: "1") { name } } }', {}),
    (
        "query($s: String!) { byNodeItems { code a: tagsLike(suffix: $s) { name } "
        "b: tagsLike { name weight } } }",
        {"s": "2"},
    ),
    (
        '{ byNodeItems { code ...F tagsLike(suffix: "2") { name } } } '
        'fragment F on Item { tagsLike(suffix: "2") { weight } }',
        {},
    ),
    ('{ items { code tagsLike(suffix: "1") { name } } }', {}),
]


def _schema(executor=None) -> strawberry.Schema:
    return strawberry.Schema(query=Query, types=[Item], execution_context_class=executor)


def _plain(result) -> tuple:
    errors = [(e.message, e.path) for e in result.errors or []]
    return result.data, sorted(errors, key=repr)


@pytest.mark.parametrize(("query", "variables"), QUERIES)
async def test_answers_as_graphql_core_does(query, variables):
    standard = await _schema().execute(query, variable_values=variables)
    short = await _schema(PlainSubtreeExecutor).execute(query, variable_values=variables)
    assert _plain(short) == _plain(standard)
    assert repr(short.data) == repr(standard.data)  # key order too


async def test_plain_subtrees_take_the_short_way():
    calls = []
    original = PlainSubtreeExecutor._plan

    def counting(self, return_type, details):
        plan = original(self, return_type, details)
        calls.append((str(return_type), plan is not None))
        return plan

    PlainSubtreeExecutor._plan = counting
    try:
        result = await _schema(PlainSubtreeExecutor).execute(
            "{ items { code tags { name } } named { name } }"
        )
    finally:
        PlainSubtreeExecutor._plan = original
    assert not result.errors
    assert ("[Item!]!", True) in calls  # the whole list, in one pass
    assert ("[Named!]!", False) in calls  # an interface: graphql-core's path


async def test_plans_are_kept_across_requests_of_one_document():
    """With the parse cache, requests of one text share its document: a plan without
    directives is made once, also one with a resolver that takes info (it is given
    each request's own info); one with @skip or @include follows each request's
    variables."""
    cached = strawberry.Schema(
        query=Query,
        types=[Item],
        execution_context_class=PlainSubtreeExecutor,
        extensions=[ParserCache],
    )
    calls = []
    original = PlainSubtreeExecutor._plan

    def counting(self, return_type, details):
        calls.append(str(return_type))
        return original(self, return_type, details)

    PlainSubtreeExecutor._plan = counting
    planned: set[str] = set()
    try:
        for query, variables in [
            ("{ items { code tags { name } } }", {}),
            ("{ items { code tags { name } } }", {}),
            (QUERIES[3][0], {"i": False}),
            (QUERIES[3][0], {"i": True}),
            (QUERIES[2][0], {"s": False}),
            (QUERIES[2][0], {"s": True}),
            ("{ items { code firstTag { name } } }", {}),
            ("{ items { code firstTag { name } } }", {}),
        ]:
            made = len(calls)
            short = await cached.execute(query, variable_values=variables)
            standard = await _schema().execute(query, variable_values=variables)
            assert _plain(short) == _plain(standard), query
            assert repr(short.data) == repr(standard.data)
            if "@" in query:
                assert len(calls) > made  # planned again for this request
            elif query in planned:
                assert len(calls) == made  # planned by the first request, kept
            planned.add(query)
    finally:
        PlainSubtreeExecutor._plan = original


async def test_a_kept_plan_gives_each_request_its_own_info():
    """A resolver that takes info, in a plan kept across requests, sees the request
    that runs it: its own context, its own path."""
    cached = strawberry.Schema(
        query=Query, types=[Item], execution_context_class=PlainSubtreeExecutor,
        extensions=[ParserCache],
    )  # fmt: skip
    query = "{ strictItems { code seenBy } }"
    for context in ("first", "second", "third"):
        result = await cached.execute(query, context_value=context)
        assert not result.errors
        seen = [item["seenBy"] for item in result.data["strictItems"]]
        assert seen == [f"{context} strictItems.{i}.seenBy" for i in range(3)]


async def test_a_preloaded_field_is_read_without_its_resolver():
    """A field marked @preloaded answers what the list preloaded without calling its
    resolver; an item whose list did not preload it takes graphql-core's way, which
    calls the resolver (with its info and path) and awaits what it returns."""
    schema = _schema(PlainSubtreeExecutor)
    BEST_TAG_CALLS.clear()
    result = await schema.execute("{ preloadedItems { code bestTag { name } } }")
    assert not result.errors
    assert [i["bestTag"] for i in result.data["preloadedItems"]] == [
        {"name": "A1"}, None, {"name": "C1"}, {"name": "D1"},
    ]  # fmt: skip
    assert BEST_TAG_CALLS == []

    result = await schema.execute('{ preloadedItems(only: ["B"]) { code bestTag { name } } }')
    assert not result.errors
    assert [i["bestTag"] for i in result.data["preloadedItems"]] == [
        {"name": "A2"}, None, {"name": "C2"}, {"name": "D2"},
    ]  # fmt: skip
    assert sorted(BEST_TAG_CALLS) == [f"preloadedItems.{i}.bestTag" for i in (0, 2, 3)]


async def test_a_field_preloaded_by_node_is_read_without_its_resolver():
    """A field with arguments marked @preloaded_by_node answers what the list preloaded
    for its node (each alias its own arguments; a field spread from a fragment too)
    without calling its resolver; an item the list did not preload (B) calls it with
    the field's arguments, as graphql-core does."""
    schema = _schema(PlainSubtreeExecutor)
    LIKE_CALLS.clear()
    result = await schema.execute(QUERIES[-3][0], variable_values=QUERIES[-3][1])
    assert not result.errors
    items = result.data["byNodeItems"]
    assert [(i["code"], i["a"], len(i["b"])) for i in items] == [
        (code, [{"name": f"{code}2"}], 2) for code in "ABCD"
    ]
    assert sorted(LIKE_CALLS) == [("B", ""), ("B", "2")]
    LIKE_CALLS.clear()
    result = await schema.execute(QUERIES[-2][0])
    assert not result.errors
    assert result.data["byNodeItems"][0]["tagsLike"] == [{"weight": None, "name": "A2"}]
    assert LIKE_CALLS == [("B", "2")]


async def test_a_completion_cancelled_before_it_ran_closes_its_resolvers_coroutine():
    """When a field fails, graphql-core cancels its siblings' pending completions; one
    cancelled before its first step never awaits the resolver's coroutine (or a list's
    awaitable item). The executor closes that coroutine (no \"never awaited\" warning); the resolver never ran."""
    ran = []

    async def resolver() -> str:
        ran.append(True)
        return "x"

    executor = object.__new__(PlainSubtreeExecutor)  # an unstarted completion reads nothing
    result, item = resolver(), resolver()
    completion = executor.complete_awaitable_value(None, [], None, None, result, None)
    item_completion = executor.complete_awaitable_list_item_value(item, None, [], None, None, None)
    # What a task cancelled before its first step does to its coroutine.
    for unstarted in (completion, item_completion):
        with pytest.raises(asyncio.CancelledError):
            unstarted.throw(asyncio.CancelledError())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del completion, item_completion, unstarted
        gc.collect()
    assert inspect.getcoroutinestate(result) == inspect.CORO_CLOSED
    assert inspect.getcoroutinestate(item) == inspect.CORO_CLOSED
    assert ran == []
    assert not [w for w in caught if "never awaited" in str(w.message)], caught
