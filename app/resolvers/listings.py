"""Listing queries (the buyers' board) and the sales team's listing mutations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from app.auth.policy import Permission, require
from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.models import Listing as ListingRow
from app.resolvers.ids import parse_id
from app.schema.errors import error_result, query_error
from app.schema.listings import (
    CreateListingInput,
    CreateListingResult,
    Listing,
    ListingActionInput,
    ListingConnection,
    ListingEdge,
    ListingFilter,
    ListingPayload,
    ListingSort,
    PauseListingResult,
    PublishListingResult,
    RepriceListingInput,
    RepriceListingResult,
    WithdrawListingInput,
    WithdrawListingResult,
)
from app.schema.pagination import decode_cursor, encode_cursor, page_info, page_size
from app.services import listing_queries
from app.services import listings as listing_service


def require_signed_in(actor: Actor) -> None:
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to see the board.")


def _listing_filter(raw: ListingFilter | None) -> listing_queries.ListingFilter:
    if raw is None:
        return listing_queries.ListingFilter()
    return listing_queries.ListingFilter(
        make=raw.make,
        model=raw.model,
        storage_gb=raw.storage_gb,
        grades=tuple(raw.grade or ()),
        price_min=raw.price_min,
        price_max=raw.price_max,
        text=raw.text,
        statuses=tuple(raw.status or ()),
    )


def _listing_id(raw: strawberry.ID) -> int:
    return parse_id(raw, "listingId", type_name="Listing") or 0


async def _mutate(
    info: strawberry.Info, action: Callable[[Actor], Awaitable[ListingRow]]
) -> ListingPayload | object:
    """Authorize (MANAGE_LISTINGS), run the service, and map a refusal to its result type."""
    actor = info.context.actor
    try:
        require(actor, Permission.MANAGE_LISTINGS)
        row = await action(actor)
    except DomainError as error:
        return error_result(error)
    return ListingPayload(listing=Listing.from_row(row))


@strawberry.type
class ListingQueries:
    @strawberry.field(description="One listing; buyers see what has been on the board.")
    async def listing(self, info: strawberry.Info, id: strawberry.ID) -> Listing | None:
        try:
            require_signed_in(info.context.actor)
            listing_id = _listing_id(id)
            async with info.context.reads() as session:
                row = await listing_queries.get_listing(
                    session, listing_id, actor=info.context.actor
                )
        except DomainError as error:
            raise query_error(error) from error
        return Listing.from_row(row) if row is not None else None

    @strawberry.field(
        description="The buyers' board, a page at a time: buyers see ACTIVE listings only."
    )
    async def listings(
        self,
        info: strawberry.Info,
        filter: ListingFilter | None = None,
        sort: ListingSort = ListingSort.NEWEST,
        first: int | None = None,
        after: str | None = None,
    ) -> ListingConnection:
        try:
            require_signed_in(info.context.actor)
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            async with info.context.reads() as session:
                page = await listing_queries.list_listings(
                    session,
                    _listing_filter(filter),
                    actor=info.context.actor,
                    sort=listing_queries.ListingSort(sort.value),
                    after=decode_cursor(after),
                    limit=limit,
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            ListingEdge(cursor=encode_cursor(key), node=Listing.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return ListingConnection(
            edges=edges,
            page_info=page_info(
                [edge.cursor for edge in edges],
                has_next=page.has_next,
                has_previous=after is not None,
            ),
            total_count=page.total,
        )


@strawberry.type
class ListingMutations:
    @strawberry.mutation(description="A DRAFT listing for a device that may be listed (rule 1).")
    async def create_listing(
        self, info: strawberry.Info, input: CreateListingInput
    ) -> CreateListingResult:
        async def action(actor: Actor) -> ListingRow:
            return await listing_service.create_listing(
                info.context.sessions,
                device_id=parse_id(input.device_id, "deviceId", type_name="Device") or 0,
                price_minor=input.price,
                actor=actor,
                idempotency_key=input.idempotency_key,
            )

        return await _mutate(info, action)  # type: ignore[return-value]

    @strawberry.mutation(description="Put a DRAFT or PAUSED listing on the board (ACTIVE).")
    async def publish_listing(
        self, info: strawberry.Info, input: ListingActionInput
    ) -> PublishListingResult:
        async def action(actor: Actor) -> ListingRow:
            return await listing_service.publish_listing(
                info.context.sessions,
                listing_id=_listing_id(input.listing_id),
                actor=actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )

        return await _mutate(info, action)  # type: ignore[return-value]

    @strawberry.mutation(description="Take an ACTIVE listing off the board; its offers stay.")
    async def pause_listing(
        self, info: strawberry.Info, input: ListingActionInput
    ) -> PauseListingResult:
        async def action(actor: Actor) -> ListingRow:
            return await listing_service.pause_listing(
                info.context.sessions,
                listing_id=_listing_id(input.listing_id),
                actor=actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )

        return await _mutate(info, action)  # type: ignore[return-value]

    @strawberry.mutation(description="Change the price; pending offers above it are invalidated.")
    async def reprice_listing(
        self, info: strawberry.Info, input: RepriceListingInput
    ) -> RepriceListingResult:
        async def action(actor: Actor) -> ListingRow:
            return await listing_service.reprice_listing(
                info.context.sessions,
                listing_id=_listing_id(input.listing_id),
                price_minor=input.price,
                actor=actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )

        return await _mutate(info, action)  # type: ignore[return-value]

    @strawberry.mutation(description="Withdraw a listing: the device is delisted, offers end.")
    async def withdraw_listing(
        self, info: strawberry.Info, input: WithdrawListingInput
    ) -> WithdrawListingResult:
        async def action(actor: Actor) -> ListingRow:
            return await listing_service.withdraw_listing(
                info.context.sessions,
                listing_id=_listing_id(input.listing_id),
                actor=actor,
                expected_version=input.expected_version,
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            )

        return await _mutate(info, action)  # type: ignore[return-value]
