"""The one place that enforces app.auth.policy.ROOT_RULES, before any resolver runs.

``security_extensions(Query, Mutation, Subscription)`` (called where the schema is built)
puts a ``PolicyGuard`` field extension on every root field and returns the schema extensions
for operation limits. Only root fields carry it, so nested fields cost nothing extra, and a
subscription is checked once, when it starts (the hub then filters each event by audience).

A refusal looks as it did when each resolver checked alone: a mutation whose result union
has ForbiddenError returns one (``code`` FORBIDDEN or UNAUTHENTICATED); a query or
subscription field fails with a GraphQL error whose ``extensions.code`` says which.
The resolvers' own ``require(...)`` calls stay as defence in depth.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types.field import StrawberryField
from strawberry.utils.str_converters import to_camel_case

from app.auth.hardening import OperationLimits
from app.auth.policy import decide
from app.domain.actors import ANONYMOUS
from app.schema.errors import ForbiddenError, error_result, query_error


class PolicyGuard(FieldExtension):
    """Refuse a root field as ROOT_RULES[coordinate] says, or let its resolver run."""

    def __init__(self, coordinate: str, *, as_result: bool) -> None:
        self.coordinate = coordinate
        self.as_result = as_result

    def refusal(self, info: Any) -> object | None:
        actor = getattr(info.context, "actor", ANONYMOUS)
        refused = decide(actor, self.coordinate)
        if refused is None:
            return None
        if self.as_result:
            return error_result(refused)
        raise query_error(refused)

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        refused = self.refusal(info)
        if refused is not None:
            return refused
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        refused = self.refusal(info)
        if refused is not None:
            return refused
        result = next_(source, info, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def coordinate_of(type_name: str, field: StrawberryField) -> str:
    return f"{type_name}.{field.graphql_name or to_camel_case(field.python_name)}"


def _returns_forbidden_error(field: StrawberryField) -> bool:
    return ForbiddenError in getattr(field.type, "types", ())


def guard_root_fields(*root_types: type) -> None:
    """Put a PolicyGuard on each field of the root types (once: building again is harmless)."""
    for root_type in root_types:
        definition = root_type.__strawberry_definition__  # type: ignore[attr-defined]
        for field in definition.fields:
            if any(isinstance(extension, PolicyGuard) for extension in field.extensions):
                continue
            field.extensions.append(
                PolicyGuard(
                    coordinate_of(definition.name, field),
                    as_result=_returns_forbidden_error(field),
                )
            )


def security_extensions(*root_types: type) -> list[Callable[[], SchemaExtension]]:
    """Guard the root fields; the schema extensions for limits and production hardening."""
    guard_root_fields(*root_types)
    return [OperationLimits]
