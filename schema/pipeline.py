"""Parsing and validating a request: one schema extension instead of five.

Every request used to pass through Strawberry's ParserCache, ValidationCache,
MaxTokensLimiter, QueryDepthLimiter and MaxAliasesLimiter. Each extension costs every
request a hook lookup and a context manager per phase, and ValidationCache keys its
cache on the parsed document, whose hash walks the whole syntax tree every time
(graphql-core's nodes are frozen dataclasses). Together about a fifth of the CPU a
small mutation spends outside its resolver (cProfile, see docs/performance.md).

This extension does the same work with the same graphql-core functions, and more:

- the token limit while lexing;
- depth, aliases and field selections counted on the document with each fragment
  expanded once (schema/cost.py), before graphql-core's own validation, so a query
  whose expansion explodes is refused in linear time;
- control characters in string arguments refused (schema/strings.py);
- in production, no introspection.

The caches are keyed by the query's token stream (NormalQuery), so whitespace and
comments do not make a query new; the exact text is remembered too, whose hash Python
keeps, so a repeated request does not even lex.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationType,
    Source,
    get_operation_ast,
    parse,
)
from graphql.language import Lexer, TokenKind
from strawberry.extensions import SchemaExtension
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.schema.schema import validate_document

from schema.cost import CostLimits, cost_errors
from schema.strings import StringSites, string_errors, string_sites

CACHE_SIZE = 512  # distinct queries kept; a public endpoint cannot grow it further


class NormalQuery:
    """A query text compared by its tokens: two texts that differ only in whitespace,
    commas or comments are equal. It keeps the first text it was made from, which
    is what gets parsed (error locations point into that text)."""

    __slots__ = ("_hash", "text", "tokens")

    def __init__(self, text: str, tokens: tuple):
        self.text = text
        self.tokens = tokens
        self._hash = hash(tokens)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NormalQuery) and other.tokens == self.tokens


@lru_cache(maxsize=CACHE_SIZE)
def _normal(query: str, max_tokens: int) -> NormalQuery:
    """Raises GraphQLSyntaxError for text that does not lex or has too many tokens."""
    source = Source(query)
    lexer = Lexer(source)
    tokens = []
    token = lexer.advance()
    while token.kind is not TokenKind.EOF:
        if len(tokens) >= max_tokens:
            raise GraphQLSyntaxError(
                source,
                token.start,
                f"Document contains more than {max_tokens} tokens. Parsing aborted.",
            )
        tokens.append((token.kind, token.value))
        token = lexer.advance()
    return NormalQuery(query, tuple(tokens))


@lru_cache(maxsize=CACHE_SIZE)
def _parsed(query: NormalQuery, max_tokens: int) -> DocumentNode:
    return parse(query.text, max_tokens=max_tokens)


@lru_cache(maxsize=CACHE_SIZE)
def _validated(
    schema: GraphQLSchema, query: NormalQuery, max_tokens: int, limits: CostLimits, rules: tuple
) -> list[GraphQLError]:
    # The document is the parse cache's (the same object on_parse handed over, unless
    # evicted meanwhile, when an equal one is parsed again).
    document = _parsed(query, max_tokens)
    # Cost first: graphql-core's own rules (overlapping fields among them) would
    # walk an exploding expansion too.
    return cost_errors(document, limits) or validate_document(schema, document, rules)


@lru_cache(maxsize=CACHE_SIZE)
def _sites(query: NormalQuery, max_tokens: int) -> StringSites:
    return string_sites(_parsed(query, max_tokens))


def is_subscription(query: str, operation_name: str | None, max_tokens: int) -> bool:
    """Whether the operation a request names is a subscription (False when the document
    does not parse: the request's own run reports that)."""
    try:
        document = _parsed(_normal(query, max_tokens), max_tokens)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation is OperationType.SUBSCRIPTION


class RequestLimits:
    """The limits every request is held to, built once per schema."""

    def __init__(
        self,
        *,
        max_depth: int,
        max_aliases: int,
        max_tokens: int,
        max_fields: int,
        production: bool,
    ):
        self.max_tokens = max_tokens
        self.cost = CostLimits(max_depth=max_depth, max_aliases=max_aliases, max_fields=max_fields)
        self.rules = tuple(DisableIntrospection().validation_rules) if production else ()

    def extension(self) -> PreparedRequest:
        return PreparedRequest(self)


class PreparedRequest(SchemaExtension):
    """Parse (with the token limit) and validate (with the limits), both cached; then
    refuse control characters in the request's strings."""

    def __init__(self, limits: RequestLimits):
        self.limits = limits
        self.normal: NormalQuery | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.validation_rules = context.validation_rules + self.limits.rules
        context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and isinstance(context.query, str):
            try:
                self.normal = _normal(context.query, self.limits.max_tokens)
                context.graphql_document = _parsed(self.normal, self.limits.max_tokens)
            except GraphQLError:
                # Left to Strawberry, which parses it again (with the same token
                # limit) where its error becomes the response's, with a code.
                self.normal = None
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        normal, max_tokens = self.normal, self.limits.max_tokens
        if normal is not None and context.pre_execution_errors is None:
            errors = _validated(
                context.schema._schema,
                normal,
                max_tokens,
                self.limits.cost,
                tuple(context.validation_rules),
            )
            if not errors:
                errors = string_errors(_sites(normal, max_tokens), context.variables) or None
            context.pre_execution_errors = errors or []
        yield
