"""One order, one device live: the state first, then the state after each change.

Visibility is the queries': an order is its buyer's and the operator's (a shipment's events
count for its order); a device is its client's and the operator's. The row is checked again
after every reload.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from typing import TypeVar

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.models import Device as DeviceRow
from app.models import Grade as GradeRow
from app.models import Listing as ListingRow
from app.models import Order as OrderRow
from app.models import OrderLine as OrderLineRow
from app.models import Shipment as ShipmentRow
from app.pubsub.log import EventRecord
from app.pubsub.stream import Watch, WatchFilter
from app.resolvers.events import visible_audiences
from app.resolvers.live_common import (
    cursor_text,
    follow,
    fresh_loaders,
    prime,
    shared_cache,
    viewer_key,
)
from app.runtime import Runtime
from app.schema.devices import Device
from app.schema.live_updates import DeviceUpdate, LiveUpdateKind, OrderUpdate
from app.schema.orders import Order
from app.services import devices as device_service
from app.services import live_queries, order_queries
from app.services.live_queries import DeviceView, OrderView

V = TypeVar("V", OrderView, DeviceView)
U = TypeVar("U", OrderUpdate, DeviceUpdate)


def _not_found(what: str, field: str) -> DomainError:
    return DomainError(
        ErrorCode.NOT_FOUND, f"No {what} with that id that you may see.", field=field
    )


# --- order(id) -----------------------------------------------------------------------------


async def check_order(runtime: Runtime, actor: Actor, order_id: int | None) -> int:
    """Refuse before streaming: nobody signed in, not a buyer or operator, or not theirs."""
    order_queries.visible_buyer(actor)
    if order_id is not None:
        async with runtime.reads() as session:
            if await order_queries.get_order(session, order_id, actor=actor) is not None:
                return order_id
    raise _not_found("order", "id")


def _prime_order(context: object, view: OrderView) -> None:
    loaders = fresh_loaders(context)
    prime(loaders, OrderRow, [view.order])
    prime(loaders, ListingRow, view.listings)
    prime(loaders, DeviceRow, view.devices)
    loaders.children(OrderLineRow.order_id).prime(view.order.id, view.lines, force=True)
    loaders.children(ShipmentRow.order_id).prime(view.order.id, view.shipments, force=True)


def order_updates(
    context: object, runtime: Runtime, actor: Actor, order_id: int
) -> AsyncGenerator[OrderUpdate, None]:
    def wants(record: EventRecord) -> bool:
        if record.entity_type == "Order":
            return record.entity_id == order_id
        return record.entity_type == "Shipment" and record.changes.get("orderId") == order_id

    async def load() -> OrderView | None:
        async with runtime.reads() as session:
            return await live_queries.order_view(session, order_id)

    return _entity_updates(
        context,
        runtime,
        actor,
        name="order",
        entity_id=order_id,
        event_filter=WatchFilter(audiences=visible_audiences(actor), wants=wants),
        load=load,
        may_see=lambda view: order_queries.may_see(actor, view.order.buyer_id),
        prime_view=_prime_order,
        make=lambda kind, view, cursor, key: OrderUpdate(
            kind=kind, order=Order.from_row(view.order), cursor=cursor, render_key=key
        ),
    )


# --- device(id) ----------------------------------------------------------------------------


async def check_device(runtime: Runtime, actor: Actor, device_id: int | None) -> int:
    if device_id is not None:
        async with runtime.reads() as session:
            if await device_service.get_device(session, device_id, actor=actor) is not None:
                return device_id
    raise _not_found("device", "id")


def _prime_device(context: object, view: DeviceView) -> None:
    loaders = fresh_loaders(context)
    prime(loaders, DeviceRow, [view.device])
    if view.grade is not None:
        prime(loaders, GradeRow, [view.grade])


def device_updates(
    context: object, runtime: Runtime, actor: Actor, device_id: int
) -> AsyncGenerator[DeviceUpdate, None]:
    async def load() -> DeviceView | None:
        async with runtime.reads() as session:
            return await live_queries.device_view(session, device_id)

    return _entity_updates(
        context,
        runtime,
        actor,
        name="device",
        entity_id=device_id,
        event_filter=WatchFilter(
            audiences=visible_audiences(actor), entity_type="Device", entity_id=device_id
        ),
        load=load,
        may_see=lambda view: device_service.may_see(actor, view.device),
        prime_view=_prime_device,
        make=lambda kind, view, cursor, key: DeviceUpdate(
            kind=kind, device=Device.from_row(view.device), cursor=cursor, render_key=key
        ),
    )


# --- both ----------------------------------------------------------------------------------


def _entity_updates(
    context: object,
    runtime: Runtime,
    actor: Actor,
    *,
    name: str,
    entity_id: int,
    event_filter: WatchFilter,
    load: Callable[[], Awaitable[V | None]],
    may_see: Callable[[V], bool],
    prime_view: Callable[[object, V], None],
    make: Callable[[LiveUpdateKind, V, str, Hashable | None], U],
) -> AsyncGenerator[U, None]:
    """The entity's state, then its state after each change. A change is read once per event
    and process, and built once per viewer scope (its ``render_key``)."""
    cache = shared_cache(runtime)
    viewer = viewer_key(actor)

    def visible(view: V | None) -> V:
        if view is None or not may_see(view):
            raise _not_found(name, "id")  # pragma: no cover - orders and devices stay
        return view

    async def snapshot(watching: Watch) -> U:
        view = visible(await load())
        prime_view(context, view)
        return make(LiveUpdateKind.SNAPSHOT, view, cursor_text(watching), None)

    async def change(record: EventRecord) -> U:
        view = visible(await cache.get((name, record.cursor, entity_id), load))
        prime_view(context, view)
        cursor = record.cursor.encode()
        key: Hashable = (name, cursor, entity_id, viewer)
        return cache.value(key, lambda: make(LiveUpdateKind.CHANGED, view, cursor, key))

    return follow(
        runtime, event_filter, snapshot=snapshot, entity_of=lambda _: entity_id, change=change
    )
