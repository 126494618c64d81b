"""The JSON body of a webhook request: one event, as the `events` query shows it."""

from __future__ import annotations

import json
from typing import Any

from strawberry import relay

from app.pubsub.log import EventRecord


def format_event_id(log_id: int) -> str:
    return f"evt_{log_id}"


def event_id(record: EventRecord) -> str:
    """The event's id, the same in every delivery of it (a retry, a replay): receivers drop
    the duplicates by it."""
    return format_event_id(record.id)


def event_body(record: EventRecord) -> bytes:
    body: dict[str, Any] = {
        "id": event_id(record),
        "cursor": record.cursor.encode(),
        "type": record.type,
        "entity": {
            "type": record.entity_type,
            "id": str(relay.GlobalID(record.entity_type, str(record.entity_id))),
            "version": record.entity_version,
        },
        "occurredAt": record.occurred_at.isoformat(),
        "changes": dict(record.changes),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str).encode()
