"""A walk over the whole schema as one viewer, generated from introspection.

From the viewer's starting points (the root fields, given the codes and IDs a client
could hold), every object field and connection (first: 3) is followed, one request per
object: an object with an `id` is expanded through `node(id)`, an object without one
through the path that reached it. Every object met is recorded with its leaf values and
the field that led to it, so that a test can hold each one against `node(id)`.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

INTROSPECTION = """{ __schema { queryType { name } types { name kind possibleTypes { name }
  fields { name args { name type { ...T } } type { ...T } } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"""

LEAF_KINDS = ("SCALAR", "ENUM")
# Values for required arguments, by type and name; other required arguments (IDs,
# strings) come from the starting points' pools or the field is left out.
DATE_TIME = '"2026-01-01T00:00:00+08:00"'
DATES = {"from": '"2023-01-01"', "to": '"2026-06-30"'}
FIRST = 3
# How many fields deep a path may go below an object that node() did not answer.
MAX_STEPS = 4


@dataclass(frozen=True)
class Field:
    name: str
    type_name: str
    kind: str
    is_list: bool
    args: tuple[tuple[str, str, bool], ...]  # (name, named type, required)


def _unwrap(ref: dict) -> tuple[str, str, bool, bool]:
    """(named type, its kind, is a list, is required) of a type reference."""
    is_list = required = False
    first = True
    while ref["kind"] in ("NON_NULL", "LIST"):
        if ref["kind"] == "NON_NULL" and first:
            required = True
        is_list = is_list or ref["kind"] == "LIST"
        ref = ref["ofType"]
        first = False
    return ref["name"], ref["kind"], is_list, required


class SchemaMap:
    """The schema's object types as introspection describes them."""

    def __init__(self, introspection: dict):
        schema = introspection["__schema"]
        self.query = schema["queryType"]["name"]
        self.kinds: dict[str, str] = {}
        self.fields: dict[str, dict[str, Field]] = {}
        self.possible: dict[str, list[str]] = {}
        for t in schema["types"]:
            if t["name"].startswith("__"):
                continue
            self.kinds[t["name"]] = t["kind"]
            self.possible[t["name"]] = [p["name"] for p in t["possibleTypes"] or []]
            self.fields[t["name"]] = {f["name"]: self._field(f) for f in t["fields"] or []}

    @staticmethod
    def _field(f: dict) -> Field:
        name, kind, is_list, _ = _unwrap(f["type"])
        args = tuple((a["name"], *_unwrap(a["type"])[:1], _unwrap(a["type"])[3]) for a in f["args"])
        return Field(f["name"], name, kind, is_list, args)

    def is_value(self, name: str, seen: frozenset = frozenset()) -> bool:
        """An object without an id whose fields are all leaves or such objects (Money,
        FundBalances): selected whole wherever it appears."""
        if self.kinds.get(name) != "OBJECT" or name in seen or "id" in self.fields[name]:
            return False
        return all(
            f.kind in LEAF_KINDS or self.is_value(f.type_name, seen | {name})
            for f in self.fields[name].values()
        )

    def reachable(self) -> set[str]:
        """Every type some path of fields from the query root leads to (node(id) aside)."""
        seen, todo = set(), [self.query]
        while todo:
            name = todo.pop()
            if name in seen or self.kinds.get(name) not in ("OBJECT", "INTERFACE"):
                continue
            seen.add(name)
            todo += [f.type_name for f in self.fields[name].values()]
        return seen

    def connection_node(self, name: str) -> str | None:
        edges = self.fields.get(name, {}).get("edges")
        if edges is None or "node" not in self.fields.get(edges.type_name, {}):
            return None
        return self.fields[edges.type_name]["node"].type_name

    def arguments(self, f: Field, pool: dict[str, str] | None = None) -> str | None:
        """The argument list to call `f` with, or None when a required one cannot be filled."""
        given = []
        for name, type_name, required in f.args:
            if pool and name in pool:
                given.append(f"{name}: {pool[name]}")
            elif name == "first":
                given.append(f"first: {FIRST}")
            elif required and type_name == "DateTime":
                given.append(f"{name}: {DATE_TIME}")
            elif required and type_name == "Date" and name in DATES:
                given.append(f"{name}: {DATES[name]}")
            elif required:
                return None
        return f"({', '.join(given)})" if given else ""

    def leaves(self, name: str, without: set[str] = frozenset()) -> str:
        parts = []
        for f in self.fields[name].values():
            args = self.arguments(f)
            if args is None or f.name in without:
                continue
            if f.kind in LEAF_KINDS:
                parts.append(f"{f.name}{args}")
            elif self.is_value(f.type_name):
                parts.append(f"{f.name}{args} {{ {self.leaves(f.type_name)} }}")
        return " ".join(parts)

    def leaf_names(self, name: str) -> set[str]:
        return {
            f.name
            for f in self.fields[name].values()
            if f.kind in LEAF_KINDS or self.is_value(f.type_name)
        }

    def selection(self, name: str, without: set[str] = frozenset()) -> str:
        """What is read of an object met: its type, id and leaves (each possible type's
        for an interface), less the fields `without`."""
        if self.kinds[name] == "INTERFACE":
            parts = [f"... on {p} {{ {self.selection(p)} }}" for p in self.possible[name]]
            return "__typename " + " ".join(parts)
        return f"__typename {self.leaves(name, without)}"

    def links(self, name: str) -> list[tuple[Field, str, str | None]]:
        """(field, arguments, connection's node type or None) for every field of `name`
        that leads to other objects."""
        out = []
        for f in self.fields[name].values():
            if f.kind in LEAF_KINDS or self.is_value(f.type_name):
                continue
            args = self.arguments(f)
            if args is not None:
                out.append((f, args, self.connection_node(f.type_name)))
        return out


@dataclass(frozen=True)
class Step:
    """One step of a path: `node(id)` as type_name, or a field (a connection's page)."""

    name: str
    args: str = ""
    node_id: str | None = None
    type_name: str = ""
    connection: bool = False

    def wrap(self, inner: str) -> str:
        if self.node_id is not None:
            return (
                f"node(id: {json.dumps(self.node_id)}) {{ ... on {self.type_name} {{ {inner} }} }}"
            )
        if self.connection:
            return f"{self.name}{self.args} {{ edges {{ node {{ {inner} }} }} }}"
        return f"{self.name}{self.args} {{ {inner} }}"

    def follow(self, value: Any) -> list[Any]:
        found = value.get("node" if self.node_id is not None else self.name)
        if found is None:
            return []
        if self.connection:
            found = [e["node"] for e in found["edges"] if e and e.get("node")]
        return [v for v in (found if isinstance(found, list) else [found]) if v is not None]


def _field_at(error: dict, path: list[Step]) -> str | None:
    """The field of the object at the end of `path` that an error is about, if any."""
    keys = [k for k in error.get("path") or [] if isinstance(k, str)]
    prefix = []
    for step in path:
        prefix += [step.name, "edges", "node"] if step.connection else [step.name]
    if keys[: len(prefix)] != prefix or len(keys) <= len(prefix):
        return None
    return keys[len(prefix)]


@dataclass
class Met:
    """An object met on the walk."""

    type_name: str
    id: str | None
    leaves: dict[str, Any]
    via: str


@dataclass
class Walk:
    api: Any
    schema: SchemaMap
    token: str | None
    met: list[Met] = field(default_factory=list)
    by_node: dict[str, dict | None] = field(default_factory=dict)  # id -> node()'s answer
    errors: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # Type.field answered with an error
    answers: list[Any] = field(default_factory=list)
    _queue: deque = field(default_factory=deque)
    _done: set = field(default_factory=set)

    async def run(self, starts: list[Step]) -> Walk:
        for step in starts:
            self._queue.append(([step], self._type_of(step), None))
        while self._queue:
            path, type_name, unless_node_answers = self._queue.popleft()
            if unless_node_answers is not None and (
                self.by_node.get(unless_node_answers) is not None or len(path) > MAX_STEPS
            ):
                continue
            await self._expand(path, type_name)
        return self

    def _type_of(self, step: Step) -> str:
        if step.node_id is not None:
            return step.type_name
        f = self.schema.fields[self.schema.query][step.name]
        return self.schema.connection_node(f.type_name) or f.type_name

    async def _expand(self, path: list[Step], type_name: str) -> None:
        key = tuple(path)
        if key in self._done:
            return
        self._done.add(key)
        refused: set[str] = set()
        while True:
            body = await self._ask(path, type_name, refused)
            errors = body.get("errors") or []
            self.errors.extend(errors)
            newly = {name for e in errors if (name := _field_at(e, path)) and name not in refused}
            if not newly:
                break
            # A refused non-null field nulls its object: ask again without it, so the
            # object's other fields are still walked.
            refused |= newly
            self.refused.extend(f"{type_name}.{name}" for name in newly)
        self.answers.append(body.get("data"))
        objects = [body.get("data") or {}]
        for step in path:
            objects = [v for o in objects for v in step.follow(o)]
        if len(path) == 1 and path[0].node_id is not None:
            self.by_node[path[0].node_id] = objects[0] if objects else None
        links = [link for link in self._links(type_name) if link[0].name not in refused]
        for obj in objects:
            self._meet(obj, path, links, via=path[-1].name)

    def _links(self, type_name: str):
        return self.schema.links(type_name) if self.schema.kinds[type_name] == "OBJECT" else []

    async def _ask(self, path: list[Step], type_name: str, refused: set[str]) -> dict:
        inner = [self.schema.selection(type_name, without=refused)]
        for f, args, node_type in self._links(type_name):
            if f.name in refused:
                continue
            child = self.schema.selection(node_type or f.type_name)
            inner.append(Step(f.name, args, connection=node_type is not None).wrap(child))
        document = " ".join(inner)
        for step in reversed(path):
            document = step.wrap(document)
        return await self.api.execute("{ " + document + " }", token=self.token)

    def _meet(self, obj: dict, path: list[Step], links, via: str) -> None:
        type_name = obj["__typename"]
        leaves = {k: v for k, v in obj.items() if k in self.schema.leaf_names(type_name)}
        self.met.append(Met(type_name, obj.get("id"), leaves, via))
        if obj.get("id") is not None:
            self._ask_node(obj["id"], type_name)
        for f, args, node_type in links:
            step = Step(f.name, args, connection=node_type is not None)
            for child in step.follow(obj):
                self._reach(child, [*path, step], f"{type_name}.{f.name}")

    def _ask_node(self, node_id: str, type_name: str) -> None:
        node_path = [Step("node", node_id=node_id, type_name=type_name)]
        if tuple(node_path) not in self._done:
            self._queue.append((node_path, type_name, None))

    def _reach(self, child: dict, path: list[Step], via: str) -> None:
        type_name = child["__typename"]
        child_id = child.get("id")
        leaves = {k: v for k, v in child.items() if k in self.schema.leaf_names(type_name)}
        self.met.append(Met(type_name, child_id, leaves, via))
        if child_id is not None:
            self._ask_node(child_id, type_name)
            # node() may refuse an object a field handed out: then walk on from the
            # field, within bounds, to see what else that path hands out.
            self._queue.append((path, type_name, child_id))
        elif len(path) <= MAX_STEPS:
            self._queue.append((path, type_name, None))


def starting_points(
    schema: SchemaMap, pools: dict[str, list[str]], node_ids: list[tuple[str, str]]
) -> list[Step]:
    """Every root field: those without required arguments once, those whose required
    argument has a pool (fund codes, fund IDs) once per value, node() once per (id, type)."""
    steps = [Step("node", node_id=i, type_name=t) for i, t in node_ids]
    for f in schema.fields[schema.query].values():
        if f.name == "node":
            continue
        required = [name for name, _, is_required in f.args if is_required]
        connection = schema.connection_node(f.type_name) is not None
        if not required:
            steps.append(Step(f.name, schema.arguments(f) or "", connection=connection))
        elif len(required) == 1 and required[0] in pools:
            for value in pools[required[0]]:
                args = schema.arguments(f, {required[0]: json.dumps(value)})
                steps.append(Step(f.name, args or "", connection=connection))
    return steps


def strings_in(value: Any) -> set[str]:
    """Every string anywhere in an answer."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(strings_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings_in(v) for v in value)) if value else set()
    return set()
