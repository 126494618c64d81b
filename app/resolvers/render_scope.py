"""What a subscription's renderings depend on besides its operation: the viewer's scope.

Subscribers whose actors have the same scope see the same fields rendered the same way, so
they can share renderings (app.pubsub.render). The scope is everything the permission rules
and the types read from an actor: operator or not, kind, role, organisation and its kind, and
an API key's scopes. Not the user: a type that renders a field per user must put the user in
its values' ``render_key`` (or set none).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from app.domain.actors import Actor
from app.pubsub.render import GroupScope, RenderGroups


def viewer_scope(actor: Actor) -> Hashable:
    """What the types and rules read from an actor: answers for equal scopes are equal."""
    return (
        actor.kind,
        actor.is_operator,
        actor.role,
        actor.organization_id,
        actor.organization_kind,
        actor.scopes,
    )


def rendering_scope(context: Any) -> GroupScope | None:
    """The scope of a subscriber's context; None to render for it alone (grouping is off)."""
    runtime = getattr(context, "runtime", None)
    actor = getattr(context, "actor", None)
    if runtime is None or not isinstance(actor, Actor):
        return None
    settings = runtime.settings
    if not settings.subscription_grouping:
        return None
    # The hub by identity: renderings of one app's values stay in that app.
    key = (runtime.hub, viewer_scope(actor))
    return GroupScope(key=key, renderings=settings.subscription_renderings_per_group)


def subscription_render_groups() -> RenderGroups:
    """The render groups of a schema (one per schema built)."""
    return RenderGroups(rendering_scope)
