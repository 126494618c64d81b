"""Renderings shared across organisations (``any_viewer``) must not read the viewer.

An `Event` is shared by every subscriber of an operation, and a `listingBoard` update too
unless the subscription selects a field of ``VIEWER_FIELDS``. These tests walk the types a
subscriber can select from and fail when a field's resolver reads the actor without being
listed: a new field like that would otherwise show one organisation what another may see.
"""

from __future__ import annotations

import inspect

from strawberry.types.base import StrawberryList, StrawberryOptional, get_object_definition

from app.resolvers.live_common import VIEWER_FIELDS
from app.schema.events import Event
from app.schema.live_updates import ListingBoardUpdate


def _unwrap(field_type: object) -> object:
    while isinstance(field_type, StrawberryList | StrawberryOptional):
        field_type = field_type.of_type
    return field_type


def fields_reading_the_viewer(root: type, allowed: frozenset[str]) -> list[str]:
    """Paths of the fields reachable from ``root`` whose resolver mentions the actor, not
    counting those below a field named in ``allowed``."""
    found: list[str] = []
    seen: set[object] = set()

    def walk(cls: object, path: str) -> None:
        definition = get_object_definition(cls)
        if definition is None or cls in seen:
            return
        seen.add(cls)
        for field in definition.fields:
            where = f"{path}.{field.python_name}"
            if field.python_name in allowed:
                continue
            resolver = field.base_resolver
            if resolver is not None and "actor" in inspect.getsource(resolver.wrapped_func):
                found.append(where)
            walk(_unwrap(field.type), where)

    walk(root, root.__name__)
    return found


def test_the_board_reads_the_viewer_only_in_listed_fields() -> None:
    assert fields_reading_the_viewer(ListingBoardUpdate, VIEWER_FIELDS) == []


def test_the_walk_finds_a_field_that_reads_the_viewer() -> None:
    assert fields_reading_the_viewer(ListingBoardUpdate, frozenset()) == [
        "ListingBoardUpdate.listings.offers"
    ]


def test_an_event_reads_nothing_about_the_viewer() -> None:
    assert fields_reading_the_viewer(Event, frozenset()) == []
