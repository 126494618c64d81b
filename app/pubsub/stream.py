"""One subscriber's stream: register with the hub first, backfill from the log, then go live.

Why no event is lost or repeated:

1. The stream waits until the tail knows its position, then registers with the hub: from
   then on every event the tail reads and dispatches lands in the subscriber's queue.
2. It backfills from the log after ``after`` in pages, with the same visibility rule as the
   tail, until the log has nothing more to read. Everything the tail had dispatched before
   registration was readable then, so it is readable to the backfill.
3. It then delivers from the queue, skipping what it already sent (positions are totally
   ordered), so the stream is every event once, in log order.

A queue that overflows *during the backfill* is harmless: the stream forgets the queue and
reads the log again from where it is. Once live, an overflow ends the stream with
``Lagged(cursor)``: ``cursor`` is the position of the last event delivered (or where the stream
began), from which the client resumes with ``after``.

Domain subscriptions (a board, one order) use ``watch`` instead: register first, read the
current state, then act on each change; on ``Lagged`` the client subscribes again and gets a
fresh snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from app.pubsub.cursors import Cursor
from app.pubsub.hub import Hub, HubClosed, Subscriber, SubscriberOverflow
from app.pubsub.log import EventFilter, EventLog, EventRecord
from app.pubsub.tail import EventTail


class StreamEnded(Exception):
    """The stream cannot go on; ``cursor`` is where the client resumes from."""

    code = "UNAVAILABLE"

    def __init__(self, cursor: Cursor | None, message: str) -> None:
        super().__init__(message)
        self.cursor = cursor


class Lagged(StreamEnded):
    code = "LAGGED"


class Unavailable(StreamEnded):
    code = "UNAVAILABLE"


async def event_stream(
    *,
    hub: Hub,
    event_log: EventLog,
    tail: EventTail,
    event_filter: EventFilter,
    after: Cursor | None,
    page_size: int = 500,
    ready_timeout: float = 5.0,
) -> AsyncGenerator[EventRecord, None]:
    """Every event matching ``event_filter`` after ``after`` (or from now on), once, in order."""
    if not await tail.wait_ready(ready_timeout):
        raise Unavailable(after, "Live events are not available right now; retry shortly.")
    last = after
    try:
        with hub.subscribe(event_filter) as subscriber:
            if last is None:
                last = tail.cursor  # no backfill: the stream starts where the tail is
            else:
                while True:
                    while True:
                        page = await event_log.read(last, page_size, event_filter)
                        for record in page.records:
                            yield record
                            last = record.cursor
                        if not page.has_more:
                            break
                    if not subscriber.overflowed:
                        break
                    subscriber.reset()  # fell behind while catching up: the log has it all
            while True:
                try:
                    batch = await subscriber.next_batch()
                except SubscriberOverflow:
                    raise Lagged(
                        last,
                        f"This subscriber fell more than {subscriber.max_queued} events "
                        "behind; resume with `after` set to the cursor in extensions.",
                    ) from None
                for record in batch:
                    if last is not None and record.cursor <= last:
                        continue
                    yield record
                    last = record.cursor
    except HubClosed:
        raise Unavailable(last, "The server is shutting down; resume with `after`.") from None


# --- Domain subscriptions: current state first, then each change ------------------------------


@dataclass(frozen=True, slots=True)
class WatchFilter(EventFilter):
    """An ``EventFilter`` narrowed further by ``wants`` (a cheap check on the record alone).

    The hub applies it when it queues, so a subscriber's queue holds only what it acts on.
    """

    wants: Callable[[EventRecord], bool] | None = None

    def matches(self, record: EventRecord) -> bool:
        if not EventFilter.matches(self, record):
            return False
        return self.wants is None or self.wants(record)


class Watch:
    """A registration with the hub; ``cursor`` is where the tail was when it was made.

    Everything dispatched after the registration lands in the queue, and everything the tail
    had dispatched before it was committed before it: a snapshot read after ``watch`` opened
    sees all of it. ``batches`` then hands out the changes in log order.
    """

    def __init__(self, subscriber: Subscriber, cursor: Cursor | None) -> None:
        self._subscriber = subscriber
        self.cursor = cursor
        self.last = cursor
        """The last position handled: where a client resumes its correlation after LAGGED."""

    def handled(self, cursor: Cursor) -> None:
        self.last = cursor

    async def batches(self) -> AsyncIterator[list[EventRecord]]:
        while True:
            try:
                batch = await self._subscriber.next_batch()
            except SubscriberOverflow:
                raise Lagged(
                    self.last,
                    f"This subscriber fell more than {self._subscriber.max_queued} changes "
                    "behind; subscribe again for a fresh snapshot.",
                ) from None
            except HubClosed:
                raise Unavailable(
                    self.last, "The server is shutting down; subscribe again."
                ) from None
            fresh = [r for r in batch if self.cursor is None or r.cursor > self.cursor]
            if fresh:
                yield fresh


@asynccontextmanager
async def watch(
    *, hub: Hub, tail: EventTail, event_filter: EventFilter, ready_timeout: float = 5.0
) -> AsyncIterator[Watch]:
    """Register with the hub for a snapshot-then-changes subscription (register BEFORE the
    snapshot is read, so no change committed after the snapshot can slip by unseen)."""
    if not await tail.wait_ready(ready_timeout):
        raise Unavailable(None, "Live updates are not available right now; retry shortly.")
    try:
        with hub.subscribe(event_filter) as subscriber:
            yield Watch(subscriber, tail.cursor)
    except HubClosed:
        raise Unavailable(None, "The server is shutting down; subscribe again.") from None
