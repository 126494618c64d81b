"""The hub on its own: filters and audiences, bounded queues, fan-out that yields."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from app.pubsub.cursors import Cursor, InvalidCursor, decode_cursor
from app.pubsub.hub import Hub, HubClosed, SubscriberOverflow
from app.pubsub.log import EventFilter, EventRecord


def record(
    n: int,
    *,
    type: str = "device.received",
    entity_type: str = "Device",
    entity_id: int = 1,
    audiences: tuple[str, ...] = ("operator",),
) -> EventRecord:
    return EventRecord(
        cursor=Cursor(0, n),
        type=type,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_version=1,
        occurred_at=datetime.now(UTC),
        actor="user:1",
        changes={"n": n},
        audiences=frozenset(audiences),
    )


def test_cursors_round_trip_and_refuse_strangers() -> None:
    for cursor in (Cursor(0, 0), Cursor(0, 17), Cursor(81_234_567_890, 5)):
        assert decode_cursor(cursor.encode()) == cursor
    assert Cursor(1, 1) < Cursor(1, 2) < Cursor(2, 0)
    for bad in ("", "abc", Cursor(0, 1).encode()[:-2] + "!!", "ZXYxOi0xOjI"):
        with pytest.raises(InvalidCursor):
            decode_cursor(bad)


@pytest.mark.parametrize(
    ("audiences", "visible"),
    [
        (None, {"operator", "public", "buyer:1", "buyer:2", "client:1"}),
        (frozenset({"public", "buyer:1"}), {"public", "buyer:1"}),
        (frozenset({"client:1"}), {"client:1"}),
        (frozenset({"public"}), {"public"}),
    ],
)
def test_an_event_is_seen_only_by_its_audiences(
    audiences: frozenset[str] | None, visible: set[str]
) -> None:
    names = ["operator", "public", "buyer:1", "buyer:2", "client:1"]
    # Every event is addressed to operators too, as append_event does.
    records = [record(n, audiences=("operator", name)) for n, name in enumerate(names)]
    seen = [r for r in records if EventFilter(audiences=audiences).matches(r)]
    assert {name for name, r in zip(names, records, strict=True) if r in seen} == visible


def test_filters_by_type_and_entity() -> None:
    wanted = EventFilter(types=frozenset({"order.shipped"}), entity_type="Order", entity_id=5)
    assert wanted.matches(record(1, type="order.shipped", entity_type="Order", entity_id=5))
    assert not wanted.matches(record(2, type="order.placed", entity_type="Order", entity_id=5))
    assert not wanted.matches(record(3, type="order.shipped", entity_type="Order", entity_id=6))
    assert not wanted.matches(record(4, type="order.shipped", entity_type="Device", entity_id=5))


async def test_dispatch_queues_what_each_subscriber_wants_in_order() -> None:
    hub = Hub()
    with (
        hub.subscribe(EventFilter()) as everything,
        hub.subscribe(EventFilter(audiences=frozenset({"public"}))) as board,
    ):
        await hub.dispatch([record(1), record(2, audiences=("public",)), record(3)])
        assert [r.id for r in await everything.next_batch()] == [1, 2, 3]
        assert [r.id for r in await board.next_batch()] == [2]
        assert hub.subscriber_count == 2
    assert hub.subscriber_count == 0
    assert hub.stats()["delivered"] == 4


async def test_a_full_queue_is_dropped_and_the_subscriber_told() -> None:
    hub = Hub(queue_max=3)
    with hub.subscribe(EventFilter()) as slow, hub.subscribe(EventFilter()) as fast:
        await hub.dispatch([record(1), record(2)])
        assert [r.id for r in await fast.next_batch()] == [1, 2]
        await hub.dispatch([record(3), record(4)])  # slow now holds 4 > 3
        assert slow.overflowed
        assert slow.queued == 0  # memory is given back at once
        with pytest.raises(SubscriberOverflow):
            await slow.next_batch()
        assert [r.id for r in await fast.next_batch()] == [3, 4]
        await hub.dispatch([record(5)])
        assert slow.queued == 0
    assert hub.stats()["overflows"] == 1


async def test_a_waiting_subscriber_wakes_on_dispatch_and_on_close() -> None:
    hub = Hub()
    with hub.subscribe(EventFilter()) as subscriber:
        waiting = asyncio.create_task(subscriber.next_batch())
        await asyncio.sleep(0)
        assert not waiting.done()
        await hub.dispatch([record(1)])
        assert [r.id for r in await waiting] == [1]

        waiting = asyncio.create_task(subscriber.next_batch())
        await asyncio.sleep(0)
        hub.close()
        with pytest.raises(HubClosed):
            await waiting
    with pytest.raises(HubClosed), hub.subscribe(EventFilter()):
        pass


async def test_fan_out_to_thousands_yields_to_the_event_loop() -> None:
    """A burst to 5,000 subscribers must not stall the rest of the process."""
    hub = Hub(queue_max=1000, yield_every=2000)
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    with_filters = [EventFilter(audiences=frozenset({f"buyer:{n}", "public"})) for n in range(5000)]
    managers = [hub.subscribe(f) for f in with_filters]
    subscribers = [manager.__enter__() for manager in managers]
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    batch = [record(n, audiences=("public",)) for n in range(100)]
    await hub.dispatch(batch)
    stop.set()
    await task
    for manager in managers:
        manager.__exit__(None, None, None)
    assert all(subscriber.queued == 100 for subscriber in subscribers)
    # 500,000 deliveries at one yield per 2,000: the ticker ran about 250 times meanwhile.
    assert ticks - before >= 200
