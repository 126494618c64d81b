"""The buyers' board live: the first page, then listings added to, changed on or removed from it.

The same rules as the `listings` query: buyers (and clients) see ACTIVE listings only, with the
device's specs and grade and never its client or cost (the ``Listing`` type has no such field);
operators see every status their filter asks for. A listing that changes is read once per
event and process and checked against the subscriber's filter and visibility: inside, it is
ADDED (first time this subscriber is sent it) or CHANGED; no longer inside (sold, reserved,
paused, withdrawn, repriced or regraded out of the filter), it is REMOVED if it was sent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Hashable

from strawberry import relay

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.models import Device as DeviceRow
from app.models import Grade as GradeRow
from app.models import Listing as ListingRow
from app.pubsub.log import EventRecord
from app.pubsub.render import keyed
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
from app.schema.listings import Listing
from app.schema.listings import ListingFilter as ListingFilterInput
from app.schema.live_updates import ListingBoardUpdate, LiveUpdateKind
from app.services import listing_queries, live_queries
from app.services.events import PUBLIC
from app.services.live_queries import ListingView

GRADED_ON_SALE = "device.graded"


def board_filter(raw: ListingFilterInput | None, actor: Actor) -> listing_queries.ListingFilter:
    """The query's filter; statuses only count for operators (so the key is the same)."""
    if raw is None:
        return listing_queries.ListingFilter()
    for field, value in (("priceMin", raw.price_min), ("priceMax", raw.price_max)):
        if value is not None and value < 0:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{field} cannot be negative.", field=field)
    if raw.price_min is not None and raw.price_max is not None and raw.price_min > raw.price_max:
        raise DomainError(ErrorCode.INVALID_INPUT, "priceMin is above priceMax.", field="priceMin")
    return listing_queries.ListingFilter(
        make=raw.make,
        model=raw.model,
        storage_gb=raw.storage_gb,
        grades=tuple(sorted(set(raw.grade or ()), key=lambda g: g.value)),
        price_min=raw.price_min,
        price_max=raw.price_max,
        text=raw.text,
        statuses=tuple(sorted(set(raw.status or ()), key=lambda s: s.value))
        if actor.is_operator
        else (),
    )


def _listing_of(record: EventRecord) -> int | None:
    """The listing an event changes on the board, or None."""
    if record.entity_type == "Listing":
        return record.entity_id
    if record.type == GRADED_ON_SALE and isinstance(record.changes.get("listingId"), int):
        return int(record.changes["listingId"])
    return None


def _wants(record: EventRecord) -> bool:
    return _listing_of(record) is not None


def _prime(context: object, views: list[ListingView]) -> None:
    loaders = fresh_loaders(context)
    prime(loaders, ListingRow, [view.listing for view in views])
    prime(loaders, DeviceRow, [view.device for view in views])
    prime(loaders, GradeRow, [view.grade for view in views if view.grade is not None])


def listing_board(
    context: object,
    runtime: Runtime,
    actor: Actor,
    listing_filter: listing_queries.ListingFilter,
    limit: int,
    *,
    reads_viewer: bool = True,
) -> AsyncGenerator[ListingBoardUpdate, None]:
    """``reads_viewer``: the subscription selects a field that depends on who asks; if not,
    an update renders the same for every non-operator (only operators see other statuses),
    and is shared across organisations (app.pubsub.render, ``any_viewer``)."""
    cache = shared_cache(runtime)
    any_viewer = not reads_viewer
    if any_viewer:  # the hub keeps the renderings of two apps in one process apart
        viewer: Hashable = (runtime.hub, "operator" if actor.is_operator else "others")
    else:
        viewer = viewer_key(actor)
    shown: set[int] = set()

    async def snapshot(watching: Watch) -> ListingBoardUpdate:
        async with runtime.reads() as session:
            page = await listing_queries.list_listings(
                session, listing_filter, actor=actor, after=None, limit=limit
            )
            views = await live_queries.listing_views(session, [row.id for row in page.rows])
        shown.update(view.listing.id for view in views)
        _prime(context, views)
        return ListingBoardUpdate(
            kind=LiveUpdateKind.SNAPSHOT,
            listings=[Listing.from_row(view.listing) for view in views],
            removed_ids=[],
            cursor=cursor_text(watching),
            total_count=page.total,
            has_more=page.has_next,
        )

    def prefetch(records: list[EventRecord]) -> None:
        """One read for the listings of a whole batch (``change`` then finds each)."""
        wanted: dict[Hashable, int] = {
            ("listing", record.cursor, listing_id): listing_id
            for record in records
            if (listing_id := _listing_of(record)) is not None
        }

        async def load(keys: list[Hashable]) -> dict[Hashable, ListingView | None]:
            async with runtime.reads() as session:
                views = await live_queries.listing_views(session, sorted({wanted[k] for k in keys}))
            by_id = {view.listing.id: view for view in views}
            return {key: by_id.get(wanted[key]) for key in keys}

        cache.start_many(wanted, load)

    async def change(record: EventRecord) -> ListingBoardUpdate | None:
        listing_id = _listing_of(record)
        assert listing_id is not None  # the filter lets nothing else through

        async def load() -> ListingView | None:
            async with runtime.reads() as session:
                views = await live_queries.listing_views(session, [listing_id])
            return views[0] if views else None

        view = await cache.get(("listing", record.cursor, listing_id), load)
        inside = view is not None and live_queries.on_board(view, listing_filter, actor)
        if inside:
            assert view is not None
            kind = LiveUpdateKind.CHANGED if listing_id in shown else LiveUpdateKind.ADDED
            shown.add(listing_id)
            _prime(context, [view])
        elif listing_id in shown:
            kind = LiveUpdateKind.REMOVED
            shown.discard(listing_id)
        else:
            return None
        cursor = record.cursor.encode()
        key: Hashable = ("listingBoard", cursor, listing_id, listing_filter, viewer, kind)

        def make() -> ListingBoardUpdate:
            update = ListingBoardUpdate(
                kind=kind,
                listings=[Listing.from_row(view.listing)] if inside and view else [],
                removed_ids=[] if inside else [relay.GlobalID("Listing", str(listing_id))],
                cursor=cursor,
                total_count=None,
                has_more=False,
            )
            return keyed(update, key, any_viewer=any_viewer)

        return cache.value(key, make)

    # The board is public to everyone signed in (clients too, whose own audience is theirs).
    audiences = visible_audiences(actor)
    if audiences is not None:
        audiences = audiences | {PUBLIC}
    event_filter = WatchFilter(audiences=audiences, wants=_wants)
    return follow(
        runtime,
        event_filter,
        snapshot=snapshot,
        entity_of=lambda record: _listing_of(record),
        change=change,
        prefetch=prefetch,
    )
