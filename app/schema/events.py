"""The event log as the API shows it: the change stream for partners and operations.

An event shows who did it (``actor``) to operators only; its audiences are never shown. The
type is built from the shared record the hub hands out, so a delivered event costs no query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from app.pubsub.log import EventRecord


@strawberry.type(description="One committed change, in log order.")
class Event:
    cursor: str = strawberry.field(
        description="Opaque position in the log: pass it as `after` to resume right after this "
        "event, with the `events` subscription or the `events` query."
    )
    type: str = strawberry.field(description='What happened, e.g. "device.received".')
    entity_type: str = strawberry.field(description='The changed entity\'s type, e.g. "Device".')
    entity_id: strawberry.ID = strawberry.field(description="The changed entity's global id.")
    entity_version: int = strawberry.field(description="The entity's version after the change.")
    occurred_at: datetime
    actor: str | None = strawberry.field(
        description='Who made the change, e.g. "user:12"; operators only, null for others.'
    )
    changes: JSON = strawberry.field(
        description="The changed fields (camelCase) and the new status."
    )

    @classmethod
    def from_record(cls, record: EventRecord, *, show_actor: bool) -> Self:
        return cls(
            cursor=record.cursor.encode(),
            type=record.type,
            entity_type=record.entity_type,
            entity_id=strawberry.ID(str(relay.GlobalID(record.entity_type, str(record.entity_id)))),
            entity_version=record.entity_version,
            occurred_at=record.occurred_at,
            actor=record.actor if show_actor else None,
            changes=JSON(record.changes),
        )


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type(description="A page of the event log, oldest first.")
class EventConnection:
    edges: list[EventEdge]
    page_info: relay.PageInfo = strawberry.field(
        description="`endCursor` is where to resume: the last event's cursor, or for an empty "
        "page the `after` given (or the start of the log), so it is never null."
    )


def event_connection(
    records: list[EventRecord], *, show_actor: bool, has_next: bool, after: str | None, start: str
) -> EventConnection:
    edges = [
        EventEdge(
            cursor=record.cursor.encode(), node=Event.from_record(record, show_actor=show_actor)
        )
        for record in records
    ]
    return EventConnection(
        edges=edges,
        page_info=relay.PageInfo(
            has_next_page=has_next,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else (after or start),
        ),
    )
