"""Reading offers: one offer and pages of them, for the two parties of a negotiation.

Operators (the seller) see every offer; a buyer only its own; anyone else is refused
(``app.domain.offers``). Making and answering offers is in ``app.services.offers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.offers import can_see_offer, party_of
from app.domain.statuses import OfferParty, OfferStatus
from app.models import Offer
from app.services.paging import Page, paginate


@dataclass(frozen=True, slots=True)
class OfferFilter:
    listing_id: int | None = None
    statuses: tuple[OfferStatus, ...] = ()
    from_party: OfferParty | None = None
    mine: bool = False
    """Offers made by the viewer's side: a buyer's own offers, or the seller's counters."""


def negotiating_party(actor: Actor) -> OfferParty:
    """The side ``actor`` negotiates for (the seller or a buyer); anyone else is refused."""
    side = party_of(actor)
    if side is None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only buyers and the seller negotiate offers.")
    return side


async def list_offers(
    session: AsyncSession,
    offer_filter: OfferFilter,
    *,
    actor: Actor,
    after: list[Any] | None,
    limit: int,
) -> Page[Offer]:
    """Newest first. Operators see every offer; a buyer only its own; anyone else none."""
    side = negotiating_party(actor)
    statement = select(Offer)
    if side is OfferParty.BUYER:
        statement = statement.where(Offer.buyer_id == actor.organization_id)
    if offer_filter.listing_id is not None:
        statement = statement.where(Offer.listing_id == offer_filter.listing_id)
    if offer_filter.statuses:
        statement = statement.where(Offer.status.in_(offer_filter.statuses))
    if offer_filter.from_party is not None:
        statement = statement.where(Offer.from_party == offer_filter.from_party)
    if offer_filter.mine:
        statement = statement.where(Offer.from_party == side)
    return await paginate(
        session, statement, id_column=Offer.id, descending=True, after=after, limit=limit
    )


async def get_offer(session: AsyncSession, offer_id: int, *, actor: Actor) -> Offer | None:
    offer = await session.get(Offer, offer_id)
    if offer is None or not can_see_offer(actor, offer.buyer_id):
        return None
    return offer
