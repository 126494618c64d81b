"""Webhook endpoints: register, change, disable and enable, replay from a cursor, rotate the
secret; and who may see which endpoint and which events it gets.

Admins (and operator keys with WRITE) manage any organisation's endpoints; a buyer's or a
client's people and keys manage their own organisation's. An endpoint receives exactly what
its organisation may read from the `events` stream (app.webhooks.rules), narrowed to its
event types. Secrets sign requests, so they are stored; the API shows one only when it is made
(registration, rotation). The delivery itself is app.tasks.webhook_delivery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.policy import Permission, permissions
from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.transitions import ensure_version
from app.models import Organization
from app.models.base import utcnow
from app.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEndpointStatus
from app.pubsub.cursors import Cursor
from app.services.common import lock, record, transition
from app.services.idempotency import run_once
from app.services.paging import Page, paginate
from app.webhooks.rules import (
    TRANSITIONS,
    clean_description,
    clean_event_types,
    clean_url,
    new_secret,
    owner_audiences,
    require_manager,
)


def visible_endpoints(actor: Actor) -> Select[WebhookEndpoint]:
    require_manager(actor)
    statement = select(WebhookEndpoint)
    if Permission.MANAGE_WEBHOOKS in permissions(actor):
        return statement
    return statement.where(WebhookEndpoint.organization_id == (actor.organization_id or 0))


def _changes(endpoint: WebhookEndpoint, **extra: Any) -> dict[str, Any]:
    """An endpoint's event: never its secret."""
    return {
        "organizationId": endpoint.organization_id,
        "url": endpoint.url,
        "eventTypes": list(endpoint.event_types),
        "status": endpoint.status,
        **extra,
    }


async def _record(
    session: AsyncSession, endpoint: WebhookEndpoint, kind: str, actor: Actor, **extra: Any
) -> None:
    organization = await session.get_one(Organization, endpoint.organization_id)
    await record(
        session,
        endpoint,
        f"webhook.{kind}",
        actor=actor,
        audiences=owner_audiences(organization.kind, organization.id),
        changes=_changes(endpoint, **extra),
    )


async def _locked(session: AsyncSession, endpoint_id: int, actor: Actor) -> WebhookEndpoint:
    """The endpoint under its row lock, if the actor may manage it (else NOT_FOUND)."""
    endpoint = await lock(session, WebhookEndpoint, endpoint_id, field="endpointId")
    if Permission.MANAGE_WEBHOOKS not in permissions(actor) and (
        endpoint.organization_id != actor.organization_id
    ):
        raise DomainError(
            ErrorCode.NOT_FOUND, "No webhook endpoint has that id.", field="endpointId"
        )
    return endpoint


Change = Callable[[AsyncSession, WebhookEndpoint], Awaitable[None]]


async def _change(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    endpoint_id: int,
    operation: str,
    request: dict[str, Any],
    key: str | None,
    expected_version: int | None,
    change: Change,
) -> WebhookEndpoint:
    require_manager(actor)

    async def work(session: AsyncSession) -> dict[str, Any]:
        endpoint = await _locked(session, endpoint_id, actor)
        ensure_version(entity="WebhookEndpoint", expected=expected_version, actual=endpoint.version)
        await change(session, endpoint)
        return {"endpointId": endpoint.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=key,
        operation=operation,
        request={"endpointId": endpoint_id, "expectedVersion": expected_version, **request},
        work=work,
    )
    async with sessions() as session:
        return await session.get_one(WebhookEndpoint, int(result["endpointId"]))


@dataclass(frozen=True, slots=True)
class WithSecret:
    endpoint: WebhookEndpoint
    secret: str
    """Shown to the caller once: it signs every request to the endpoint."""


async def register_endpoint(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    url: str,
    start: Cursor,
    event_types: list[str] | None = None,
    description: str | None = None,
    organization_id: int | None = None,
    allow_private: bool = False,
    idempotency_key: str | None = None,
) -> WithSecret:
    """A new ACTIVE endpoint that gets every event after ``start`` its organisation may see.

    The organisation is the caller's; an admin may name another one.
    """
    require_manager(actor)
    cleaned_url = clean_url(url, allow_private=allow_private)
    types = clean_event_types(event_types)
    cleaned_description = clean_description(description)
    owner = organization_id if organization_id is not None else actor.organization_id
    if owner != actor.organization_id and Permission.MANAGE_WEBHOOKS not in permissions(actor):
        raise DomainError(
            ErrorCode.FORBIDDEN,
            "Only admins register endpoints for another organisation.",
            field="organizationId",
        )
    if owner is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "Name the endpoint's organisation.", field="organizationId"
        )

    async def work(session: AsyncSession) -> dict[str, Any]:
        organization = await session.get(Organization, owner)
        if organization is None:
            raise DomainError(
                ErrorCode.NOT_FOUND, "No organisation has that id.", field="organizationId"
            )
        endpoint = WebhookEndpoint(
            organization_id=organization.id,
            created_by=actor.ref,
            url=cleaned_url,
            description=cleaned_description,
            event_types=types,
            secret=new_secret(),
            status=WebhookEndpointStatus.ACTIVE,
            cursor_txid=start.txid,
            cursor_id=start.id,
            consecutive_failures=0,
        )
        session.add(endpoint)
        await _record(session, endpoint, "endpoint_registered", actor, after=start.encode())
        return {"endpointId": endpoint.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="registerWebhookEndpoint",
        request={
            "url": cleaned_url,
            "eventTypes": types,
            "description": cleaned_description,
            "organizationId": owner,
        },
        work=work,
    )
    async with sessions() as session:
        endpoint = await session.get_one(WebhookEndpoint, int(result["endpointId"]))
    return WithSecret(endpoint=endpoint, secret=endpoint.secret)


