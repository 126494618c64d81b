"""What every domain subscription shares: register, snapshot, then one update per change.

- ``follow`` registers with the hub BEFORE the snapshot is read (app.pubsub.stream.watch), so
  a change committed after the snapshot always reaches the queue, then turns each batch of
  events into updates. Events of one entity in one batch are handled once, for the last of
  them: updates are states, reloaded after the event, so nothing is lost by it.
- ``SharedCache``: when many subscribers of the process handle the same event, the changed
  entity is read ONCE (keyed by the event's cursor and the entity; ``start_many`` reads a
  whole batch's in one go) and the update object is built once per ``render_key``; every
  subscriber with that key is handed the same object.
- ``fresh_loaders``: a socket's context lives as long as the socket, and so would its
  DataLoaders' cache; each update gets new loaders, primed with the rows just read, so nested
  fields show the state of this update (and cost no query).
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Iterable, Mapping
from contextlib import aclosing
from typing import Any, TypeVar, cast

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError
from app.models.base import Base
from app.pubsub.cursors import START
from app.pubsub.direct import current_lane
from app.pubsub.hub import Hub
from app.pubsub.log import EventRecord
from app.pubsub.stream import StreamEnded, Watch, WatchFilter, watch
from app.resolvers.loaders import Loaders
from app.runtime import Runtime
from app.schema.errors import PublicError, query_error

T = TypeVar("T")
U = TypeVar("U")

CACHE_SIZE = 4096


class SharedCache:
    """A small per-process LRU of results keyed by (event cursor, what): each is computed once,
    by whoever asks first, while the others wait for the same result. Failures are not kept."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, asyncio.Future[Any]] = OrderedDict()
        self.loads = 0
        """How many results were computed (for tests and metrics)."""

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        future = self._entries.get(key)
        if future is None:
            self.loads += 1
            future = asyncio.ensure_future(load())
            future.add_done_callback(lambda done: self._forget_failure(key, done))
            self._put(key, future)
        else:
            self._entries.move_to_end(key)
        # Shielded: a subscriber that goes away does not cancel the read the others wait for.
        return cast("T", await asyncio.shield(future))

    def start_many(
        self,
        keys: Iterable[Hashable],
        load: Callable[[list[Hashable]], Awaitable[Mapping[Hashable, Any]]],
    ) -> None:
        """Start one load for every key nobody has asked for yet; ``get`` then waits for its
        share of it (a batch of events costs one read, not one per event)."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._entries]
        if not missing:
            return
        self.loads += 1
        loop = asyncio.get_running_loop()
        futures: dict[Hashable, asyncio.Future[Any]] = {}
        for key in missing:
            future: asyncio.Future[Any] = loop.create_future()
            future.add_done_callback(functools.partial(self._forget_failure, key))
            self._put(key, future)
            futures[key] = future

        def settle(batch: asyncio.Future[Mapping[Hashable, Any]]) -> None:
            failure = None if batch.cancelled() else batch.exception()
            for key, future in futures.items():
                if future.done():
                    continue
                if batch.cancelled():
                    future.cancel()
                elif failure is not None:
                    future.set_exception(failure)
                else:
                    future.set_result(batch.result().get(key))

        asyncio.ensure_future(load(missing)).add_done_callback(settle)

    def value(self, key: Hashable, make: Callable[[], T]) -> T:
        """The object made for ``key``, made now if nobody has yet (synchronously)."""
        future = self._entries.get(key)
        if future is None or not future.done() or future.exception() is not None:
            future = asyncio.get_running_loop().create_future()
            future.set_result(make())
            self._put(key, future)
        else:
            self._entries.move_to_end(key)
        return cast("T", future.result())

    def _put(self, key: Hashable, future: asyncio.Future[Any]) -> None:
        self._entries[key] = future
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def _forget_failure(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        failed = done.cancelled() or done.exception() is not None
        if failed and self._entries.get(key) is done:
            del self._entries[key]


_caches: weakref.WeakKeyDictionary[Hub, SharedCache] = weakref.WeakKeyDictionary()


def shared_cache(runtime: Runtime) -> SharedCache:
    """The process's cache (one per hub, so per running app)."""
    cache = _caches.get(runtime.hub)
    if cache is None:
        cache = _caches[runtime.hub] = SharedCache()
    return cache


