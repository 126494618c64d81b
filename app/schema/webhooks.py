"""Webhook endpoints, their deliveries, and the inputs and results of their mutations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay

from app.models.webhooks import WebhookDeliveryStatus, WebhookEndpointStatus
from app.pubsub.cursors import Cursor
from app.schema.errors import (
    DuplicateDeviceError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotAvailableError,
    NotFoundError,
    StaleError,
)
from app.schema.organizations import Organization
from app.webhooks.payload import format_event_id

if TYPE_CHECKING:
    from app.models.webhooks import WebhookDelivery as DeliveryRow
    from app.models.webhooks import WebhookEndpoint as EndpointRow

strawberry.enum(WebhookEndpointStatus, description="ACTIVE: delivering; DISABLED: stopped.")
strawberry.enum(
    WebhookDeliveryStatus,
    description="PENDING: being tried (with backoff); DELIVERED: acknowledged with a 2xx; "
    "FAILED: given up when the endpoint was disabled.",
)


@strawberry.type(
    description="Where an organisation's events are POSTed, one per request, in log order, "
    "signed with the endpoint's secret (header `DeviceGraph-Signature: t=<unix>,v1=<hex "
    'HMAC-SHA256 of "<t>.<body>">`). The secret is shown only when it is made.'
)
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    event_types: list[str] = strawberry.field(
        description="The event types sent; empty: every event the organisation may see "
        "(webhook.* events only when named)."
    )
    status: WebhookEndpointStatus
    version: int
    cursor: str = strawberry.field(
        description="The last event acknowledged (a cursor of the `events` query and stream)."
    )
    consecutive_failures: int
    failing_since: datetime | None = strawberry.field(
        description="The first failure since the last success; disabled a set time after."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When the blocked event is tried again."
    )
    disabled_reason: str | None
    disabled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    organization_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: EndpointRow) -> Self:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            description=row.description,
            event_types=list(row.event_types),
            status=row.status,
            version=row.version,
            cursor=Cursor(row.cursor_txid, row.cursor_id).encode(),
            consecutive_failures=row.consecutive_failures,
            failing_since=row.failing_since,
            next_attempt_at=row.next_attempt_at,
            disabled_reason=row.disabled_reason,
            disabled_at=row.disabled_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            organization_id=row.organization_id,
        )

    @strawberry.field(description="The organisation whose events it receives.")
    async def organization(self, info: strawberry.Info) -> Organization | None:
        row = await info.context.loaders.organization.load(self.organization_id)
        return Organization.from_row(row) if row is not None else None


@strawberry.type(description="One event sent (or being sent) to one endpoint.")
class WebhookDelivery:
    id: strawberry.ID
    endpoint_id: strawberry.ID
    event_id: str = strawberry.field(
        description="The body's `id` and the `DeviceGraph-Event-Id` header: the same in "
        "every retry and replay of the event."
    )
    event_cursor: str
    event_type: str
    attempts: int
    status: WebhookDeliveryStatus
    response_status: int | None = strawberry.field(
        description="The HTTP status of the last answer."
    )
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: DeliveryRow) -> Self:
        return cls(
            id=strawberry.ID(str(row.id)),
            endpoint_id=strawberry.ID(str(row.endpoint_id)),
            event_id=format_event_id(row.event_id),
            event_cursor=Cursor(row.event_txid, row.event_id).encode(),
            event_type=row.event_type,
            attempts=row.attempts,
            status=row.status,
            response_status=row.response_status,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class WebhookEndpointEdge:
    cursor: str
    node: WebhookEndpoint


@strawberry.type(description="Webhook endpoints, newest first.")
class WebhookEndpointConnection:
    edges: list[WebhookEndpointEdge]
    page_info: relay.PageInfo
    total_count: int


@strawberry.type
class WebhookDeliveryEdge:
    cursor: str
    node: WebhookDelivery


@strawberry.type(description="An endpoint's deliveries, newest first.")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge]
    page_info: relay.PageInfo
    total_count: int


_KEY = "The same key and input return the first result."
_VERSION = "Refused with STALE if the endpoint changed since."


@strawberry.input(description="A new endpoint; the result holds its secret, once.")
class RegisterWebhookEndpointInput:
    url: str = strawberry.field(description="An http(s) URL on a public address.")
    event_types: list[str] | None = strawberry.field(
        default=None, description="Only these event types; none: everything visible."
    )
    description: str | None = None
    organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="Admins only: another organisation's endpoint."
    )
    after: str | None = strawberry.field(
        default=None,
        description="Start after this event cursor (default: the current end of the log).",
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Change an endpoint; what is left out stays.")
class UpdateWebhookEndpointInput:
    endpoint_id: strawberry.ID
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Disable, enable, or rotate the secret of an endpoint.")
class WebhookEndpointActionInput:
    endpoint_id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.input(description="Send again everything after a cursor, with the same event ids.")
class ReplayWebhookEndpointInput:
    endpoint_id: strawberry.ID
    after: str = strawberry.field(description="An event cursor; what follows is sent again.")
    expected_version: int | None = strawberry.field(default=None, description=_VERSION)
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint


@strawberry.type
class WebhookSecretPayload:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(
        description="Signs every request to the endpoint: shown now, never again."
    )


_ERRORS = (
    InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError
)

RegisterWebhookEndpointResult = Annotated[
    WebhookSecretPayload | _ERRORS, strawberry.union("RegisterWebhookEndpointResult")
]
UpdateWebhookEndpointResult = Annotated[
    WebhookEndpointPayload | _ERRORS, strawberry.union("UpdateWebhookEndpointResult")
]
DisableWebhookEndpointResult = Annotated[
    WebhookEndpointPayload | _ERRORS, strawberry.union("DisableWebhookEndpointResult")
]
EnableWebhookEndpointResult = Annotated[
    WebhookEndpointPayload | _ERRORS, strawberry.union("EnableWebhookEndpointResult")
]
ReplayWebhookEndpointResult = Annotated[
    WebhookEndpointPayload | _ERRORS, strawberry.union("ReplayWebhookEndpointResult")
]
RotateWebhookSecretResult = Annotated[
    WebhookSecretPayload | _ERRORS, strawberry.union("RotateWebhookSecretResult")
]
