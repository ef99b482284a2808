"""Parsing and validating a request: one schema extension instead of five.

Every request used to pass through Strawberry's ParserCache, ValidationCache,
MaxTokensLimiter, QueryDepthLimiter and MaxAliasesLimiter. Each extension costs every
request a hook lookup and a context manager per phase, and ValidationCache keys its
cache on the parsed document, whose hash walks the whole syntax tree every time
(graphql-core's nodes are frozen dataclasses). Together about a fifth of the CPU a
small mutation spends outside its resolver (cProfile, see docs/performance.md).

This extension does the same work with the same graphql-core functions: the token
limit on parsing, the depth and alias rules (and, in production, no introspection) on
validation, and both results cached, keyed by the query text, whose hash Python keeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import (
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.schema.schema import validate_document

CACHE_SIZE = 512  # distinct query texts kept; a public endpoint cannot grow it further


@lru_cache(maxsize=CACHE_SIZE)
def _parsed(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@lru_cache(maxsize=CACHE_SIZE)
def _validated(
    schema: GraphQLSchema, query: str, max_tokens: int, rules: tuple
) -> list[GraphQLError]:
    # The document is the parse cache's (the same object on_parse handed over, unless
    # evicted meanwhile, when an equal one is parsed again).
    return validate_document(schema, _parsed(query, max_tokens), rules)


class RequestLimits:
    """The limits every request is held to, built once per schema."""

    def __init__(self, *, max_depth: int, max_aliases: int, max_tokens: int, production: bool):
        self.max_tokens = max_tokens
        limiters = [
            QueryDepthLimiter(max_depth=max_depth),
            MaxAliasesLimiter(max_alias_count=max_aliases),
        ]
        if production:
            limiters.append(DisableIntrospection())
        self.rules = tuple(rule for limiter in limiters for rule in limiter.validation_rules)

    def extension(self) -> PreparedRequest:
        return PreparedRequest(self)


class PreparedRequest(SchemaExtension):
    """Parse (with the token limit) and validate (with the limits' rules), both cached."""

    def __init__(self, limits: RequestLimits):
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = context.validation_rules + self.limits.rules
        context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            try:
                context.graphql_document = _parsed(context.query, self.limits.max_tokens)
            except GraphQLError:
                # Left to Strawberry, which parses it again (with the same token
                # limit) where its error becomes the response's, with a code.
                pass
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.pre_execution_errors is None:
            context.pre_execution_errors = _validated(
                context.schema._schema,
                context.query,
                self.limits.max_tokens,
                tuple(context.validation_rules),
            )
        yield
