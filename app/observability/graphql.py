"""What GraphQL operations did, for logs and metrics.

- ``OperationObserver`` (a schema extension, once per operation) writes who is asking and the
  operation's name into the request's log fields (app.observability.middleware), so the one
  line logged per request or websocket names them. Never the token: the actor's reference
  (``user:12``, ``apikey:3``), its organisation and role.
- ``ObservedSchema.process_errors``: errors a client caused (a refusal with a code such as
  UNAUTHENTICATED or NOT_FOUND, an invalid query) are logged at info without a trace, one line
  each; only unexpected ones (a bug, an outage) are logged at error with their trace, so an
  alert on error lines means something failed.
- ``MutationObserver`` (a field extension on each Mutation field, outside the permission
  guard) times the mutation and counts it by result: ``ok``, the typed error's ``code``, or
  the GraphQL error's ``extensions.code`` (``INTERNAL`` for an unexpected exception). It logs
  one line per mutation. Only mutation fields carry it: queries pay nothing per field.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from app.domain.actors import Actor
from app.observability.metrics import MUTATION_DURATION, MUTATIONS
from app.observability.middleware import log_fields
from app.resolvers.masking import is_unexpected
from app.schema.errors import Error

log = structlog.get_logger("devicegraph.graphql")


class ObservedSchema(strawberry.Schema):
    """strawberry's schema, logging client errors as such (see the module doc)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        unexpected = []
        for error in errors:
            if is_unexpected(error):
                unexpected.append(error)
                continue
            code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
            path = ".".join(str(part) for part in error.path) if error.path else None
            log.info("graphql error", code=code, message=error.message, path=path)
        if unexpected:
            super().process_errors(unexpected, execution_context)


def identity(actor: Actor) -> dict[str, Any]:
    """Log fields naming who acts (no secret in them)."""
    fields: dict[str, Any] = {"actor": actor.ref}
    if actor.organization_id is not None:
        fields["organization_id"] = actor.organization_id
    if actor.role is not None:
        fields["role"] = actor.role.value
    return fields


class OperationObserver(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        request = getattr(context, "request", None)
        fields = None if request is None else log_fields(request.scope)
        if fields is not None:
            actor = getattr(context, "actor", None)
            if isinstance(actor, Actor):
                fields.update(identity(actor))
            name = self.execution_context.operation_name
            if name:
                fields["operation"] = name
        yield


def result_label(result: object) -> str:
    if isinstance(result, Error):
        code = result.code
        return code.value if isinstance(code, Enum) else str(code)
    return "ok"


def error_label(exc: BaseException) -> str:
    extensions = getattr(exc, "extensions", None)
    if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
        return str(extensions["code"])
    if isinstance(exc, GraphQLError):
        return "GRAPHQL_ERROR"
    return "INTERNAL"


class MutationObserver(FieldExtension):
    def __init__(self, name: str) -> None:
        self.name = name

    def _record(self, label: str, started: float) -> None:
        elapsed = time.perf_counter() - started
        MUTATIONS.labels(self.name, label).inc()
        MUTATION_DURATION.labels(self.name).observe(elapsed)
        log.info("mutation", mutation=self.name, result=label, duration_ms=round(elapsed * 1000, 2))

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            result = next_(source, info, **kwargs)
        except Exception as exc:
            self._record(error_label(exc), started)
            raise
        self._record(result_label(result), started)
        return result

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        started = time.perf_counter()
        try:
            result = next_(source, info, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            self._record(error_label(exc), started)
            raise
        self._record(result_label(result), started)
        return result


def observe_mutations(mutation_type: type) -> None:
    """Put a MutationObserver on each field of ``mutation_type`` (once), outermost."""
    definition = mutation_type.__strawberry_definition__  # type: ignore[attr-defined]
    for field in definition.fields:
        assert isinstance(field, StrawberryField)
        if any(isinstance(extension, MutationObserver) for extension in field.extensions):
            continue
        name = field.graphql_name or to_camel_case(field.python_name)
        field.extensions.append(MutationObserver(name))
