"""What one delivery attempt writes: the delivery row, the endpoint's cursor and failure
streak, and (on failure) the events that say so. Each function is one short transaction.

The worker writes with plain UPDATE statements: the cursor and the streak are bookkeeping and
do not bump the endpoint's version (a person's ``expectedVersion`` stays valid); disabling it
does, since its status changes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import OrganizationKind
from app.models import Organization
from app.models.base import utcnow
from app.models.webhooks import (
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointStatus,
)
from app.pubsub.cursors import Cursor
from app.pubsub.log import EventRecord
from app.services.events import append_event
from app.webhooks.payload import event_id
from app.webhooks.rules import owner_audiences

ACTOR = "system:webhooks"
MAX_ERROR = 1000


@dataclass(frozen=True, slots=True)
class Target:
    """An endpoint as the worker sees it while it holds the lease."""

    id: int
    organization_id: int
    organization_kind: OrganizationKind
    url: str
    secret: str
    event_types: list[str]
    cursor: Cursor
    version: int
    consecutive_failures: int
    failing_since: datetime | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the receiver answered: a status, or the error that stopped the request."""

    status: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        if self.error is not None:
            return self.error[:MAX_ERROR]
        return f"HTTP {self.status}"


def backoff(failures: int, *, initial: float, maximum: float) -> float:
    """Seconds before the next try after ``failures`` failures in a row: doubling from
    ``initial``, capped at ``maximum``, less up to a quarter at random (so endpoints that
    failed together do not retry together)."""
    base = min(maximum, initial * 2.0 ** min(failures - 1, 40))
    return float(base * (0.75 + 0.25 * random.random()))


def _this_lease(target_id: int, owner: str) -> Any:
    return and_(WebhookEndpoint.id == target_id, WebhookEndpoint.lease_owner == owner)


async def claim(
    sessions: async_sessionmaker[AsyncSession], endpoint_id: int, owner: str, lease: timedelta
) -> bool:
    """Take the endpoint's lease if nobody holds it: one conditional UPDATE, so of several
    processes at most one delivers to an endpoint at a time."""
    now = utcnow()
    async with sessions.begin() as session:
        result = await session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.id == endpoint_id,
                WebhookEndpoint.status == WebhookEndpointStatus.ACTIVE,
                or_(WebhookEndpoint.leased_until.is_(None), WebhookEndpoint.leased_until < now),
            )
            .values(leased_until=now + lease, lease_owner=owner)
            .execution_options(synchronize_session=False)
        )
    return bool(getattr(result, "rowcount", 0))


async def release(sessions: async_sessionmaker[AsyncSession], endpoint_id: int, owner: str) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(_this_lease(endpoint_id, owner))
            .values(leased_until=None, lease_owner=None)
            .execution_options(synchronize_session=False)
        )


async def load_target(
    sessions: async_sessionmaker[AsyncSession], endpoint_id: int
) -> Target | None:
    async with sessions() as session:
        row = (
            await session.execute(
                select(WebhookEndpoint, Organization.kind)
                .join(Organization, Organization.id == WebhookEndpoint.organization_id)
                .where(
                    WebhookEndpoint.id == endpoint_id,
                    WebhookEndpoint.status == WebhookEndpointStatus.ACTIVE,
                )
            )
        ).first()
    if row is None:
        return None
    endpoint, kind = row
    return Target(
        id=endpoint.id,
        organization_id=endpoint.organization_id,
        organization_kind=kind,
        url=endpoint.url,
        secret=endpoint.secret,
        event_types=list(endpoint.event_types),
        cursor=Cursor(endpoint.cursor_txid, endpoint.cursor_id),
        version=endpoint.version,
        consecutive_failures=endpoint.consecutive_failures,
        failing_since=endpoint.failing_since,
    )


async def pending_delivery(
    sessions: async_sessionmaker[AsyncSession], target: Target, record: EventRecord
) -> tuple[int, int]:
    """The PENDING delivery of this event to this endpoint (made if there is none):
    ``(delivery id, attempts so far)``."""
    async with sessions.begin() as session:
        delivery = await session.scalar(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == target.id,
                WebhookDelivery.event_id == record.id,
                WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
            )
            .order_by(WebhookDelivery.id.desc())
            .limit(1)
        )
        if delivery is None:
            delivery = WebhookDelivery(
                endpoint_id=target.id,
                event_id=record.id,
                event_txid=record.cursor.txid,
                event_type=record.type,
                attempts=0,
                status=WebhookDeliveryStatus.PENDING,
            )
            session.add(delivery)
            await session.flush()
        return delivery.id, delivery.attempts


