"""Limits on what one GraphQL operation may cost, and what production hides.

One schema extension, ``OperationLimits``, reads the limits from the settings of the app that
runs the operation (``info.context.runtime.settings``), so one schema serves apps with
different settings (tests run several in one process):

- tokens (``max_tokens``): the parser stops counting at the limit: TOO_MANY_TOKENS;
- depth (``max_query_depth``): QUERY_TOO_DEEP; aliases (``max_aliases``): TOO_MANY_ALIASES;
- in production: introspection refused (INTROSPECTION_DISABLED) and no "Did you mean ...?"
  in validation messages, so the schema cannot be read or guessed field by field.

Documents up to 20 kB are parsed once per text and limit (an LRU cache, as strawberry's
ParserCache, but a document that fails to parse is reported as a result, so the error is
post-processed like any other). The validation rules are built once per set of limits: the
same rule classes each time, so strawberry's ValidationCache can hit.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLError, ValidationContext, parse
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from app.auth.rate_limit import AUTHENTICATED
from app.domain.actors import ActorKind
from app.settings import Settings, get_settings

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"
INVALID_INPUT = "INVALID_INPUT"

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
_TOKEN_LIMIT = "tokens. Parsing aborted"
PARSE_CACHE_SIZE = 256
CACHED_TEXT_MAX = 20_000
"""Longer documents are parsed each time: the cache holds at most 256 x 20 kB of text."""


def settings_of(context: object) -> Settings:
    """The settings of the app running an operation (the process's own when there is none)."""
    runtime = getattr(context, "runtime", None)
    settings = getattr(runtime, "settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _coded_on_init(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    """A rule that reports while it is built (strawberry's depth and alias rules), coded."""

    class Coded(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: ValidationContext) -> None:
            report = context.report_error

            def coded(error: GraphQLError) -> None:
                report(_with_code(error, code))

            context.report_error = coded  # type: ignore[method-assign]
            try:
                super().__init__(context)
            except KeyError:
                # A spread of an undefined fragment: strawberry's rule trips over it (and its
                # text would reach the client); KnownFragmentNamesRule reports it properly.
                ASTValidationRule.__init__(self, context)
            finally:
                del context.report_error

    Coded.__name__ = f"Coded{rule.__name__}"
    return Coded


class _NoIntrospection(NoSchemaIntrospectionCustomRule):
    def report_error(self, error: GraphQLError) -> None:
        super().report_error(_with_code(error, INTROSPECTION_DISABLED))


@cache
def validation_rules(
    max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ASTValidationRule], ...]:
    """The same classes for the same limits, so that validation results can be cached."""
    rules: list[type[ASTValidationRule]] = [
        _coded_on_init(depth_validator(max_depth, None, None), QUERY_TOO_DEEP),
        _coded_on_init(aliases_validator(max_aliases), TOO_MANY_ALIASES),
    ]
    if not introspection:
        rules.append(_NoIntrospection)
    return tuple(rules)


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse(query: str, options: tuple[tuple[str, Any], ...]) -> DocumentNode:
    return parse(query, **dict(options))


def public_error(error: GraphQLError, *, hide_suggestions: bool) -> GraphQLError:
    """A request error (parse, validation, variables) with its code and, if asked, no hints.

    An argument strawberry could not convert (a malformed global id) is INVALID_INPUT.
    """
    original = error.original_error
    if isinstance(original, StrawberryInputCoercionError):
        if not (error.extensions or {}).get("code"):
            _with_code(error, INVALID_INPUT)
        return error
    if original is not None:
        return error  # a resolver's: a PublicError keeps its code, anything else is masked
    message = error.message
    if _TOKEN_LIMIT in message:
        _with_code(error, TOO_MANY_TOKENS)
    if hide_suggestions and "Did you mean" in message:
        return GraphQLError(
            _SUGGESTION.sub("", message),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions=error.extensions,
        )
    return error


def _note_authentication(context: object) -> None:
    """Tell the HTTP rate limiter whether the bearer token signed someone in (see limits)."""
    state = getattr(getattr(context, "request", None), "state", None)
    actor = getattr(context, "actor", None)
    if state is not None and actor is not None:
        setattr(state, AUTHENTICATED, actor.kind is not ActorKind.ANONYMOUS)


class OperationLimits(SchemaExtension):
    """Tokens, depth, aliases, and production's hiding of the schema (see the module doc)."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        settings = settings_of(context.context)
        self._hide_suggestions = settings.is_production
        _note_authentication(context.context)
        context.parse_options["max_tokens"] = settings.max_tokens
        context.validation_rules = context.validation_rules + validation_rules(
            settings.max_query_depth, settings.max_aliases, not settings.is_production
        )
        yield
        self._rewrite(context.result)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if context.graphql_document is None and query and len(query) <= CACHED_TEXT_MAX:
            options = tuple(sorted(context.parse_options.items()))
            # On a syntax error strawberry parses again and answers the error as a result.
            with contextlib.suppress(GraphQLError):
                context.graphql_document = _parse(query, options)
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._rewrite(result)
        yield

    def _rewrite(self, result: object) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            hide = getattr(self, "_hide_suggestions", False)
            result.errors = [public_error(e, hide_suggestions=hide) for e in errors]  # type: ignore[attr-defined]
