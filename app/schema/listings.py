"""Listings as the buyers' board shows them, with the inputs and results of listing mutations.

A listing's device is shown as a ``BoardDevice``: the specs and the current grade, never the
client that consigned it or anything internal (location, lock and blacklist details). Its id is
the Device's global id, so an operator can open the full Device through ``node``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay

from app import models
from app.domain.offers import can_see_listing, can_see_offer
from app.domain.statuses import ListingStatus
from app.schema.devices import Grade
from app.schema.enums import CosmeticGrade, DeviceStatus
from app.schema.errors import (
    DuplicateDeviceError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotAvailableError,
    NotFoundError,
    StaleError,
)
from app.schema.money import MinorUnits, Money

if TYPE_CHECKING:
    from app.schema.offers import Offer

strawberry.enum(ListingStatus, description="Where a listing is in its life on the board.")


@strawberry.enum(description="The order of the board.")
class ListingSort(Enum):
    NEWEST = "NEWEST"
    PRICE_ASC = "PRICE_ASC"
    PRICE_DESC = "PRICE_DESC"


@strawberry.type(description="A listed device as buyers see it: specs and grade, never the client.")
class BoardDevice:
    id: relay.GlobalID = strawberry.field(description="The Device's global id.")
    make: str
    model: str
    storage_gb: int | None
    colour: str | None
    status: DeviceStatus
    current_grade_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.Device) -> Self:
        return cls(
            id=relay.GlobalID("Device", str(row.id)),
            make=row.make,
            model=row.model,
            storage_gb=row.storage_gb,
            colour=row.colour,
            status=DeviceStatus(row.status),
            current_grade_id=row.current_grade_id,
        )

    @strawberry.field(description="The newest grade of the device.")
    async def current_grade(self, info: strawberry.Info) -> Grade | None:
        if self.current_grade_id is None:
            return None
        row = await info.context.loaders.grade.load(self.current_grade_id)
        return Grade.from_row(row) if row is not None else None


@strawberry.type(description="A device offered for sale at a price.")
class Listing(relay.Node):
    id: relay.NodeID[int]
    price: Money
    status: ListingStatus
    version: int
    created_at: datetime
    updated_at: datetime
    device_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Listing) -> Self:
        return cls(
            id=row.id,
            price=Money.of(row.price_minor, row.currency),
            status=ListingStatus(row.status),
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            device_id=row.device_id,
        )

    @strawberry.field(description="The device for sale: specs and current grade.")
    async def device(self, info: strawberry.Info) -> BoardDevice:
        row = await info.context.loaders.device.load(self.device_id)
        if row is None:  # pragma: no cover - a foreign key guarantees the device
            raise RuntimeError(f"listing {self.id} has no device")
        return BoardDevice.from_row(row)

    @strawberry.field(
        description="Offers on this listing: operators see all, a buyer only its own, oldest first."
    )
    async def offers(
        self, info: strawberry.Info
    ) -> list[Annotated[Offer, strawberry.lazy("app.schema.offers")]]:
        from app.schema.offers import Offer

        actor = info.context.actor
        rows = await info.context.loaders.children(models.Offer.listing_id).load(self.id)
        return [Offer.from_row(row) for row in rows if can_see_offer(actor, row.buyer_id)]

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> Iterable[Self | None]:
        actor = info.context.actor
        rows = await info.context.loaders.by_id(models.Listing).load_many(
            [int(i) for i in node_ids]
        )
        return [
            cls.from_row(row) if row is not None and can_see_listing(actor, row.status) else None
            for row in rows
        ]


@strawberry.type
class ListingEdge(relay.Edge[Listing]):
    pass


@strawberry.type(description="A page of the board.")
class ListingConnection:
    edges: list[ListingEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="How many listings match the filter.")


@strawberry.input(description="Narrow the board; every field given must match.")
class ListingFilter:
    make: str | None = strawberry.field(default=None, description="Exact make, any case.")
    model: str | None = strawberry.field(default=None, description="Exact model, any case.")
    storage_gb: int | None = None
    grade: list[CosmeticGrade] | None = strawberry.field(
        default=None, description="Cosmetic grades of the current grade (any of them)."
    )
    price_min: MinorUnits | None = None
    price_max: MinorUnits | None = None
    text: str | None = strawberry.field(
        default=None, description="Part of the make, model or colour."
    )
    status: list[ListingStatus] | None = strawberry.field(
        default=None, description="Operators only; everyone else always sees ACTIVE listings."
    )


# --- Mutations -----------------------------------------------------------------------------


@strawberry.input(description="A DRAFT listing for a graded, wiped, unlocked, clean device.")
class CreateListingInput:
    device_id: strawberry.ID
    price: MinorUnits
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key and input return the first result."
    )


@strawberry.input(description="A status change of a listing.")
class ListingActionInput:
    listing_id: strawberry.ID
    expected_version: int | None = strawberry.field(
        default=None, description="Refused with STALE if the listing changed since."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key and input return the first result."
    )


@strawberry.input(description="Take a listing off sale; its device goes back to GRADED.")
class WithdrawListingInput:
    listing_id: strawberry.ID
    expected_version: int | None = None
    reason: str | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key and input return the first result."
    )


@strawberry.input(description="A new price; pending offers above it are invalidated.")
class RepriceListingInput:
    listing_id: strawberry.ID
    price: MinorUnits
    expected_version: int | None = None
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key and input return the first result."
    )


@strawberry.type
class ListingPayload:
    listing: Listing


_ERRORS = (
    InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError
)

CreateListingResult = Annotated[ListingPayload | _ERRORS, strawberry.union("CreateListingResult")]
PublishListingResult = Annotated[ListingPayload | _ERRORS, strawberry.union("PublishListingResult")]
PauseListingResult = Annotated[ListingPayload | _ERRORS, strawberry.union("PauseListingResult")]
RepriceListingResult = Annotated[ListingPayload | _ERRORS, strawberry.union("RepriceListingResult")]
WithdrawListingResult = Annotated[
    ListingPayload | _ERRORS, strawberry.union("WithdrawListingResult")
]
