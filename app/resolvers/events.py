"""The change stream: the `events` subscription, and the same log as a paged `events` query.

Both require someone signed in, show each actor only the events addressed to one of its
audiences (operators: all; a buyer organisation: "public" and its own; a client organisation:
its own), and share cursors: a page's cursor resumes the stream and the other way round.
The subscription registers with the hub, backfills after `after`, then streams live
(app.pubsub.stream): every event once, in order. Per event it costs no query: the hub hands
out shared records and authorization is a set check. Subscribers get one shared ``Event`` per
record and actor visibility, keyed for rendering (app.pubsub.render) as plain data, so an
event is rendered and encoded once for all subscribers of the same operation and variables
(twice when some of them see its actor), whatever organisation they belong to.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncGenerator, Hashable
from contextlib import aclosing
from weakref import WeakKeyDictionary

import strawberry

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.pubsub.cursors import START, Cursor, InvalidCursor, decode_cursor
from app.pubsub.direct import current_lane
from app.pubsub.hub import Hub
from app.pubsub.log import EventFilter, EventRecord
from app.pubsub.render import keyed
from app.pubsub.stream import StreamEnded, event_stream
from app.resolvers.ids import parse_id
from app.resolvers.live_common import current_actor
from app.runtime import Runtime
from app.schema.errors import PublicError, query_error
from app.schema.events import Event, EventConnection, event_connection
from app.schema.pagination import page_size
from app.services.events import PUBLIC, buyer_audience, client_audience

MAX_TYPES = 50
SHARED_EVENTS = 256
"""Recent events kept to hand the same ``Event`` to every subscriber of a record."""

_shared_events: WeakKeyDictionary[Hub, OrderedDict[Hashable, Event]] = WeakKeyDictionary()
"""Per process hub (one per app), so two apps in one process never mix their logs."""


def shared_event(hub: Hub, record: EventRecord, *, show_actor: bool) -> Event:
    """The one ``Event`` of ``record`` for all subscribers that see (or not) its actor, with
    ``render_key`` (hub, cursor, show_actor): its rendering depends on nothing else."""
    events = _shared_events.get(hub)
    if events is None:
        events = _shared_events[hub] = OrderedDict()
    key = (record.cursor, show_actor)
    event = events.get(key)
    if event is None:
        # Plain data: one rendering serves every viewer scope (the hub keeps apps apart).
        event = Event.from_record(record, show_actor=show_actor)
        event = keyed(event, (hub, *key), any_viewer=True)
        events[key] = event
        if len(events) > SHARED_EVENTS:
            events.popitem(last=False)
    return event


def visible_audiences(actor: Actor) -> frozenset[str] | None:
    """The audiences an actor may see; None for everything (operators)."""
    if actor.kind is ActorKind.ANONYMOUS:
        return frozenset({PUBLIC})
    if actor.is_operator:
        return None
    organization = actor.organization_id
    if organization is not None and actor.is_buyer:
        return frozenset({PUBLIC, buyer_audience(organization)})
    if organization is not None and actor.is_client:
        return frozenset({client_audience(organization)})
    return frozenset({PUBLIC})


def _require_signed_in(actor: Actor) -> None:
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to read the event log.")


def _cursor(after: str | None) -> Cursor | None:
    if after is None:
        return None
    try:
        return decode_cursor(after)
    except InvalidCursor:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "The cursor is not one this API gave.", field="after"
        ) from None


def _event_filter(
    actor: Actor, types: list[str] | None, entity_type: str | None, entity_id: str | None
) -> EventFilter:
    if types is not None and (len(types) > MAX_TYPES or any(len(t) > 64 for t in types)):
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"types takes at most {MAX_TYPES} names.", field="types"
        )
    if entity_type is not None and not 0 < len(entity_type) <= 32:
        raise DomainError(ErrorCode.INVALID_INPUT, "entityType is not valid.", field="entityType")
    entity = None
    if entity_id is not None:
        raw = str(entity_id).strip()
        if entity_type is None:
            if raw.isdigit():
                raise DomainError(
                    ErrorCode.INVALID_INPUT,
                    "A plain numeric entityId needs entityType.",
                    field="entityId",
                )
            entity_type = _global_type(raw)
        entity = parse_id(raw, "entityId", type_name=entity_type)
    return EventFilter(
        audiences=visible_audiences(actor),
        types=frozenset(types) if types is not None else None,
        entity_type=entity_type,
        entity_id=entity,
    )


def _global_type(raw: str) -> str:
    from strawberry.relay import GlobalID

    try:
        return GlobalID.from_id(raw).type_name
    except Exception:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "entityId is not a valid id.", field="entityId"
        ) from None


@strawberry.type
class EventQueries:
    @strawberry.field(
        description="The event log a page at a time, oldest first, with the cursors of the "
        "`events` subscription. Operators see every event; others those addressed to them."
    )
    async def events(
        self,
        info: strawberry.Info,
        after: str | None = None,
        first: int | None = None,
        types: list[str] | None = None,
        entity_type: str | None = None,
        entity_id: strawberry.ID | None = None,
    ) -> EventConnection:
        runtime: Runtime = info.context.runtime
        actor: Actor = info.context.actor
        try:
            _require_signed_in(actor)
            event_filter = _event_filter(actor, types, entity_type, entity_id)
            cursor = _cursor(after) or START
            limit = page_size(first, runtime.settings.page_size_max)
        except DomainError as error:
            raise query_error(error) from error
        page = await runtime.event_log.read(cursor, limit, event_filter)
        return event_connection(
            page.records,
            show_actor=actor.is_operator,
            has_next=page.has_more,
            after=after,
            start=START.encode(),
        )


@strawberry.type
class EventSubscriptions:
    @strawberry.subscription(
        description="Every committed change you may see, once, in order. With `after` (a "
        "cursor from this stream or the `events` query) it first sends what came after it. "
        "A subscriber that falls too far behind gets an error with extensions.code LAGGED "
        "and extensions.cursor, the last event it was sent: resume with `after` set to it."
    )
    async def events(
        self,
        info: strawberry.Info,
        after: str | None = None,
        types: list[str] | None = None,
        entity_type: str | None = None,
        entity_id: strawberry.ID | None = None,
    ) -> AsyncGenerator[Event, None]:
        # Not a generator itself: a refusal here is the operation's `error` message.
        try:
            actor = await current_actor(info.context)
            _require_signed_in(actor)
            event_filter = _event_filter(actor, types, entity_type, entity_id)
            cursor = _cursor(after)
        except DomainError as error:
            raise query_error(error) from error
        return _deliver(info.context.runtime, event_filter, cursor, show_actor=actor.is_operator)


async def _deliver(
    runtime: Runtime, event_filter: EventFilter, after: Cursor | None, *, show_actor: bool
) -> AsyncGenerator[Event, None]:
    stream = event_stream(
        hub=runtime.hub,
        event_log=runtime.event_log,
        tail=runtime.tail,
        event_filter=event_filter,
        after=after,
    )
    lane = current_lane()
    try:
        async with aclosing(stream):
            async for record in stream:
                event = shared_event(runtime.hub, record, show_actor=show_actor)
                if lane is None or not await lane.send(event):
                    yield event
    except StreamEnded as ended:
        raise PublicError(
            ended.code,
            str(ended),
            cursor=ended.cursor.encode() if ended.cursor is not None else START.encode(),
        ) from None
