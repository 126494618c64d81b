"""Negotiation rules (rule 4) and who sees what on the board: pure functions, no I/O.

An offer is made by one party (the buyer, or the seller in a counter) and answered by the
other: the answering party accepts, rejects or counters it; only its maker withdraws it.
Amounts never exceed the list price (buy the listing instead), and a counter must move
towards the other party: a seller's counter lies above the buyer's offer, a buyer's counter
below the seller's (an equal or better amount is accepted, not countered).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.money import Money, positive_amount
from app.domain.statuses import ListingStatus, OfferParty

DEFAULT_OFFER_TTL = timedelta(hours=48)
"""Rule 4: an offer (or counter) that nobody answers expires after this long."""


def other_party(party: OfferParty) -> OfferParty:
    return OfferParty.SELLER if party is OfferParty.BUYER else OfferParty.BUYER


def party_of(actor: Actor) -> OfferParty | None:
    """The side an actor negotiates for: a buyer organisation, or the operator (the seller)."""
    if actor.is_buyer and actor.organization_id is not None:
        return OfferParty.BUYER
    if actor.is_operator:
        return OfferParty.SELLER
    return None


def _money(amount_minor: int, currency: str) -> str:
    return f"{Money(amount_minor, currency).decimal} {currency}"


def ensure_offer_amount(
    amount_minor: int, *, list_price_minor: int, currency: str, field: str = "amount"
) -> int:
    """Positive and at most the list price: above it, buying the listing is the answer."""
    positive_amount(amount_minor, field)
    if amount_minor > list_price_minor:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"An offer of {_money(amount_minor, currency)} is above the list price of "
            f"{_money(list_price_minor, currency)}: buy the listing instead.",
            field=field,
        )
    return amount_minor


def ensure_counter_amount(
    amount_minor: int,
    *,
    countered_party: OfferParty,
    countered_minor: int,
    list_price_minor: int,
    currency: str,
    field: str = "amount",
) -> int:
    """Rule 4 (a counter never exceeds the list price), and a counter moves the price."""
    ensure_offer_amount(
        amount_minor, list_price_minor=list_price_minor, currency=currency, field=field
    )
    if countered_party is OfferParty.BUYER and amount_minor <= countered_minor:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"A counter of {_money(amount_minor, currency)} is not above the buyer's offer of "
            f"{_money(countered_minor, currency)}: accept the offer instead.",
            field=field,
        )
    if countered_party is OfferParty.SELLER and amount_minor >= countered_minor:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"A counter of {_money(amount_minor, currency)} is not below the seller's counter of "
            f"{_money(countered_minor, currency)}: accept the counter instead.",
            field=field,
        )
    return amount_minor


def ensure_answering_party(offer_party: OfferParty, side: OfferParty) -> None:
    """Accept, reject and counter are for the party that did not make the offer."""
    if side is offer_party:
        raise DomainError(
            ErrorCode.FORBIDDEN,
            f"You made this offer: the {other_party(offer_party).value.lower()} answers it.",
        )


def ensure_making_party(offer_party: OfferParty, side: OfferParty) -> None:
    """Only the party that made an offer withdraws it; the other rejects it."""
    if side is not offer_party:
        raise DomainError(
            ErrorCode.FORBIDDEN,
            f"The {offer_party.value.lower()} made this offer: reject it instead of withdrawing.",
        )


def is_due(expires_at: datetime, now: datetime) -> bool:
    return expires_at <= now


def ensure_not_expired(expires_at: datetime, now: datetime, *, version: int) -> None:
    """A pending offer past its expiry is over, even before the sweep has marked it."""
    if is_due(expires_at, now):
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"This offer expired at {expires_at.isoformat()}: make a new one.",
            current_status="EXPIRED",
            current_version=version,
        )


# --- Visibility (DOMAIN.md, parties) --------------------------------------------------------


def can_see_offer(actor: Actor, buyer_id: int) -> bool:
    """Operators see every offer; a buyer only the ones of its own negotiations."""
    if actor.is_operator:
        return True
    return actor.is_buyer and actor.organization_id == buyer_id


def can_see_listing(actor: Actor, status: ListingStatus) -> bool:
    """Operators see every listing; anyone else signed in sees what has been on the board.

    The board itself lists ACTIVE listings only; a listing that left it (reserved, sold,
    withdrawn, paused) stays readable by id so that a buyer's screen can show what happened.
    Drafts are the operator's alone.
    """
    if actor.kind is ActorKind.ANONYMOUS:
        return False
    if actor.is_operator:
        return True
    return status is not ListingStatus.DRAFT
