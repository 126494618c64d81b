"""Webhook endpoints and their delivery log: thin resolvers over app.services.webhooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from app.domain.errors import DomainError, ErrorCode
from app.models.webhooks import WebhookEndpoint as EndpointRow
from app.pubsub.cursors import Cursor, InvalidCursor, decode_cursor
from app.resolvers.ids import parse_id
from app.runtime import Runtime
from app.schema.errors import error_result, query_error
from app.schema.pagination import decode_cursor as decode_page_cursor
from app.schema.pagination import encode_cursor, page_info, page_size
from app.schema.webhooks import (
    DisableWebhookEndpointResult,
    EnableWebhookEndpointResult,
    RegisterWebhookEndpointInput,
    RegisterWebhookEndpointResult,
    ReplayWebhookEndpointInput,
    ReplayWebhookEndpointResult,
    RotateWebhookSecretResult,
    UpdateWebhookEndpointInput,
    UpdateWebhookEndpointResult,
    WebhookDelivery,
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookEndpoint,
    WebhookEndpointActionInput,
    WebhookEndpointConnection,
    WebhookEndpointEdge,
    WebhookEndpointPayload,
    WebhookSecretPayload,
)
from app.services import webhooks as service


def _log_cursor(raw: str, field: str) -> Cursor:
    try:
        return decode_cursor(raw)
    except InvalidCursor:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The cursor is not one this API gave.", field=field
        ) from None


def _endpoint_id(raw: strawberry.ID) -> int:
    return parse_id(raw, "endpointId", type_name="WebhookEndpoint") or 0


async def _endpoint_result(
    action: Callable[[], Awaitable[EndpointRow]],
) -> WebhookEndpointPayload | object:
    try:
        row = await action()
    except DomainError as error:
        return error_result(error)
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row))


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="Webhook endpoints, newest first: admins see every organisation's, a "
        "buyer or a client its own."
    )
    async def webhook_endpoints(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> WebhookEndpointConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            async with info.context.sessions() as session:
                page = await service.list_endpoints(
                    session, actor=info.context.actor, after=decode_page_cursor(after), limit=limit
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            WebhookEndpointEdge(cursor=encode_cursor(key), node=WebhookEndpoint.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return WebhookEndpointConnection(
            edges=edges,
            page_info=page_info(
                [edge.cursor for edge in edges], has_next=page.has_next, has_previous=bool(after)
            ),
            total_count=page.total,
        )

    @strawberry.field(
        description="An endpoint's deliveries, newest first: attempts, status, the last "
        "error and the next try. Failures also appear in the `events` log "
        "(webhook.delivery_failed, webhook.endpoint_disabled)."
    )
    async def webhook_deliveries(
        self,
        info: strawberry.Info,
        endpoint_id: strawberry.ID,
        first: int | None = None,
        after: str | None = None,
    ) -> WebhookDeliveryConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            async with info.context.sessions() as session:
                page = await service.list_deliveries(
                    session,
                    actor=info.context.actor,
                    endpoint_id=_endpoint_id(endpoint_id),
                    after=decode_page_cursor(after),
                    limit=limit,
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            WebhookDeliveryEdge(cursor=encode_cursor(key), node=WebhookDelivery.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return WebhookDeliveryConnection(
            edges=edges,
            page_info=page_info(
                [edge.cursor for edge in edges], has_next=page.has_next, has_previous=bool(after)
            ),
            total_count=page.total,
        )


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="A new webhook endpoint for your organisation (admins: any). It gets every "
        "event after `after` (default: from now) that the organisation may see, in order. "
        "The result holds the signing secret once."
    )
    async def register_webhook_endpoint(
        self, info: strawberry.Info, input: RegisterWebhookEndpointInput
    ) -> RegisterWebhookEndpointResult:
        runtime: Runtime = info.context.runtime
        try:
            start = (
                _log_cursor(input.after, "after")
                if input.after is not None
                else await runtime.event_log.head()
            )
            created = await service.register_endpoint(
                info.context.sessions,
                actor=info.context.actor,
                url=input.url,
                start=start,
                event_types=input.event_types,
                description=input.description,
                organization_id=parse_id(
                    input.organization_id, "organizationId", type_name="Organization"
                ),
                allow_private=runtime.settings.webhook_allow_private,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return WebhookSecretPayload(
            endpoint=WebhookEndpoint.from_row(created.endpoint), secret=created.secret
        )

    @strawberry.mutation(description="Change an endpoint's URL, event types or description.")
    async def update_webhook_endpoint(
        self, info: strawberry.Info, input: UpdateWebhookEndpointInput
    ) -> UpdateWebhookEndpointResult:
        return await _endpoint_result(  # type: ignore[return-value]
            lambda: service.update_endpoint(
                info.context.sessions,
                actor=info.context.actor,
                endpoint_id=_endpoint_id(input.endpoint_id),
                url=input.url,
                event_types=input.event_types,
                description=input.description,
                allow_private=info.context.runtime.settings.webhook_allow_private,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        )

    @strawberry.mutation(description="Stop delivering to an endpoint (ACTIVE -> DISABLED).")
    async def disable_webhook_endpoint(
        self, info: strawberry.Info, input: WebhookEndpointActionInput
    ) -> DisableWebhookEndpointResult:
        return await _endpoint_result(  # type: ignore[return-value]
            lambda: service.disable_endpoint(
                info.context.sessions,
                actor=info.context.actor,
                endpoint_id=_endpoint_id(input.endpoint_id),
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        )

    @strawberry.mutation(
        description="Deliver again (DISABLED -> ACTIVE), from the event it stopped at."
    )
    async def enable_webhook_endpoint(
        self, info: strawberry.Info, input: WebhookEndpointActionInput
    ) -> EnableWebhookEndpointResult:
        return await _endpoint_result(  # type: ignore[return-value]
            lambda: service.enable_endpoint(
                info.context.sessions,
                actor=info.context.actor,
                endpoint_id=_endpoint_id(input.endpoint_id),
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        )

    @strawberry.mutation(
        description="Move an endpoint's cursor: everything after `after` is sent again, with "
        "the same event ids, so receivers can drop what they already have."
    )
    async def replay_webhook_endpoint(
        self, info: strawberry.Info, input: ReplayWebhookEndpointInput
    ) -> ReplayWebhookEndpointResult:
        async def action() -> EndpointRow:
            return await service.replay_endpoint(
                info.context.sessions,
                actor=info.context.actor,
                endpoint_id=_endpoint_id(input.endpoint_id),
                after=_log_cursor(input.after, "after"),
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )

        return await _endpoint_result(action)  # type: ignore[return-value]

    @strawberry.mutation(
        description="A new signing secret, used from the next request on; shown once."
    )
    async def rotate_webhook_secret(
        self, info: strawberry.Info, input: WebhookEndpointActionInput
    ) -> RotateWebhookSecretResult:
        try:
            rotated = await service.rotate_secret(
                info.context.sessions,
                actor=info.context.actor,
                endpoint_id=_endpoint_id(input.endpoint_id),
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return WebhookSecretPayload(
            endpoint=WebhookEndpoint.from_row(rotated.endpoint), secret=rotated.secret
        )
