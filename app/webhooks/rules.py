"""The rules of webhook endpoints: who manages them, what each receives, valid input.

An endpoint receives exactly what its organisation may read from the `events` stream
(``endpoint_audiences``, the same rule as app.resolvers.events.visible_audiences), narrowed to
its event types; events about webhooks themselves only when it names them, so a failing
endpoint's failure events do not pile up behind it on the endpoints of the same organisation.
"""

from __future__ import annotations

import secrets

from app.auth.policy import Permission, permissions
from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import OrganizationKind
from app.models.webhooks import WebhookEndpointStatus
from app.services.events import OPERATOR, PUBLIC, buyer_audience, client_audience
from app.webhooks.addresses import AddressRefused, check_literal_host, check_url

SECRET_PREFIX = "whsec_"
MAX_EVENT_TYPES = 50
MAX_DESCRIPTION = 200
WEBHOOK_EVENTS = "webhook."
"""Events about webhooks themselves go to an endpoint only when its types name them."""

TRANSITIONS: dict[WebhookEndpointStatus, frozenset[WebhookEndpointStatus]] = {
    WebhookEndpointStatus.ACTIVE: frozenset({WebhookEndpointStatus.DISABLED}),
    WebhookEndpointStatus.DISABLED: frozenset({WebhookEndpointStatus.ACTIVE}),
}


def endpoint_audiences(kind: OrganizationKind, organization_id: int) -> frozenset[str] | None:
    """What an organisation's endpoint may receive: the `events` stream's rule for that
    organisation (operators: everything; a buyer: public and its own; a client: its own)."""
    match kind:
        case OrganizationKind.OPERATOR:
            return None
        case OrganizationKind.BUYER:
            return frozenset({PUBLIC, buyer_audience(organization_id)})
        case OrganizationKind.CLIENT:
            return frozenset({client_audience(organization_id)})
    return frozenset({PUBLIC})  # pragma: no cover - every kind is matched above


def owner_audiences(kind: OrganizationKind, organization_id: int) -> list[str]:
    """Who sees the events about an endpoint: its organisation (and operators)."""
    match kind:
        case OrganizationKind.BUYER:
            return [buyer_audience(organization_id)]
        case OrganizationKind.CLIENT:
            return [client_audience(organization_id)]
        case _:
            return [OPERATOR]


def wants(event_types: list[str], event_type: str) -> bool:
    """Whether an endpoint with these types gets an event of this type."""
    if event_types:
        return event_type in event_types
    return not event_type.startswith(WEBHOOK_EVENTS)


def require_manager(actor: Actor) -> None:
    """Admins, operator keys with WRITE, and the people and keys of a buyer or a client."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to do this.")
    if Permission.MANAGE_WEBHOOKS in permissions(actor):
        return
    partner = actor.organization_kind in (OrganizationKind.BUYER, OrganizationKind.CLIENT)
    if partner and actor.organization_id is not None:
        return
    raise DomainError(
        ErrorCode.FORBIDDEN,
        "Your role does not allow this.",
        permission=Permission.MANAGE_WEBHOOKS.value,
    )


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def clean_url(url: str, *, allow_private: bool) -> str:
    try:
        cleaned = check_url(url)
        check_literal_host(cleaned, allow_private=allow_private)
    except AddressRefused as refused:
        raise DomainError(ErrorCode.INVALID_INPUT, str(refused), field="url") from None
    return cleaned


def clean_event_types(event_types: list[str] | None) -> list[str]:
    names = sorted({name.strip() for name in event_types or []})
    if len(names) > MAX_EVENT_TYPES or any(not 0 < len(name) <= 64 for name in names):
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"eventTypes takes at most {MAX_EVENT_TYPES} names of 1 to 64 characters.",
            field="eventTypes",
        )
    return names


def clean_description(description: str | None) -> str:
    cleaned = (description or "").strip()
    if len(cleaned) > MAX_DESCRIPTION:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"A description has at most {MAX_DESCRIPTION} characters.",
            field="description",
        )
    return cleaned