async def update_endpoint(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    endpoint_id: int,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    allow_private: bool = False,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> WebhookEndpoint:
    """Change the URL, the event types or the description; what is left out stays."""
    cleaned_url = clean_url(url, allow_private=allow_private) if url is not None else None
    types = clean_event_types(event_types) if event_types is not None else None
    cleaned_description = clean_description(description) if description is not None else None

    async def change(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
        if cleaned_url is not None:
            endpoint.url = cleaned_url
        if types is not None:
            endpoint.event_types = types
        if cleaned_description is not None:
            endpoint.description = cleaned_description
        await _record(session, endpoint, "endpoint_updated", actor)

    return await _change(
        sessions,
        actor=actor,
        endpoint_id=endpoint_id,
        operation="updateWebhookEndpoint",
        request={"url": cleaned_url, "eventTypes": types, "description": cleaned_description},
        key=idempotency_key,
        expected_version=expected_version,
        change=change,
    )


async def disable_endpoint(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    endpoint_id: int,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> WebhookEndpoint:
    """ACTIVE -> DISABLED: nothing more is sent until it is enabled again."""

    async def change(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
        transition(endpoint, TRANSITIONS, WebhookEndpointStatus.DISABLED)
        endpoint.disabled_at = utcnow()
        endpoint.disabled_reason = f"Disabled by {actor.ref}."
        await _record(
            session, endpoint, "endpoint_disabled", actor, reason=endpoint.disabled_reason
        )

    return await _change(
        sessions,
        actor=actor,
        endpoint_id=endpoint_id,
        operation="disableWebhookEndpoint",
        request={},
        key=idempotency_key,
        expected_version=expected_version,
        change=change,
    )


async def enable_endpoint(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    endpoint_id: int,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> WebhookEndpoint:
    """DISABLED -> ACTIVE: delivery resumes at once from the endpoint's cursor."""

    async def change(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
        transition(endpoint, TRANSITIONS, WebhookEndpointStatus.ACTIVE)
        endpoint.disabled_at = None
        endpoint.disabled_reason = None
        endpoint.consecutive_failures = 0
        endpoint.failing_since = None
        endpoint.next_attempt_at = None
        await _record(session, endpoint, "endpoint_enabled", actor)

    return await _change(
        sessions,
        actor=actor,
        endpoint_id=endpoint_id,
        operation="enableWebhookEndpoint",
        request={},
        key=idempotency_key,
        expected_version=expected_version,
        change=change,
    )


async def replay_endpoint(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    endpoint_id: int,
    after: Cursor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> WebhookEndpoint:
    """Move the endpoint's cursor to ``after``: what follows is sent again, with the same
    event ids (receivers drop what they already have). A later cursor skips events."""

    async def change(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
        endpoint.cursor_txid = after.txid
        endpoint.cursor_id = after.id
        endpoint.next_attempt_at = None
        await _record(session, endpoint, "endpoint_replayed", actor, after=after.encode())

    return await _change(
        sessions,
        actor=actor,
        endpoint_id=endpoint_id,
        operation="replayWebhookEndpoint",
        request={"after": after.encode()},
        key=idempotency_key,
        expected_version=expected_version,
        change=change,
    )


async def rotate_secret(
    sessions: async_sessionmaker[AsyncSession],
    *,
    actor: Actor,
    endpoint_id: int,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> WithSecret:
    """A new secret signs every request from now on; the old one stops at once."""

    async def change(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
        endpoint.secret = new_secret()
        await _record(session, endpoint, "secret_rotated", actor)

    endpoint = await _change(
        sessions,
        actor=actor,
        endpoint_id=endpoint_id,
        operation="rotateWebhookSecret",
        request={},
        key=idempotency_key,
        expected_version=expected_version,
        change=change,
    )
    return WithSecret(endpoint=endpoint, secret=endpoint.secret)


async def list_endpoints(
    session: AsyncSession, *, actor: Actor, after: list[object] | None, limit: int
) -> Page[WebhookEndpoint]:
    """Endpoints the actor may see, newest first."""
    return await paginate(
        session,
        visible_endpoints(actor),
        id_column=WebhookEndpoint.id,
        descending=True,
        after=after,
        limit=limit,
    )


async def list_deliveries(
    session: AsyncSession,
    *,
    actor: Actor,
    endpoint_id: int,
    after: list[object] | None,
    limit: int,
) -> Page[WebhookDelivery]:
    """One endpoint's deliveries, newest first (NOT_FOUND for an endpoint not visible)."""
    visible = visible_endpoints(actor).where(WebhookEndpoint.id == endpoint_id)
    if await session.scalar(visible) is None:
        raise DomainError(
            ErrorCode.NOT_FOUND, "No webhook endpoint has that id.", field="endpointId"
        )
    return await paginate(
        session,
        select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id),
        id_column=WebhookDelivery.id,
        descending=True,
        after=after,
        limit=limit,
    )
