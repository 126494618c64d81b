"""The per-process hub: hands each event the tail read to the subscribers that may see it.

Every subscriber has a filter (types, entity, the audiences it may see) and a bounded queue.
Dispatch only appends shared, immutable records to queues: no database query, no rendering.
A subscriber whose queue would go past its bound is marked *overflowed* and its queue is
dropped at once (memory stays bounded); its stream then ends with a LAGGED error carrying the
last position it delivered, from which the client resumes (see app.pubsub.stream).

Dispatch yields to the event loop every ``yield_every`` deliveries, so a burst fanned out to
thousands of subscribers never starves the rest of the process.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from app.pubsub.log import EventFilter, EventRecord

DEFAULT_QUEUE_MAX = 1000


class Subscriber:
    __slots__ = ("_queue", "_wake", "closed", "event_filter", "max_queued", "overflowed")

    def __init__(self, event_filter: EventFilter, max_queued: int) -> None:
        self.event_filter = event_filter
        self.max_queued = max_queued
        self.overflowed = False
        self.closed = False
        self._queue: deque[EventRecord] = deque()
        self._wake = asyncio.Event()

    @property
    def queued(self) -> int:
        return len(self._queue)

    def offer(self, records: Sequence[EventRecord]) -> int:
        """Queue the records this subscriber wants; returns how many it took."""
        if self.overflowed or self.closed:
            return 0
        taken = 0
        for record in records:
            if not self.event_filter.matches(record):
                continue
            if len(self._queue) >= self.max_queued:
                self.overflowed = True
                self._queue.clear()
                self._wake.set()
                return taken
            self._queue.append(record)
            taken += 1
        if taken:
            self._wake.set()
        return taken

    async def next_batch(self) -> list[EventRecord]:
        """Everything queued, waiting for at least one; raises if overflowed or closed."""
        while not self._queue and not self.overflowed and not self.closed:
            self._wake.clear()
            await self._wake.wait()
        if self.overflowed:
            raise SubscriberOverflow
        if self.closed:
            raise HubClosed
        batch = list(self._queue)
        self._queue.clear()
        return batch

    def reset(self) -> None:
        """Forget an overflow and what is queued (the stream re-reads the log instead)."""
        self.overflowed = False
        self._queue.clear()

    def close(self) -> None:
        self.closed = True
        self._queue.clear()
        self._wake.set()


class SubscriberOverflow(Exception):
    """The subscriber fell more than its queue bound behind."""


class HubClosed(Exception):
    """The process is shutting down."""


class Hub:
    def __init__(self, *, queue_max: int = DEFAULT_QUEUE_MAX, yield_every: int = 500) -> None:
        if queue_max < 1:
            raise ValueError("queue_max must be at least 1")
        self.queue_max = queue_max
        self.yield_every = yield_every
        self._subscribers: dict[int, Subscriber] = {}
        self.closed = False
        self.dispatched = 0
        """Events handed to the hub since start."""
        self.delivered = 0
        """Events queued to subscribers since start (one event to two subscribers is 2)."""
        self.overflows = 0
        self.listeners: list[Callable[[Sequence[EventRecord]], None]] = []
        """Called with every batch before it is offered (e.g. to empty a cache)."""

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def queued(self) -> int:
        """Records waiting in all subscribers' queues (at most ``queue_max`` each)."""
        return sum(subscriber.queued for subscriber in self._subscribers.values())

    @contextmanager
    def subscribe(self, event_filter: EventFilter) -> Iterator[Subscriber]:
        """Register for everything dispatched from now on, until the block ends."""
        if self.closed:
            raise HubClosed
        subscriber = Subscriber(event_filter, self.queue_max)
        self._subscribers[id(subscriber)] = subscriber
        try:
            yield subscriber
        finally:
            self._subscribers.pop(id(subscriber), None)

    async def dispatch(self, records: Sequence[EventRecord]) -> None:
        """Offer ``records`` (in log order) to every subscriber registered now."""
        if not records:
            return
        self.dispatched += len(records)
        for listener in self.listeners:
            listener(records)
        budget = self.yield_every
        for subscriber in list(self._subscribers.values()):
            was_overflowed = subscriber.overflowed
            self.delivered += subscriber.offer(records)
            if subscriber.overflowed and not was_overflowed:
                self.overflows += 1
            budget -= len(records)
            if budget <= 0:
                budget = self.yield_every
                await asyncio.sleep(0)

    def close(self) -> None:
        """End every subscriber's stream (shutdown)."""
        self.closed = True
        for subscriber in list(self._subscribers.values()):
            subscriber.close()

    def stats(self) -> dict[str, int]:
        return {
            "subscribers": self.subscriber_count,
            "dispatched": self.dispatched,
            "delivered": self.delivered,
            "overflows": self.overflows,
        }
