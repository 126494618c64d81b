"""Reading listings: the buyers' board (filters, sort, pages) and one listing.

Operators see every status; everyone else sees ACTIVE listings only, and a draft is "not
found" for anyone but the operator (``app.domain.offers.can_see_listing``). Changes to
listings are in ``app.services.listings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.offers import can_see_listing
from app.domain.statuses import CosmeticGrade, ListingStatus
from app.models import Device, Grade, Listing
from app.services.paging import Page, paginate


class ListingSort(StrEnum):
    NEWEST = "NEWEST"
    PRICE_ASC = "PRICE_ASC"
    PRICE_DESC = "PRICE_DESC"


@dataclass(frozen=True, slots=True)
class ListingFilter:
    make: str | None = None
    model: str | None = None
    storage_gb: int | None = None
    grades: tuple[CosmeticGrade, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    text: str | None = None
    statuses: tuple[ListingStatus, ...] = ()
    """Operators only: anyone else sees ACTIVE listings whatever this says."""


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(listing_filter: ListingFilter, actor: Actor) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    statuses = listing_filter.statuses
    if not actor.is_operator:
        statuses = (ListingStatus.ACTIVE,)
    if statuses:
        conditions.append(Listing.status.in_(statuses))
    if listing_filter.make and listing_filter.make.strip():
        conditions.append(func.lower(Device.make) == listing_filter.make.strip().lower())
    if listing_filter.model and listing_filter.model.strip():
        conditions.append(func.lower(Device.model) == listing_filter.model.strip().lower())
    if listing_filter.storage_gb is not None:
        conditions.append(Device.storage_gb == listing_filter.storage_gb)
    if listing_filter.grades:
        conditions.append(Grade.cosmetic.in_(listing_filter.grades))
    if listing_filter.price_min is not None:
        conditions.append(Listing.price_minor >= listing_filter.price_min)
    if listing_filter.price_max is not None:
        conditions.append(Listing.price_minor <= listing_filter.price_max)
    if listing_filter.text and listing_filter.text.strip():
        pattern = f"%{_escape_like(listing_filter.text.strip().lower())}%"
        conditions.append(
            func.lower(Device.make).like(pattern, escape="\\")
            | func.lower(Device.model).like(pattern, escape="\\")
            | func.lower(func.coalesce(Device.colour, "")).like(pattern, escape="\\")
        )
    return conditions


def _check_filter(listing_filter: ListingFilter) -> None:
    for field, value in (
        ("priceMin", listing_filter.price_min),
        ("priceMax", listing_filter.price_max),
    ):
        if value is not None and value < 0:
            raise DomainError(ErrorCode.INVALID_INPUT, f"{field} cannot be negative.", field=field)
    low, high = listing_filter.price_min, listing_filter.price_max
    if low is not None and high is not None and low > high:
        raise DomainError(ErrorCode.INVALID_INPUT, "priceMin is above priceMax.", field="priceMin")


async def list_listings(
    session: AsyncSession,
    listing_filter: ListingFilter,
    *,
    actor: Actor,
    sort: ListingSort = ListingSort.NEWEST,
    after: list[Any] | None,
    limit: int,
) -> Page[Listing]:
    """One page of the board: operators see every status, everyone else ACTIVE only.

    The device and its current grade are joined for the filters; the page itself is listings
    only (the API loads devices and grades through DataLoaders, one query each per page).
    """
    _check_filter(listing_filter)
    statement = (
        select(Listing)
        .join(Device, Device.id == Listing.device_id)
        .outerjoin(Grade, Grade.id == Device.current_grade_id)
        .where(*_conditions(listing_filter, actor))
    )
    if sort is ListingSort.NEWEST:
        return await paginate(
            session, statement, id_column=Listing.id, descending=True, after=after, limit=limit
        )
    return await paginate(
        session,
        statement,
        id_column=Listing.id,
        sort=Listing.price_minor,
        descending=sort is ListingSort.PRICE_DESC,
        after=after,
        limit=limit,
    )


async def get_listing(session: AsyncSession, listing_id: int, *, actor: Actor) -> Listing | None:
    """The listing if the actor may see it (drafts are the operator's), else None."""
    listing = await session.get(Listing, listing_id)
    if listing is None or not can_see_listing(actor, listing.status):
        return None
    return listing
