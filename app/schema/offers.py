"""Offers and counter offers as the API shows them, with the inputs and results of negotiation.

An offer is between the operator and one buyer: operators see every offer, a buyer only its
own; a client never sees offers (they would name buyers).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Self

import strawberry
from strawberry import relay

from app import models
from app.domain.offers import can_see_offer
from app.domain.statuses import OfferParty, OfferStatus
from app.schema.errors import (
    DuplicateDeviceError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotAvailableError,
    NotFoundError,
    StaleError,
)
from app.schema.listings import Listing
from app.schema.money import MinorUnits, Money
from app.schema.organizations import Organization

strawberry.enum(OfferStatus, description="Where an offer is in the negotiation.")
strawberry.enum(OfferParty, description="Who made an offer: the buyer, or the seller countering.")


@strawberry.type(description="An amount proposed for a listing by a buyer, or a seller's counter.")
class Offer(relay.Node):
    id: relay.NodeID[int]
    amount: Money
    status: OfferStatus
    from_party: OfferParty
    expires_at: datetime
    created_at: datetime
    version: int
    listing_id: strawberry.Private[int]
    buyer_id: strawberry.Private[int]
    parent_offer_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Offer) -> Self:
        return cls(
            id=row.id,
            amount=Money.of(row.amount_minor, row.currency),
            status=OfferStatus(row.status),
            from_party=OfferParty(row.from_party),
            expires_at=row.expires_at,
            created_at=row.created_at,
            version=row.version,
            listing_id=row.listing_id,
            buyer_id=row.buyer_id,
            parent_offer_id=row.parent_offer_id,
        )

    @strawberry.field(description="The listing the offer is for.")
    async def listing(self, info: strawberry.Info) -> Listing | None:
        row = await info.context.loaders.by_id(models.Listing).load(self.listing_id)
        return Listing.from_row(row) if row is not None else None

    @strawberry.field(description="The buyer organisation negotiating: its operators and itself.")
    async def buyer(self, info: strawberry.Info) -> Organization | None:
        if not can_see_offer(info.context.actor, self.buyer_id):
            return None
        row = await info.context.loaders.organization.load(self.buyer_id)
        return Organization.from_row(row) if row is not None else None

    @strawberry.field(description="The offer this one counters, if it is a counter.")
    async def parent(self, info: strawberry.Info) -> Offer | None:
        if self.parent_offer_id is None:
            return None
        row = await info.context.loaders.by_id(models.Offer).load(self.parent_offer_id)
        return Offer.from_row(row) if row is not None else None

    @strawberry.field(description="The counter that answered this offer, if it was countered.")
    async def counter(self, info: strawberry.Info) -> Offer | None:
        rows = await info.context.loaders.children(models.Offer.parent_offer_id).load(self.id)
        return Offer.from_row(rows[0]) if rows else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> Iterable[Self | None]:
        actor = info.context.actor
        rows = await info.context.loaders.by_id(models.Offer).load_many([int(i) for i in node_ids])
        return [
            cls.from_row(row) if row is not None and can_see_offer(actor, row.buyer_id) else None
            for row in rows
        ]


@strawberry.type
class OfferEdge(relay.Edge[Offer]):
    pass


@strawberry.type(description="A page of offers, newest first.")
class OfferConnection:
    edges: list[OfferEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="How many offers match the filter.")


@strawberry.input(description="Narrow a list of offers; a buyer only ever sees its own.")
class OfferFilter:
    listing_id: strawberry.ID | None = None
    status: list[OfferStatus] | None = None
    from_party: OfferParty | None = None
    mine: bool | None = strawberry.field(
        default=None,
        description="Only offers made by my side: a buyer's own offers, the seller's counters.",
    )


# --- Mutations -----------------------------------------------------------------------------


@strawberry.input(description="A buyer's offer on an ACTIVE listing, at most its price.")
class MakeOfferInput:
    listing_id: strawberry.ID
    amount: MinorUnits
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key and input return the first result."
    )


@strawberry.input(description="Answer an offer with another amount (the other party's turn).")
class CounterOfferInput:
    offer_id: strawberry.ID
    amount: MinorUnits
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input(description="Accept an offer: the device is reserved by an order at its amount.")
class AcceptOfferInput:
    offer_id: strawberry.ID
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.input(description="Turn an offer down (the party that did not make it).")
class RejectOfferInput:
    offer_id: strawberry.ID
    expected_version: int | None = None
    reason: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key and input return the first result."
    )


@strawberry.input(description="Take back an offer (the party that made it).")
class WithdrawOfferInput:
    offer_id: strawberry.ID
    expected_version: int | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key and input return the first result."
    )


@strawberry.type
class OfferPayload:
    offer: Offer


@strawberry.type
class CounterOfferPayload:
    offer: Offer = strawberry.field(description="The new PENDING counter.")
    countered_offer: Offer = strawberry.field(description="The offer it answers, now COUNTERED.")


@strawberry.type
class AcceptOfferPayload:
    offer: Offer
    order_id: relay.GlobalID = strawberry.field(
        description="The order that reserves the device at the offer's amount."
    )


_ERRORS = (
    InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError
)

MakeOfferResult = Annotated[OfferPayload | _ERRORS, strawberry.union("MakeOfferResult")]
CounterOfferResult = Annotated[
    CounterOfferPayload | _ERRORS, strawberry.union("CounterOfferResult")
]
AcceptOfferResult = Annotated[AcceptOfferPayload | _ERRORS, strawberry.union("AcceptOfferResult")]
RejectOfferResult = Annotated[OfferPayload | _ERRORS, strawberry.union("RejectOfferResult")]
WithdrawOfferResult = Annotated[OfferPayload | _ERRORS, strawberry.union("WithdrawOfferResult")]
