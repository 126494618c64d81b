"""Offers and settlements live: the newest first, then each new one and each change.

Visibility is the queries': offers are between the operator and one buyer (a buyer sees its
own negotiations only, both its offers and the seller's counters); settlements are the
operator's and their client's. Each changed row is read once per event and process and checked
again for this subscriber.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Hashable

from app.domain.actors import Actor
from app.domain.offers import can_see_offer
from app.domain.settlements import may_view
from app.models import Offer as OfferRow
from app.models import SettlementLine as SettlementLineRow
from app.pubsub.log import EventRecord
from app.pubsub.stream import Watch, WatchFilter
from app.resolvers.events import visible_audiences
from app.resolvers.live_common import cursor_text, follow, fresh_loaders, shared_cache, viewer_key
from app.runtime import Runtime
from app.schema.live_updates import LiveUpdateKind, OffersUpdate, SettlementsUpdate
from app.schema.offers import Offer
from app.schema.settlements import Settlement
from app.services import live_queries, offer_queries, settlement_queries
from app.services.live_queries import SettlementView

CREATED_VERSION = 1
"""An event at an entity's first version is its creation: the update is ADDED."""


def _kind(record: EventRecord) -> LiveUpdateKind:
    if record.entity_version <= CREATED_VERSION:
        return LiveUpdateKind.ADDED
    return LiveUpdateKind.CHANGED


# --- offers(listingId | mine) ----------------------------------------------------------------


def offer_updates(
    context: object, runtime: Runtime, actor: Actor, listing_id: int | None, limit: int
) -> AsyncGenerator[OffersUpdate, None]:
    """``listing_id`` None: every offer the actor may see (a buyer's own negotiations)."""
    cache = shared_cache(runtime)
    viewer = viewer_key(actor)

    def wants(record: EventRecord) -> bool:
        if record.entity_type != "Offer":
            return False
        return listing_id is None or record.changes.get("listingId") == listing_id

    async def snapshot(watching: Watch) -> OffersUpdate:
        async with runtime.reads() as session:
            page = await offer_queries.list_offers(
                session,
                offer_queries.OfferFilter(listing_id=listing_id),
                actor=actor,
                after=None,
                limit=limit,
            )
        fresh_loaders(context)
        return OffersUpdate(
            kind=LiveUpdateKind.SNAPSHOT,
            offers=[Offer.from_row(row) for row in page.rows],
            cursor=cursor_text(watching),
            has_more=page.has_next,
        )

    async def change(record: EventRecord) -> OffersUpdate | None:
        offer_id = record.entity_id

        async def load() -> list[OfferRow]:
            async with runtime.reads() as session:
                return await live_queries.offers_by_id(session, [offer_id])

        rows = await cache.get(("offer", record.cursor, offer_id), load)
        offers = [
            row
            for row in rows
            if can_see_offer(actor, row.buyer_id)
            and (listing_id is None or row.listing_id == listing_id)
        ]
        if not offers:
            return None
        fresh_loaders(context)
        cursor = record.cursor.encode()
        kind = _kind(record)
        key: Hashable = ("offers", cursor, offer_id, listing_id, viewer, kind)
        return cache.value(
            key,
            lambda: OffersUpdate(
                kind=kind,
                offers=[Offer.from_row(row) for row in offers],
                cursor=cursor,
                has_more=False,
                render_key=key,
            ),
        )

    event_filter = WatchFilter(audiences=visible_audiences(actor), wants=wants)
    return follow(
        runtime,
        event_filter,
        snapshot=snapshot,
        entity_of=lambda record: record.entity_id,
        change=change,
    )


# --- settlements(mine) ---------------------------------------------------------------------


def _prime_settlements(context: object, views: list[SettlementView]) -> None:
    loaders = fresh_loaders(context)
    lines = loaders.children(SettlementLineRow.settlement_id)
    for view in views:
        lines.prime(view.settlement.id, view.lines, force=True)


def settlement_updates(
    context: object, runtime: Runtime, actor: Actor, limit: int
) -> AsyncGenerator[SettlementsUpdate, None]:
    cache = shared_cache(runtime)
    viewer = viewer_key(actor)

    async def snapshot(watching: Watch) -> SettlementsUpdate:
        async with runtime.reads() as session:
            page = await settlement_queries.list_settlements(
                session,
                settlement_queries.SettlementFilter(),
                actor=actor,
                after=None,
                limit=limit,
            )
            views = await live_queries.settlement_views(session, [row.id for row in page.rows])
        _prime_settlements(context, views)
        return SettlementsUpdate(
            kind=LiveUpdateKind.SNAPSHOT,
            settlements=[Settlement.from_row(view.settlement) for view in views],
            cursor=cursor_text(watching),
            has_more=page.has_next,
        )

    async def change(record: EventRecord) -> SettlementsUpdate | None:
        settlement_id = record.entity_id

        async def load() -> list[SettlementView]:
            async with runtime.reads() as session:
                return await live_queries.settlement_views(session, [settlement_id])

        views = [
            view
            for view in await cache.get(("settlement", record.cursor, settlement_id), load)
            if may_view(actor, view.settlement.client_id)
        ]
        if not views:
            return None
        _prime_settlements(context, views)
        cursor = record.cursor.encode()
        kind = _kind(record)
        key: Hashable = ("settlements", cursor, settlement_id, viewer, kind)
        return cache.value(
            key,
            lambda: SettlementsUpdate(
                kind=kind,
                settlements=[Settlement.from_row(view.settlement) for view in views],
                cursor=cursor,
                has_more=False,
                render_key=key,
            ),
        )

    event_filter = WatchFilter(
        audiences=visible_audiences(actor), entity_type="Settlement", wants=None
    )
    return follow(
        runtime,
        event_filter,
        snapshot=snapshot,
        entity_of=lambda record: record.entity_id,
        change=change,
    )
