"""Negotiation rules (rule 4), the offer status machine, parties and visibility: pure."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from app.domain.actors import ANONYMOUS, Actor, ActorKind, system
from app.domain.errors import DomainError, ErrorCode
from app.domain.offers import (
    DEFAULT_OFFER_TTL,
    can_see_listing,
    can_see_offer,
    ensure_answering_party,
    ensure_counter_amount,
    ensure_making_party,
    ensure_not_expired,
    ensure_offer_amount,
    is_due,
    other_party,
    party_of,
)
from app.domain.statuses import (
    OFFER_TRANSITIONS,
    ListingStatus,
    OfferParty,
    OfferStatus,
    OrganizationKind,
    Role,
)
from app.domain.transitions import ensure_transition

BUYER = OfferParty.BUYER
SELLER = OfferParty.SELLER
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def user(kind: OrganizationKind, organization_id: int, role: Role) -> Actor:
    return Actor(
        ActorKind.USER,
        subject_id=organization_id * 10,
        organization_id=organization_id,
        organization_kind=kind,
        role=role,
    )


SALES = user(OrganizationKind.OPERATOR, 1, Role.SALES)
CLIENT = user(OrganizationKind.CLIENT, 2, Role.VIEWER)
BUYER_A = user(OrganizationKind.BUYER, 3, Role.BUYER)
BUYER_B = user(OrganizationKind.BUYER, 4, Role.BUYER)


def refused(code: ErrorCode) -> pytest.RaisesExc[DomainError]:
    return pytest.raises(DomainError, check=lambda error: error.code is code)


# --- Status machine --------------------------------------------------------------------------

PAIRS = list(itertools.product(OfferStatus, repeat=2))
ENDINGS = {
    OfferStatus.ACCEPTED,
    OfferStatus.REJECTED,
    OfferStatus.COUNTERED,
    OfferStatus.EXPIRED,
    OfferStatus.WITHDRAWN,
    OfferStatus.INVALIDATED,
}


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_offer_transition(source: OfferStatus, target: OfferStatus) -> None:
    if source is OfferStatus.PENDING and target in ENDINGS:
        assert (
            ensure_transition(
                OFFER_TRANSITIONS, entity="Offer", current=source, target=target, version=1
            )
            is target
        )
        return
    with refused(ErrorCode.INVALID_TRANSITION):
        ensure_transition(
            OFFER_TRANSITIONS, entity="Offer", current=source, target=target, version=1
        )


# --- Amounts ---------------------------------------------------------------------------------


def test_an_offer_up_to_the_list_price_is_accepted() -> None:
    assert ensure_offer_amount(1, list_price_minor=50_000, currency="EUR") == 1
    assert ensure_offer_amount(50_000, list_price_minor=50_000, currency="EUR") == 50_000


@pytest.mark.parametrize("amount", [0, -1])
def test_an_offer_must_be_positive(amount: int) -> None:
    with refused(ErrorCode.INVALID_INPUT) as error:
        ensure_offer_amount(amount, list_price_minor=50_000, currency="EUR")
    assert error.value.facts["field"] == "amount"


def test_an_offer_above_the_list_price_is_refused_with_both_amounts() -> None:
    with refused(ErrorCode.INVALID_INPUT) as error:
        ensure_offer_amount(50_001, list_price_minor=50_000, currency="EUR")
    assert "500.01 EUR" in error.value.message
    assert "500.00 EUR" in error.value.message
    assert error.value.facts == {"field": "amount"}


@pytest.mark.parametrize(
    ("countered_party", "countered", "amount", "allowed"),
    [
        # The seller counters a buyer's 400.00: above it, at most the list price of 500.00.
        (BUYER, 40_000, 45_000, True),
        (BUYER, 40_000, 50_000, True),
        (BUYER, 40_000, 50_001, False),  # rule 4: never above the list price
        (BUYER, 40_000, 40_000, False),  # the same amount: accept instead
        (BUYER, 40_000, 39_999, False),
        # The buyer counters a seller's 450.00: below it.
        (SELLER, 45_000, 42_000, True),
        (SELLER, 45_000, 45_000, False),
        (SELLER, 45_000, 46_000, False),
        (SELLER, 45_000, 0, False),
    ],
)
def test_counter_amount(
    countered_party: OfferParty, countered: int, amount: int, allowed: bool
) -> None:
    def check() -> int:
        return ensure_counter_amount(
            amount,
            countered_party=countered_party,
            countered_minor=countered,
            list_price_minor=50_000,
            currency="EUR",
        )

    if allowed:
        assert check() == amount
        return
    with refused(ErrorCode.INVALID_INPUT) as error:
        check()
    assert error.value.facts["field"] == "amount"


# --- Parties ---------------------------------------------------------------------------------


def test_parties() -> None:
    assert other_party(BUYER) is SELLER
    assert other_party(SELLER) is BUYER
    assert party_of(BUYER_A) is BUYER
    assert party_of(SALES) is SELLER
    assert party_of(system("offer-expiry")) is SELLER
    assert party_of(CLIENT) is None
    assert party_of(ANONYMOUS) is None


@pytest.mark.parametrize(("made_by", "side"), list(itertools.product(OfferParty, repeat=2)))
def test_the_other_party_answers_and_the_maker_withdraws(
    made_by: OfferParty, side: OfferParty
) -> None:
    if made_by is side:
        ensure_making_party(made_by, side)
        with refused(ErrorCode.FORBIDDEN):
            ensure_answering_party(made_by, side)
    else:
        ensure_answering_party(made_by, side)
        with refused(ErrorCode.FORBIDDEN):
            ensure_making_party(made_by, side)


# --- Expiry ----------------------------------------------------------------------------------


def test_offers_expire_after_48_hours_by_default() -> None:
    assert timedelta(hours=48) == DEFAULT_OFFER_TTL


def test_an_offer_is_due_at_its_expiry() -> None:
    assert is_due(NOW, NOW)
    assert is_due(NOW - timedelta(seconds=1), NOW)
    assert not is_due(NOW + timedelta(seconds=1), NOW)
    ensure_not_expired(NOW + timedelta(seconds=1), NOW, version=2)
    with refused(ErrorCode.INVALID_TRANSITION) as error:
        ensure_not_expired(NOW, NOW, version=2)
    assert error.value.facts == {"current_status": "EXPIRED", "current_version": 2}


# --- Visibility ------------------------------------------------------------------------------


def test_who_sees_an_offer() -> None:
    assert can_see_offer(SALES, 3)
    assert can_see_offer(system("offer-expiry"), 3)
    assert can_see_offer(BUYER_A, 3)
    assert not can_see_offer(BUYER_B, 3)
    assert not can_see_offer(CLIENT, 3)
    assert not can_see_offer(ANONYMOUS, 3)


@pytest.mark.parametrize("status", list(ListingStatus))
def test_who_sees_a_listing(status: ListingStatus) -> None:
    assert can_see_listing(SALES, status)
    on_board_once = status is not ListingStatus.DRAFT
    assert can_see_listing(BUYER_A, status) is on_board_once
    assert can_see_listing(CLIENT, status) is on_board_once
    assert not can_see_listing(ANONYMOUS, status)
