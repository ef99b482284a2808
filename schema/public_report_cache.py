"""publicFundReport answered from the process's cache of public reads.

A query whose every root field is publicFundReport (aliases and __typename allowed)
depends on nothing but the funds it names and the request's text and variables: the
report is the same for every viewer, so the visibility class in the key is "public".
Parsing and validation run as for any request; only execution is skipped when the
cache holds the answer read at or after the heads this process has seen. A miss
executes normally and keeps the answer when it has no errors, keyed by the heads read
before execution (resolvers/public_reads.py). Once an anonymous request has been
answered so, its exact body is an alias of the entry, and the same bytes are answered
before parsing while the entry stays fresh (web/cached_answers.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from graphql import (
    ExecutionResult,
    FieldNode,
    OperationDefinitionNode,
    StringValueNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from ops.requests import operation_of
from resolvers.public_reads import PublicReads, reads_of

FIELD = "publicFundReport"
# The longest query text (characters) or request body (bytes) the cache keeps, as an
# entry's key or an alias: a page's is far smaller. Longer ones are executed, never
# kept, which bounds what a client can make the process hold (the cache's size times
# this).
MAX_KEPT_SIZE = 8 * 1024
MAX_FUNDS = 4  # a key depends on every fund it names; more is not a page's query


class PublicReportCache(SchemaExtension):
    async def on_execute(self) -> Iterator[None]:  # type: ignore[override]
        ctx = self.execution_context
        reads = reads_of(getattr(ctx.context, "app", None))
        # The key holds the query's text: a longer one is executed, never kept.
        small = ctx.query is not None and len(ctx.query) <= MAX_KEPT_SIZE
        codes = _codes(ctx) if reads is not None and small else None
        if not codes:
            yield
            return
        engine = ctx.context.app.read_engine  # the engine publicFundReport reads through
        funds = []
        for code in codes:
            fund = await reads.fund_of(engine, "code", code.strip().upper())
            if fund is None:  # unknown: answered (null) without caching
                yield
                return
            funds.append(fund)
        key = ("report", "public", ctx.query, ctx.operation_name, _variables(ctx.variables))
        async for _ in _cached(reads, engine, key, tuple(funds), ctx):
            yield
        _remember_body(reads, ctx, key)


def _remember_body(reads: PublicReads, ctx, key) -> None:
    """An anonymous request's exact body, once answered from (or into) the cache, is
    answered again before the view parses it (web/cached_answers.py). The body holds
    the query, the variables and the operation name, so equal bytes ask the same."""
    context = ctx.context
    body = getattr(context, "raw_body", None)
    if body is None or len(body) > MAX_KEPT_SIZE or context.authorization is not None:
        return
    if reads.lookup(key) is None:
        return
    reads.alias(("body", body), key, operation_of(ctx))


async def _cached(reads: PublicReads, engine, key, funds, ctx):
    entry = reads.lookup(key)
    if entry is not None:
        ctx.result = ExecutionResult(data=entry.value, errors=None)
        yield
        return
    start = reads.begin(key)
    kept = None
    try:
        heads = await reads.read_heads(engine, funds)
        yield  # executes
        result = ctx.result
        if isinstance(result, ExecutionResult) and not result.errors and result.data is not None:
            kept = reads.entry(funds, heads, start, result.data, kind="report")
            reads.store(key, kept)
    finally:
        reads.finish(key, kept)


def _codes(ctx) -> list[str] | None:
    """The codes the root fields name, or None when the operation is anything else."""
    if ctx.operation_type is not OperationType.QUERY or not ctx.query or not ctx.graphql_document:
        return None
    operations = [
        d for d in ctx.graphql_document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    if ctx.operation_name:
        operations = [o for o in operations if o.name and o.name.value == ctx.operation_name]
    if len(operations) != 1:
        return None
    codes = []
    for selection in operations[0].selection_set.selections:
        if not isinstance(selection, FieldNode):
            return None
        name = selection.name.value
        if name == "__typename":
            continue
        if name != FIELD or selection.directives:
            return None
        code = _code(selection, ctx.variables or {})
        if code is None:
            return None
        codes.append(code)
    return codes if 0 < len(set(codes)) <= MAX_FUNDS else None


def _code(field: FieldNode, variables: dict) -> str | None:
    for argument in field.arguments:
        if argument.name.value != "code":
            continue
        value = argument.value
        if isinstance(value, StringValueNode):
            return value.value
        if isinstance(value, VariableNode):
            found = variables.get(value.name.value)
            return found if isinstance(found, str) else None
    return None


def _variables(variables: dict | None) -> str:
    return json.dumps(variables or {}, sort_keys=True, separators=(",", ":"), default=str)
