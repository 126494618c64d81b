"""Append events to the log inside the caller's transaction.

A rolled-back change leaves no event; a committed one can never lose its event. The session is
marked so that the wake-up hint goes out at commit (see app.pubsub.hints).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.events import Event

OPERATOR = "operator"
PUBLIC = "public"
EVENTS_APPENDED = "devicegraph.events_appended"
EVENTS_PENDING = "devicegraph.events_pending"
"""How many events the session's transaction appended (counted at commit for /metrics)."""


def buyer_audience(organization_id: int) -> str:
    return f"buyer:{organization_id}"


def client_audience(organization_id: int) -> str:
    return f"client:{organization_id}"


def append_event(
    session: AsyncSession,
    *,
    type: str,
    entity_type: str,
    entity_id: int,
    entity_version: int,
    changes: dict[str, Any],
    audiences: list[str],
    actor: str,
) -> Event:
    """Add one event to the session's transaction; it is written when the caller flushes."""
    if OPERATOR not in audiences:
        audiences = [OPERATOR, *audiences]
    event = Event(
        type=type,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_version=entity_version,
        actor=actor,
        changes=_jsonable(changes),
        audiences=sorted(set(audiences)),
    )
    session.add(event)
    session.info[EVENTS_APPENDED] = True
    session.info[EVENTS_PENDING] = session.info.get(EVENTS_PENDING, 0) + 1
    return event


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    """Enum members and datetimes become their string forms so the JSON is portable."""
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        elif hasattr(value, "value") and isinstance(value.value, str):
            out[key] = value.value
        else:
            out[key] = value
    return out
