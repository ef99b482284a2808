"""graphql-core's executor with a shorter way through plain subtrees.

graphql-core completes every field of an answer the same way: a resolve info, the
resolver through Strawberry's wrapper, then complete_value's type dispatch, one level of
calls per field and per list item. The dashboard's 200 donations are about 2,000 such
fields, and that walk was most of the request's CPU (docs/performance.md).

Most of those fields are plain: an attribute of an object some resolver already
returned and authorized (a donation's amount, channel, its campaign's name), or a
synchronous getter of that object. For a value whose whole selection is plain, this
executor completes it in one pass with a plan built once per request and selection:
the same attribute reads and resolvers Strawberry would call, the same scalar and enum
serializers, the same selection as graphql-core collects it (fragments, aliases,
@skip and @include).

A plan that depends on nothing but the schema and the selection's syntax nodes is kept
for later requests too (SHARED): the parse cache (schema/pipeline.py) hands every
request of the same text the same document, so its nodes identify the selection. A
plan is called with the request's execution context, through which a resolver that
takes info gets this request's resolve info. A selection with any directive (@skip or
@include may depend on the variables) is planned per request.

Anything else takes graphql-core's own path, unchanged: asynchronous resolvers (the
loaders, which decide what the viewer may see), fields with arguments (unless a list
preloaded their values: @preloaded and @preloaded_by_node), field extensions or
middleware, abstract types, @defer and @stream. So does any value the plan does not
expect (an error raised, a null where the schema forbids one, an awaitable, an object
of another type): graphql-core then completes that value again from the start and
reports the error at its path, as without this class. That is why a field is plain only
when its getter may run twice: an attribute read or a synchronous resolver without
arguments. Validation runs before execution, as before.
"""

from __future__ import annotations

import enum
import inspect
import keyword
import weakref
from collections.abc import Callable
from types import CoroutineType
from typing import Any

