"""What the domain subscriptions send: the current state first (SNAPSHOT), then each change.

Every update carries ``cursor``, a position of the `events` stream: a SNAPSHOT shows every
change up to it, a change update is the state after the event at it (or later: updates are
states, not diffs, so a client replaces what it shows by id and a repeat is harmless).

``render_key`` (not in the schema) is the same for updates that render the same: the event, the
entity, the subscription's arguments and who may see it. Subscribers that share it are sent one
shared object; a renderer may render it once for all of them. Snapshots have none.
"""

from __future__ import annotations

from collections.abc import Hashable
from enum import Enum

import strawberry
from strawberry import relay

from app.schema.devices import Device
from app.schema.listings import Listing
from app.schema.offers import Offer
from app.schema.orders import Order
from app.schema.settlements import Settlement


@strawberry.enum(description="What a live update says about the entities it carries.")
class LiveUpdateKind(Enum):
    SNAPSHOT = strawberry.enum_value(
        "SNAPSHOT", description="The current state, first; replaces whatever the client shows."
    )
    ADDED = strawberry.enum_value("ADDED", description="Entities that now belong to the view.")
    CHANGED = strawberry.enum_value("CHANGED", description="Entities of the view, as they are now.")
    REMOVED = strawberry.enum_value(
        "REMOVED", description="Entities that left the view (`removedIds`)."
    )


_CURSOR = (
    "The position in the `events` stream this update reflects: a snapshot shows every change "
    "up to it; a change is the state after the event at it."
)


@strawberry.type(
    description="The buyers' board live: the current page first, then listings that join the "
    "filter (ADDED), change (CHANGED) or leave it, including sold, reserved, paused or "
    "withdrawn ones (REMOVED)."
)
class ListingBoardUpdate:
    kind: LiveUpdateKind
    listings: list[Listing] = strawberry.field(
        description="SNAPSHOT: the first page, newest first; ADDED and CHANGED: the listing."
    )
    removed_ids: list[relay.GlobalID] = strawberry.field(
        description="REMOVED: the listings that left the board or the filter."
    )
    cursor: str = strawberry.field(description=_CURSOR)
    total_count: int | None = strawberry.field(
        description="SNAPSHOT only: how many listings match the filter."
    )
    has_more: bool = strawberry.field(
        description="SNAPSHOT only: more listings match than the first page holds. Any of "
        "them that changes later is sent as ADDED."
    )
    render_key: strawberry.Private[Hashable | None] = None


@strawberry.type(description="One order live: its state first, then after each change.")
class OrderUpdate:
    kind: LiveUpdateKind
    order: Order
    cursor: str = strawberry.field(description=_CURSOR)
    render_key: strawberry.Private[Hashable | None] = None


@strawberry.type(description="One device live: its state first, then after each change.")
class DeviceUpdate:
    kind: LiveUpdateKind
    device: Device
    cursor: str = strawberry.field(description=_CURSOR)
    render_key: strawberry.Private[Hashable | None] = None


@strawberry.type(
    description="Offers live: the newest first (SNAPSHOT), then each new offer (ADDED) and "
    "each offer that changes (CHANGED), such as accepted, countered, expired or invalidated."
)
class OffersUpdate:
    kind: LiveUpdateKind
    offers: list[Offer]
    cursor: str = strawberry.field(description=_CURSOR)
    has_more: bool = strawberry.field(
        description="SNAPSHOT only: more offers match than the snapshot holds."
    )
    render_key: strawberry.Private[Hashable | None] = None


@strawberry.type(
    description="Settlements live: the newest first (SNAPSHOT), then each new settlement "
    "(ADDED) and each one that is approved, paid or voided (CHANGED)."
)
class SettlementsUpdate:
    kind: LiveUpdateKind
    settlements: list[Settlement]
    cursor: str = strawberry.field(description=_CURSOR)
    has_more: bool = strawberry.field(
        description="SNAPSHOT only: more settlements exist than the snapshot holds."
    )
    render_key: strawberry.Private[Hashable | None] = None