async def advance(
    sessions: async_sessionmaker[AsyncSession],
    target: Target,
    owner: str,
    *,
    to: Cursor,
    lease: timedelta,
    delivered: tuple[int, Outcome] | None = None,
) -> bool:
    """Move the cursor from where the worker read it to ``to`` (recording the delivery that
    got it there). False when the cursor moved meanwhile (a replay), the endpoint was disabled
    or the lease was lost: the worker then stops and reads the endpoint again."""
    now = utcnow()
    async with sessions.begin() as session:
        if delivered is not None:
            delivery_id, outcome = delivered
            await session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id)
                .values(
                    status=WebhookDeliveryStatus.DELIVERED,
                    attempts=WebhookDelivery.attempts + 1,
                    response_status=outcome.status,
                    last_error=None,
                    next_attempt_at=None,
                    delivered_at=now,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        result = await session.execute(
            update(WebhookEndpoint)
            .where(
                _this_lease(target.id, owner),
                WebhookEndpoint.status == WebhookEndpointStatus.ACTIVE,
                WebhookEndpoint.cursor_txid == target.cursor.txid,
                WebhookEndpoint.cursor_id == target.cursor.id,
            )
            .values(
                cursor_txid=to.txid,
                cursor_id=to.id,
                consecutive_failures=0,
                failing_since=None,
                next_attempt_at=None,
                leased_until=now + lease,
            )
            .execution_options(synchronize_session=False)
        )
    return bool(getattr(result, "rowcount", 0))


async def fail(
    sessions: async_sessionmaker[AsyncSession],
    target: Target,
    owner: str,
    *,
    record: EventRecord,
    skipped_to: Cursor,
    delivery_id: int,
    attempts: int,
    outcome: Outcome,
    delay: float,
    disable_after: timedelta,
) -> str:
    """Record a failed attempt: retry the same event after ``delay``, or, once the endpoint
    has been failing for ``disable_after``, disable it. Both say so in the log. Returns
    "retry", "disabled", or "lost" when the endpoint changed meanwhile (nothing written)."""
    now = utcnow()
    failing_since = target.failing_since or now
    disable = now - failing_since >= disable_after
    next_attempt = None if disable else now + timedelta(seconds=delay)
    try:
        return await _fail(
            sessions,
            target,
            owner,
            record=record,
            skipped_to=skipped_to,
            delivery_id=delivery_id,
            attempts=attempts,
            outcome=outcome,
            now=now,
            failing_since=failing_since,
            next_attempt=next_attempt,
            disable_after=disable_after,
        )
    except _Lost:
        return "lost"


class _Lost(Exception):
    """The endpoint's cursor, status or lease changed: the attempt is not recorded."""


async def _fail(
    sessions: async_sessionmaker[AsyncSession],
    target: Target,
    owner: str,
    *,
    record: EventRecord,
    skipped_to: Cursor,
    delivery_id: int,
    attempts: int,
    outcome: Outcome,
    now: datetime,
    failing_since: datetime,
    next_attempt: datetime | None,
    disable_after: timedelta,
) -> str:
    disable = next_attempt is None
    audiences = owner_audiences(target.organization_kind, target.organization_id)
    async with sessions.begin() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(
                status=WebhookDeliveryStatus.FAILED if disable else WebhookDeliveryStatus.PENDING,
                attempts=attempts,
                response_status=outcome.status,
                last_error=outcome.describe(),
                next_attempt_at=next_attempt,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        values: dict[str, Any] = {
            "cursor_txid": skipped_to.txid,
            "cursor_id": skipped_to.id,
            "consecutive_failures": WebhookEndpoint.consecutive_failures + 1,
            "failing_since": failing_since,
            "next_attempt_at": next_attempt,
        }
        version = target.version
        reason = None
        if disable:
            version += 1
            reason = (
                f"Every delivery failed for {disable_after.total_seconds():.0f} s "
                f"(last: {outcome.describe()[:200]})."
            )
            values.update(
                status=WebhookEndpointStatus.DISABLED,
                disabled_reason=reason,
                disabled_at=now,
                version=WebhookEndpoint.version + 1,
                updated_at=now,
            )
        result = await session.execute(
            update(WebhookEndpoint)
            .where(
                _this_lease(target.id, owner),
                WebhookEndpoint.status == WebhookEndpointStatus.ACTIVE,
                WebhookEndpoint.cursor_txid == target.cursor.txid,
                WebhookEndpoint.cursor_id == target.cursor.id,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            raise _Lost
        append_event(
            session,
            type="webhook.delivery_failed",
            entity_type="WebhookEndpoint",
            entity_id=target.id,
            entity_version=version,
            changes={
                "eventId": event_id(record),
                "eventCursor": record.cursor.encode(),
                "eventType": record.type,
                "attempts": attempts,
                "responseStatus": outcome.status,
                "error": outcome.describe(),
                "nextAttemptAt": next_attempt,
            },
            audiences=audiences,
            actor=ACTOR,
        )
        if disable:
            append_event(
                session,
                type="webhook.endpoint_disabled",
                entity_type="WebhookEndpoint",
                entity_id=target.id,
                entity_version=version,
                changes={
                    "organizationId": target.organization_id,
                    "url": target.url,
                    "status": WebhookEndpointStatus.DISABLED,
                    "reason": reason,
                    "failingSince": failing_since,
                },
                audiences=audiences,
                actor=ACTOR,
            )
    return "disabled" if disable else "retry"
