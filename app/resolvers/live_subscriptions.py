"""The domain subscriptions: a view's current state first, then each change, nothing missed.

Each registers with the hub before it reads its snapshot (app.pubsub.stream.watch), then
reloads what each event changed and sends it if the subscriber may see it, by the same rules
as the matching query. Refusals (sign in, not yours, bad input) come before streaming, as the
operation's `error` message. A subscriber that falls too far behind is ended with
extensions.code LAGGED: subscribe again for a fresh snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.settlements import ensure_may_view
from app.resolvers.ids import parse_id
from app.resolvers.live_board import board_filter, listing_board
from app.resolvers.live_common import current_actor, public_errors, reads_viewer
from app.resolvers.live_entities import check_device, check_order, device_updates, order_updates
from app.resolvers.live_lists import offer_updates, settlement_updates
from app.resolvers.offers import require_offer_reader
from app.schema.errors import query_error
from app.schema.listings import ListingFilter
from app.schema.live_updates import (
    DeviceUpdate,
    ListingBoardUpdate,
    OffersUpdate,
    OrderUpdate,
    SettlementsUpdate,
)
from app.schema.pagination import page_size

_LAGGED = (
    " A subscriber that falls too far behind gets an error with extensions.code LAGGED: "
    "subscribe again for a fresh snapshot."
)


def _signed_in(actor: Actor) -> None:
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to follow this.")


def _node_id(id: relay.GlobalID, type_name: str) -> int | None:
    if id.type_name != type_name or not id.node_id.isdigit():
        return None
    return int(id.node_id)


@strawberry.type
class LiveSubscriptions:
    @strawberry.subscription(
        description="The buyers' board live: the first page of the filter (newest first), "
        "then each listing added, changed or removed (sold, reserved, paused, withdrawn or "
        "out of the filter). Buyers see ACTIVE listings only." + _LAGGED
    )
    async def listing_board(
        self, info: strawberry.Info, filter: ListingFilter | None = None, first: int | None = None
    ) -> AsyncGenerator[ListingBoardUpdate, None]:
        # Not a generator itself: a refusal here is the operation's `error` message.
        try:
            actor = await current_actor(info.context)
            _signed_in(actor)
            listing_filter = board_filter(filter, actor)
            limit = page_size(first, info.context.runtime.settings.page_size_max)
        except DomainError as error:
            raise query_error(error) from error
        board = listing_board(
            info.context,
            info.context.runtime,
            actor,
            listing_filter,
            limit,
            reads_viewer=reads_viewer(info.selected_fields),
        )
        return public_errors(board)

    @strawberry.subscription(
        description="One order live: its state, then again after each change (confirmed, "
        "shipped with its tracking number, delivered, cancelled). Operators and its buyer."
        + _LAGGED
    )
    async def order(
        self, info: strawberry.Info, id: relay.GlobalID
    ) -> AsyncGenerator[OrderUpdate, None]:
        runtime = info.context.runtime
        try:
            actor = await current_actor(info.context)
            order_id = await check_order(runtime, actor, _node_id(id, "Order"))
        except DomainError as error:
            raise query_error(error) from error
        return public_errors(order_updates(info.context, runtime, actor, order_id))

    @strawberry.subscription(
        description="One device live: its state, then again after each change (graded, "
        "listed, sold, shipped). Operators and the client that consigned it." + _LAGGED
    )
    async def device(
        self, info: strawberry.Info, id: relay.GlobalID
    ) -> AsyncGenerator[DeviceUpdate, None]:
        runtime = info.context.runtime
        try:
            actor = await current_actor(info.context)
            _signed_in(actor)
            device_id = await check_device(runtime, actor, _node_id(id, "Device"))
        except DomainError as error:
            raise query_error(error) from error
        return public_errors(device_updates(info.context, runtime, actor, device_id))

    @strawberry.subscription(
        description="Offers live, newest first, then each new offer and each change. Give "
        "`listingId` for one listing's offers, or `mine: true` for every negotiation of yours "
        "(a buyer: its own offers and the counters it received; the seller's side: all)." + _LAGGED
    )
    async def offers(
        self,
        info: strawberry.Info,
        listing_id: strawberry.ID | None = None,
        mine: bool = False,
        first: int | None = None,
    ) -> AsyncGenerator[OffersUpdate, None]:
        runtime = info.context.runtime
        try:
            actor = await current_actor(info.context)
            require_offer_reader(actor)
            listing = parse_id(listing_id, "listingId", type_name="Listing")
            if listing is None and not mine:
                raise DomainError(
                    ErrorCode.INVALID_INPUT, "Give listingId or mine: true.", field="listingId"
                )
            limit = page_size(first, runtime.settings.page_size_max)
        except DomainError as error:
            raise query_error(error) from error
        return public_errors(offer_updates(info.context, runtime, actor, listing, limit))

    @strawberry.subscription(
        description="Your settlements live (a client: its own; operators: all), newest first, "
        "then each new one and each change (approved, paid, voided)." + _LAGGED
    )
    async def settlements(
        self, info: strawberry.Info, first: int | None = None
    ) -> AsyncGenerator[SettlementsUpdate, None]:
        runtime = info.context.runtime
        try:
            actor = await current_actor(info.context)
            ensure_may_view(actor)
            limit = page_size(first, runtime.settings.page_size_max)
        except DomainError as error:
            raise query_error(error) from error
        return public_errors(settlement_updates(info.context, runtime, actor, limit))