from graphql import (
    FragmentSpreadNode,
    GraphQLField,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE
from strawberry.types.field import StrawberryField

BACKREF = "strawberry-definition"
PRELOADED_AS = "jinlin_preloaded_as"  # set on a resolver by @preloaded
PRELOADED_BY_NODE = "jinlin_preloaded_by_node"  # set on a resolver by @preloaded_by_node
PLAIN_DIRECTIVES = frozenset({"skip", "include"})  # applied by graphql-core's collection
# Set on a scalar's serializer: the type of value it always answers with a string (or
# refuses by raising); the executor then serves such values by calling it, unchecked.
ANSWERS_TYPE = "jinlin_answers_type"
SERIALIZED = object()

# complete(value, path, execution context) -> the completed value; raises _NotPlain to
# leave it to graphql-core.
Complete = Callable[[Any, Path, Any], Any]
# (return type, ids of the field nodes) -> (the nodes, kept alive so that their ids are
# not reused; the plan, or None for a value graphql-core completes, or _PER_REQUEST).
_SHARED: dict[tuple, tuple[tuple, Any]] = {}
SHARED_SIZE = 2048  # plans kept across requests; emptied when full
_PER_REQUEST = object()


class _NotPlain(Exception):
    """This value goes graphql-core's way after all."""


class _NotPreloaded:
    def __repr__(self) -> str:
        return "NOT_PRELOADED"


NOT_PRELOADED: Any = _NotPreloaded()


def preloaded(attribute: str) -> Callable[[Callable], Callable]:
    """Marks a resolver that takes info only to load what a list may have preloaded
    into the source's `attribute` (NOT_PRELOADED until then). This executor answers
    such a field from the attribute without calling the resolver (no resolve info,
    no path), and leaves a value whose attribute was not preloaded to graphql-core,
    which calls the resolver. The resolver must answer the attribute when it is set."""

    return _marking(PRELOADED_AS, attribute)


def preloaded_by_node(attribute: str) -> Callable[[Callable], Callable]:
    """Marks the resolver of a field with arguments whose values a list may have
    preloaded, for each syntax node of the field in the query, into the source's
    `attribute`: a dict from the node's id to the value, None until then. This executor
    answers the field from it without calling the resolver (no resolve info, no
    arguments converted), and leaves a source without the node's value to graphql-core,
    which calls the resolver. The preloading list must give what the resolver would
    give for the node's arguments; it keys a field that the query selects through
    several nodes (fragments) by each of them, since the plan keys it by the first
    that graphql-core collects."""

    return _marking(PRELOADED_BY_NODE, attribute)


def _marking(name: str, attribute: str) -> Callable[[Callable], Callable]:
    def mark(resolver: Callable) -> Callable:
        setattr(resolver, name, attribute)
        return resolver

    return mark


class PlainSubtreeExecutor(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # (type, id(field details)) -> (field details, plan or None); the details are
        # kept alive so that their id is not reused within the request.
        self._plans: dict[tuple, tuple[Any, Complete | None]] = {}

    def complete_value(self, return_type, field_details_list, info, path, result, position):
        key = (return_type, id(field_details_list))
        cached = self._plans.get(key)
        if cached is None:
            plan = self._shared_plan(return_type, field_details_list)
            if plan is _PER_REQUEST:
                plan = self._plan(return_type, field_details_list)
            cached = self._plans[key] = (field_details_list, plan)
        plan = cached[1]
        if plan is not None:
            try:
                return plan(result, path, self)
            except Exception:  # graphql-core completes it again, and reports what it meets
                pass
        return super().complete_value(return_type, field_details_list, info, path, result, position)

    def complete_awaitable_value(
        self, return_type, field_details_list, info, path, result, position
    ):
        """graphql-core's, and a resolver's coroutine closed if graphql-core never runs
        the completion that would await it. When a field fails, graphql-core cancels the
        completions of its siblings still pending (gather_with_cancel); one cancelled
        before its first step never awaits the resolver's coroutine, which then warns
        that it was never awaited. Nothing is lost: the resolver never ran, and the
        failure nulls what its value would have gone into. A completion dropped without
        being cancelled still warns, as its own coroutine was never awaited."""
        completion = super().complete_awaitable_value(
            return_type, field_details_list, info, path, result, position
        )
        return _closing_unstarted(completion, result)

    def complete_awaitable_list_item_value(self, item, item_type, details, info, path, position):
        """The same for an awaitable item of a list (a resolver that returns coroutines)."""
        completion = super().complete_awaitable_list_item_value(
            item, item_type, details, info, path, position
        )
        return _closing_unstarted(completion, item)

    def _shared_plan(self, return_type, field_details_list) -> Any:
        """The plan kept for this selection by an earlier request, made now if it can
        be kept; _PER_REQUEST when it cannot, None when graphql-core completes it."""
        if self._has_middleware():
            return None
        if any(d.defer_usage or d.fragment_variable_values for d in field_details_list):
            return _PER_REQUEST
        nodes = tuple(d.node for d in field_details_list)
        key = (return_type, tuple(map(id, nodes)))
        known = _SHARED.get(key)
        if known is not None:
            return known[1]
        if not _without_directives(nodes, self.fragments):
            plan = _PER_REQUEST
        else:
            plan = self._plan(return_type, field_details_list)
        if len(_SHARED) >= SHARED_SIZE:
            _SHARED.clear()
        _SHARED[key] = (nodes, plan)
        return plan

    def _has_middleware(self) -> bool:
        """Whether a schema extension resolves fields itself (Strawberry passes an
        empty manager when none does): then every field takes graphql-core's path."""
        manager = self.middleware_manager
        return bool(manager and manager.middlewares)

    # --- plans ---------------------------------------------------------------

    def _plan(self, return_type: GraphQLOutputType, field_details_list) -> Complete | None:
        if isinstance(return_type, GraphQLNonNull):
            # A list or an object that checks for null itself: one call fewer per value.
            of_type = return_type.of_type
            if isinstance(of_type, GraphQLObjectType):
                return self._object_plan(of_type, field_details_list, non_null=True)
            if isinstance(of_type, GraphQLList):
                inner = self._plan(of_type.of_type, field_details_list)
                return None if inner is None else _list(inner, non_null=True)
            inner = self._plan(of_type, field_details_list)
            return None if inner is None else _non_null(inner)
        if isinstance(return_type, GraphQLList):
            inner = self._plan(return_type.of_type, field_details_list)
            return None if inner is None else _list(inner)
        if is_leaf_type(return_type):
            return _leaf(return_type.coerce_output_value)
        if isinstance(return_type, GraphQLObjectType):
            return self._object_plan(return_type, field_details_list)
        return None  # interfaces and unions: graphql-core resolves the runtime type

    def _object_plan(
        self, object_type: GraphQLObjectType, field_details_list, *, non_null: bool = False
    ) -> Complete | None:
        grouped, defer_usages, _forbidden = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return None
        steps = []
        for response_name, details in grouped.items():
            step = self._field_step(object_type, response_name, details)
            if step is None:
                return None
            steps.append(step)
        return _object(object_type, steps, non_null)

    def _field_step(self, object_type: GraphQLObjectType, response_name: str, details):
        nodes = [d.node for d in details]
        if any(d.name.value not in PLAIN_DIRECTIVES for n in nodes for d in n.directives or ()):
            return None
        name = nodes[0].name.value
        if name == "__typename":
            type_name = object_type.name
            return _step(response_name, lambda _source, _path, _ctx: type_name, None, _as_is)
        field_def = self.schema.get_field(object_type, name)
        getter = _plain_getter(field_def, nodes) if field_def is not None else None
        if getter is None:
            return None
        complete = self._plan(field_def.type, details)
        if complete is None:
            return None
        if getter is _NEEDS_INFO:
            getter = self._resolver_with_info(object_type, field_def, nodes)
        return _step(response_name, getter, field_def.type, complete)

    def _resolver_with_info(self, object_type, field_def: GraphQLField, nodes) -> Callable:
        """A synchronous method resolver that takes info and nothing else: called with
        Strawberry's Info as Strawberry calls it (its wrapper would only add argument
        conversion and field extensions, which a plain field has none of)."""
        field = field_def.extensions[BACKREF]
        # The function itself: StrawberryResolver.__call__ only checks it is callable.
        resolver, info_name = (
            field.base_resolver.wrapped_func,
            field.base_resolver.info_parameter.name,
        )
        info_class = self.schema._strawberry_schema.config.info_class

        def get(source: Any, path: Path, ctx: PlainSubtreeExecutor) -> Any:
            raw = ctx.build_resolve_info(field_def, nodes, object_type, path)
            value = resolver(source, **{info_name: info_class(_raw_info=raw, _field=field)})
            if ctx.is_awaitable(value):
                getattr(value, "close", lambda: None)()  # graphql-core will call it again
                raise _NotPlain
            return value

        get.needs_path = True
        return get


_NEEDS_INFO = object()


def _without_directives(nodes, fragments: dict) -> bool:
    """Whether no directive appears anywhere below these field nodes, fragments spread
    there included: then their selection does not depend on the variables."""
    seen: set[str] = set()
    todo = [n.selection_set for n in nodes if n.selection_set is not None]
    while todo:
        for selection in todo.pop().selections:
            if selection.directives:
                return False
            if isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                details = fragments.get(name)  # graphql-core's FragmentDetails
                fragment = getattr(details, "definition", None)
                if fragment is None or fragment.directives or details.variable_signatures:
                    return False
                if name not in seen:
                    seen.add(name)
                    todo.append(fragment.selection_set)
            elif selection.selection_set is not None:
                todo.append(selection.selection_set)
    return True


def _step(name: str, get: Callable, return_type: Any, complete: Complete) -> tuple:
    """One field of an object plan: (response name, attribute name or None, getter,
    leaf serializer or None, whether the leaf is non-null, the type of the leaf's
    usual values and their answers, completion, whether it needs its path). A leaf
    (the most common field) is completed inline by the object, without calls."""
    attr = getattr(get, "attr_name", None)
    non_null = isinstance(return_type, GraphQLNonNull)
    leaf = return_type.of_type if non_null else return_type
    with_path = _needs_path(get) or _needs_path(complete)
    if return_type is None or not is_leaf_type(leaf):
        return name, attr, get, None, False, None, None, complete, with_path
    usual, answers = _usual_values(leaf)
    coerce = leaf.coerce_output_value
    return name, attr, get, coerce, non_null, usual, answers, complete, with_path


def _usual_values(leaf: Any) -> tuple[type | None, Any]:
    """The type of the values a leaf usually holds, and what it answers for each
    (None: the value itself; SERIALIZED: what its serializer returns), as its
    serializer would: graphql-core's String and ID answer a str as it is; an enum
    answers each member by its name, worked out here once by the enum's own serializer;
    a scalar whose serializer names the type it always answers with a string
    (ANSWERS_TYPE) is served by calling it, without the checks for other values."""
    if leaf is GraphQLString or leaf is GraphQLID:
        return str, None
    answers_type = getattr(leaf.coerce_output_value, ANSWERS_TYPE, None)
    if isinstance(answers_type, type):
        return answers_type, SERIALIZED
    members = getattr(leaf, "wrapped_cls", None)
    if not isinstance(members, type) or not issubclass(members, enum.Enum):
        return None, None
    try:
        answers = {member: leaf.coerce_output_value(member) for member in members}
    except Exception:  # an enum it cannot serialize whole: every value is serialized
        return None, None
    if any(answer is None or answer is Undefined for answer in answers.values()):
        return None, None
    return members, answers


def _plain_getter(field_def: GraphQLField, nodes) -> Any:
    """How a plain field reads its value from its source; None when it is not plain,
    _NEEDS_INFO for a synchronous resolver that asks for info."""
    field = (field_def.extensions or {}).get(BACKREF)
    if not isinstance(field, StrawberryField) or field.extensions or field.is_subscription:
        return None
    resolver = field.base_resolver
    by_node = getattr(getattr(resolver, "wrapped_func", None), PRELOADED_BY_NODE, None)
    if by_node is not None:
        return _by_node_getter(by_node, nodes[0])
    if field_def.args or any(n.arguments for n in nodes):
        return None
    if resolver is None:
        if getattr(field_def.resolve, "_is_default", False) and field.default_resolver is getattr:
            name = field.python_name
            get = lambda source, _path, _ctx: getattr(source, name)  # noqa: E731
            get.attr_name = name  # read inline by the object's plan
            return get
        return None
    if resolver.is_async or resolver.parent_parameter or resolver.root_parameter:
        return None
    if not resolver.self_parameter:
        return None
    if resolver.info_parameter:
        attribute = getattr(resolver.wrapped_func, PRELOADED_AS, None)
        return _NEEDS_INFO if attribute is None else _preloaded_getter(attribute)

    function = resolver.wrapped_func  # StrawberryResolver.__call__ only checks it is callable

    def get(source: Any, _path: Path, _ctx: Any) -> Any:
        value = function(source)
        if hasattr(value, "__await__"):
            getattr(value, "close", lambda: None)()
            raise _NotPlain
        return value

    return get


def _preloaded_getter(attribute: str) -> Callable:
    def get(source: Any, _path: Path, _ctx: Any) -> Any:
        value = getattr(source, attribute, NOT_PRELOADED)
        if value is NOT_PRELOADED:
            raise _NotPlain  # graphql-core calls the resolver, with its info
        return value

    return get


def _by_node_getter(attribute: str, node: Any) -> Callable:
    key = id(node)  # the plan keeps the node alive, so its id names it

    def get(source: Any, _path: Path, _ctx: Any) -> Any:
        values = getattr(source, attribute, None)
        value = NOT_PRELOADED if values is None else values.get(key, NOT_PRELOADED)
        if value is NOT_PRELOADED:
            raise _NotPlain  # graphql-core calls the resolver, with its arguments
        return value

    return get


def _closing_unstarted(completion: Any, awaited: Any) -> Any:
    """`completion`, which awaits `awaited`; if it is collected without having started,
    `awaited` is closed (see PlainSubtreeExecutor.complete_awaitable_value)."""
    if type(awaited) is CoroutineType:
        weakref.finalize(completion, _close_if_unstarted, awaited)
    return completion


def _close_if_unstarted(coroutine: CoroutineType) -> None:
    if inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
        coroutine.close()


def _as_is(value: Any, _path: Path, _ctx: Any) -> Any:
    return value


def _non_null(inner: Complete) -> Complete:
    def complete(value: Any, path: Path, ctx: Any) -> Any:
        completed = inner(value, path, ctx)
        if completed is None:
            raise _NotPlain  # graphql-core raises the field error, at its path
        return completed

    complete.needs_path = _needs_path(inner)
    return complete


def _list(inner: Complete, non_null: bool = False) -> Complete:
    def complete(value: Any, path: Path, ctx: Any) -> Any:
        if value is None:
            if non_null:
                raise _NotPlain  # graphql-core raises the field error, at its path
            return None
        if type(value) not in (list, tuple):
            raise _NotPlain
        if needs_path:
            return [inner(item, path.add_key(i), ctx) for i, item in enumerate(value)]
        return [inner(item, path, ctx) for item in value]

    complete.needs_path = needs_path = _needs_path(inner)
    return complete


def _leaf(coerce: Callable[[Any], Any]) -> Complete:
    def complete(value: Any, _path: Path, _ctx: Any) -> Any:
        return None if value is None else _coerced(coerce, value)

    return complete


def _object(object_type: GraphQLObjectType, steps: list, non_null: bool = False) -> Complete:
    """The object's completion, written out as one function for its selection (the
    steps): each field read and, for a leaf, served inline. What it does per value
    and field is what graphql-core does (see _step); only the loop and the lookups of
    a generic completion are left out, since a list page completes hundreds of objects.
    A non-null object refuses None itself (graphql-core then raises the field error)."""
    # An object of the type's own class, not cast, is of the type: is_type_of would
    # say so through its isinstance (Strawberry's, for the types with interfaces).
    own_class = getattr((object_type.extensions or {}).get(BACKREF), "origin", None)
    names: dict[str, Any] = {
        "Path": Path, "_NotPlain": _NotPlain, "_coerced": _coerced, "own_class": own_class,
        "is_type_of": object_type.is_type_of, "type_name": object_type.name,
        "cast_attribute": TYPE_CAST_ATTRIBUTE,
    }  # fmt: skip
    lines = [
        "def complete(value, path, ctx):",
        "    if value is None:",
        "        raise _NotPlain" if non_null else "        return None",
        "    if type(value) is not own_class or hasattr(value, cast_attribute):",
        "        if isinstance(value, Exception) or (",
        "            is_type_of is not None and not is_type_of(value, None)",
        "        ):",
        "            raise _NotPlain",
    ]
    for i, step in enumerate(steps):
        lines += _step_lines(i, step, names)
    answer = ", ".join(f"{step[0]!r}: v{i}" for i, step in enumerate(steps))
    lines.append(f"    return {{{answer}}}")
    exec("\n".join(lines), names)  # code written above from the steps; names are literals
    complete = names["complete"]
    complete.needs_path = any(step[-1] for step in steps)  # paths only where asked for
    return complete


def _step_lines(i: int, step: tuple, names: dict[str, Any]) -> list[str]:
    """The lines that put field i's answer in v{i}. Values the plan holds (getters,
    serializers, answers) are passed in `names` under numbered names; the response
    name is written as a literal (a GraphQL name) and the attribute read as one when
    it is a plain identifier."""
    name, attr, get, coerce, non_null, usual, answers, done, step_path = step
    names.update({f"get{i}": get, f"coerce{i}": coerce, f"usual{i}": usual,
                  f"answers{i}": answers, f"done{i}": done})  # fmt: skip
    lines = []
    where = "path"
    if step_path:
        lines.append(f"    p{i} = Path(path, {name!r}, type_name)")
        where = f"p{i}"
    if attr is None:
        read = f"get{i}(value, {where}, ctx)"
    elif attr.isidentifier() and not keyword.iskeyword(attr) and not attr.startswith("__"):
        read = f"value.{attr}"
    else:
        names[f"attr{i}"] = attr
        read = f"getattr(value, attr{i})"
    if coerce is None:
        return [*lines, f"    v{i} = done{i}({read}, {where}, ctx)"]
    lines += [f"    v{i} = {read}", f"    if v{i} is None:"]
    lines.append("        raise _NotPlain" if non_null else "        pass")
    if usual is not None:
        served = f"v{i}" if answers is None else f"answers{i}[v{i}]"
        if answers is SERIALIZED:
            served = f"coerce{i}(v{i})"
        lines += [f"    elif type(v{i}) is usual{i}:", f"        v{i} = {served}"]
    lines += ["    else:", f"        v{i} = _coerced(coerce{i}, v{i})"]
    return lines


def _coerced(coerce: Callable[[Any], Any], value: Any) -> Any:
    """A leaf's serialized value, as _leaf gives it for a value that is not None."""
    if isinstance(value, Exception):
        raise _NotPlain
    coerced = coerce(value)
    if coerced is None or coerced is Undefined:
        raise _NotPlain
    return coerced


def _needs_path(function: Any) -> bool:
    return getattr(function, "needs_path", False)