VIEWER_FIELDS = frozenset({"offers"})
"""Fields whose value depends on who asks (``Listing.offers``: a buyer sees its own). A new
field whose resolver reads the actor belongs here (tests/pubsub/test_viewer_fields.py)."""


def reads_viewer(selections: Iterable[Any]) -> bool:
    """True when a selection (strawberry's ``info.selected_fields``) reaches a field of
    ``VIEWER_FIELDS`` anywhere, fragments included: its renderings differ per organisation."""
    for selection in selections:
        if getattr(selection, "name", None) in VIEWER_FIELDS and hasattr(selection, "arguments"):
            return True
        if reads_viewer(getattr(selection, "selections", ())):
            return True
    return False


def viewer_key(actor: Actor) -> str:
    """Who an update is rendered for: operators see the same; others per organisation."""
    if actor.is_operator:
        return "operator"
    if actor.organization_id is not None and actor.organization_kind is not None:
        return f"{actor.organization_kind.value.lower()}:{actor.organization_id}"
    return "public"


async def current_actor(context: Any) -> Actor:
    """Who is asking now: a socket's token is checked again for every new subscription (as
    of at most ``auth_cache_seconds`` ago, app.auth.actor_cache)."""
    actor: Actor = context.actor
    token: str | None = getattr(context, "token", None)
    if token and actor.kind is not ActorKind.ANONYMOUS:
        actor = await context.runtime.actors.actor(token)
    return actor


def fresh_loaders(context: Any) -> Loaders:
    """New DataLoaders for the socket's context: nested fields of the next update read fresh."""
    loaders = Loaders(context.runtime.reads)
    context.loaders = loaders
    return loaders


def prime(loaders: Loaders, model: type[Base], rows: Iterable[Any]) -> None:
    loaders.by_id(model).prime_many({row.id: row for row in rows}, force=True)


async def follow(
    runtime: Runtime,
    event_filter: WatchFilter,
    *,
    snapshot: Callable[[Watch], Awaitable[T]],
    entity_of: Callable[[EventRecord], Hashable],
    change: Callable[[EventRecord], Awaitable[T | None]],
    prefetch: Callable[[list[EventRecord]], None] | None = None,
) -> AsyncGenerator[T, None]:
    """The snapshot (read after registering), then ``change`` for each changed entity;
    ``prefetch`` is handed each batch's records first (to start one read for all of them)."""
    async with watch(hub=runtime.hub, tail=runtime.tail, event_filter=event_filter) as watching:
        yield await snapshot(watching)
        async for batch in watching.batches():
            latest: dict[Hashable, EventRecord] = {}
            for record in batch:
                latest.pop(entity_of(record), None)
                latest[entity_of(record)] = record
            if prefetch is not None:
                prefetch(list(latest.values()))
            for record in latest.values():
                update = await change(record)
                watching.handled(record.cursor)
                if update is not None:
                    yield update
            watching.handled(batch[-1].cursor)


async def public_errors(stream: AsyncGenerator[U, None]) -> AsyncGenerator[U, None]:
    """End the subscription with ``extensions.code`` (LAGGED, UNAVAILABLE) and the cursor of
    the last change handled; the client subscribes again for a fresh snapshot."""
    lane = current_lane()  # values the render group shares go straight to the socket
    try:
        async with aclosing(stream):
            async for item in stream:
                if lane is None or not await lane.send(item):
                    yield item
    except StreamEnded as ended:
        raise PublicError(
            ended.code,
            str(ended),
            cursor=ended.cursor.encode() if ended.cursor is not None else START.encode(),
        ) from None
    except DomainError as error:
        raise query_error(error) from None


def cursor_text(watching: Watch) -> str:
    return (watching.cursor or START).encode()
