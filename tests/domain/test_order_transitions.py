"""The order and shipment status machines of DOMAIN.md, every (from, to) pair."""

from __future__ import annotations

import itertools

import pytest

from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    ORDER_TRANSITIONS,
    SHIPMENT_TRANSITIONS,
    OrderStatus,
    ShipmentStatus,
)
from app.domain.transitions import ensure_transition

Ord = OrderStatus
S = ShipmentStatus

# Written out from DOMAIN.md, not derived from the tables under test.
ORDER_EDGES = {
    (Ord.PENDING, Ord.CONFIRMED),
    (Ord.CONFIRMED, Ord.SHIPPED),
    (Ord.SHIPPED, Ord.DELIVERED),
    (Ord.DELIVERED, Ord.COMPLETED),
    (Ord.PENDING, Ord.CANCELLED),
    (Ord.CONFIRMED, Ord.CANCELLED),
}
SHIPMENT_EDGES = {
    (S.LABEL_CREATED, S.IN_TRANSIT),
    (S.IN_TRANSIT, S.DELIVERED),
    (S.IN_TRANSIT, S.EXCEPTION),
}


def _pairs(enum: type[OrderStatus] | type[ShipmentStatus]) -> list[tuple[str, str]]:
    return [(a.value, b.value) for a, b in itertools.product(list(enum), repeat=2)]


def test_tables_cover_every_status() -> None:
    assert set(ORDER_TRANSITIONS) == set(OrderStatus)
    assert set(SHIPMENT_TRANSITIONS) == set(ShipmentStatus)


@pytest.mark.parametrize(("current", "target"), _pairs(OrderStatus))
def test_order_transition_matrix(current: str, target: str) -> None:
    source, goal = OrderStatus(current), OrderStatus(target)
    if (source, goal) in ORDER_EDGES:
        assert (
            ensure_transition(
                ORDER_TRANSITIONS, entity="Order", current=source, target=goal, version=3
            )
            is goal
        )
        return
    with pytest.raises(DomainError) as refused:
        ensure_transition(ORDER_TRANSITIONS, entity="Order", current=source, target=goal, version=3)
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    assert refused.value.facts == {"current_status": current, "current_version": 3}
    assert current in refused.value.message


@pytest.mark.parametrize(("current", "target"), _pairs(ShipmentStatus))
def test_shipment_transition_matrix(current: str, target: str) -> None:
    source, goal = ShipmentStatus(current), ShipmentStatus(target)
    if (source, goal) in SHIPMENT_EDGES:
        assert (
            ensure_transition(
                SHIPMENT_TRANSITIONS, entity="Shipment", current=source, target=goal, version=1
            )
            is goal
        )
        return
    with pytest.raises(DomainError) as refused:
        ensure_transition(
            SHIPMENT_TRANSITIONS, entity="Shipment", current=source, target=goal, version=1
        )
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    assert refused.value.facts == {"current_status": current, "current_version": 1}


def test_terminal_statuses_lead_nowhere() -> None:
    assert ORDER_TRANSITIONS[Ord.COMPLETED] == frozenset()
    assert ORDER_TRANSITIONS[Ord.CANCELLED] == frozenset()
    assert SHIPMENT_TRANSITIONS[S.DELIVERED] == frozenset()
    assert SHIPMENT_TRANSITIONS[S.EXCEPTION] == frozenset()
