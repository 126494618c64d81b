"""The listing status machine as a table: every (from, to) pair, allowed or refused."""

from __future__ import annotations

import itertools

import pytest

from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import LISTING_TRANSITIONS, ListingStatus
from app.domain.transitions import ensure_transition

S = ListingStatus
ALLOWED = {
    (S.DRAFT, S.ACTIVE),
    (S.DRAFT, S.WITHDRAWN),
    (S.ACTIVE, S.PAUSED),
    (S.ACTIVE, S.RESERVED),
    (S.ACTIVE, S.WITHDRAWN),
    (S.PAUSED, S.ACTIVE),
    (S.PAUSED, S.WITHDRAWN),
    (S.RESERVED, S.SOLD),
    (S.RESERVED, S.ACTIVE),
}
"""DOMAIN.md: DRAFT -> ACTIVE <-> PAUSED; ACTIVE -> RESERVED -> SOLD; RESERVED -> ACTIVE;
ACTIVE|PAUSED|DRAFT -> WITHDRAWN."""

PAIRS = list(itertools.product(ListingStatus, repeat=2))


def test_the_table_is_the_domain_machine() -> None:
    table = {
        (source, target) for source, targets in LISTING_TRANSITIONS.items() for target in targets
    }
    assert table == ALLOWED
    assert set(LISTING_TRANSITIONS) == set(ListingStatus)


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition(source: ListingStatus, target: ListingStatus) -> None:
    if (source, target) in ALLOWED:
        assert (
            ensure_transition(
                LISTING_TRANSITIONS, entity="Listing", current=source, target=target, version=3
            )
            is target
        )
        return
    with pytest.raises(DomainError) as refused:
        ensure_transition(
            LISTING_TRANSITIONS, entity="Listing", current=source, target=target, version=3
        )
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    assert refused.value.facts == {"current_status": source.value, "current_version": 3}
    assert source.value in refused.value.message
    assert target.value in refused.value.message


def test_sold_and_withdrawn_are_final() -> None:
    assert LISTING_TRANSITIONS[S.SOLD] == frozenset()
    assert LISTING_TRANSITIONS[S.WITHDRAWN] == frozenset()
