"""The device and lot status machines of DOMAIN.md as matrices: every (from, to) pair."""

from __future__ import annotations

import itertools

import pytest

from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import DEVICE_TRANSITIONS, LOT_TRANSITIONS, DeviceStatus, LotStatus
from app.domain.transitions import ensure_transition

D = DeviceStatus
DEVICE_ALLOWED = {
    (D.RECEIVED, D.GRADED),
    (D.RECEIVED, D.QUARANTINED),
    (D.GRADED, D.QUARANTINED),
    (D.QUARANTINED, D.GRADED),  # once cleared
    (D.GRADED, D.AVAILABLE),  # listed
    (D.AVAILABLE, D.GRADED),  # delisted
    (D.AVAILABLE, D.RESERVED),
    (D.RESERVED, D.AVAILABLE),  # order cancelled or offer lapsed
    (D.RESERVED, D.SOLD),
    (D.SOLD, D.AVAILABLE),  # a confirmed order cancelled
    (D.SOLD, D.SHIPPED),
    (D.SHIPPED, D.DELIVERED),
}

L = LotStatus
LOT_ALLOWED = {
    (L.OPEN, L.RECEIVING),
    (L.RECEIVING, L.RECONCILED),
    (L.RECONCILED, L.CLOSED),
}


def test_the_tables_cover_every_status() -> None:
    assert set(DEVICE_TRANSITIONS) == set(DeviceStatus)
    assert set(LOT_TRANSITIONS) == set(LotStatus)


@pytest.mark.parametrize(
    ("current", "target"),
    list(itertools.product(DeviceStatus, repeat=2)),
    ids=lambda status: status.value,
)
def test_device_matrix(current: DeviceStatus, target: DeviceStatus) -> None:
    if (current, target) in DEVICE_ALLOWED:
        assert (
            ensure_transition(
                DEVICE_TRANSITIONS, entity="Device", current=current, target=target, version=3
            )
            is target
        )
        return
    with pytest.raises(DomainError) as caught:
        ensure_transition(
            DEVICE_TRANSITIONS, entity="Device", current=current, target=target, version=3
        )
    assert caught.value.code is ErrorCode.INVALID_TRANSITION
    assert caught.value.facts == {"current_status": current.value, "current_version": 3}


@pytest.mark.parametrize(
    ("current", "target"),
    list(itertools.product(LotStatus, repeat=2)),
    ids=lambda status: status.value,
)
def test_lot_matrix(current: LotStatus, target: LotStatus) -> None:
    if (current, target) in LOT_ALLOWED:
        assert (
            ensure_transition(
                LOT_TRANSITIONS, entity="Lot", current=current, target=target, version=1
            )
            is target
        )
        return
    with pytest.raises(DomainError) as caught:
        ensure_transition(LOT_TRANSITIONS, entity="Lot", current=current, target=target, version=1)
    assert caught.value.code is ErrorCode.INVALID_TRANSITION
    assert caught.value.facts["current_status"] == current.value


def test_the_allowed_sets_are_exactly_the_tables() -> None:
    """No transition in the table that the specification does not list."""
    device_table = {(a, b) for a, targets in DEVICE_TRANSITIONS.items() for b in targets}
    lot_table = {(a, b) for a, targets in LOT_TRANSITIONS.items() for b in targets}
    assert device_table == DEVICE_ALLOWED
    assert lot_table == LOT_ALLOWED
