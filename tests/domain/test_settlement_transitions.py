"""The settlement status machine as a matrix: every (from, to) pair, allowed or refused."""

from __future__ import annotations

import pytest

from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import SETTLEMENT_TRANSITIONS, SettlementStatus
from app.domain.transitions import ensure_transition

D, A, P, V = (
    SettlementStatus.DRAFT,
    SettlementStatus.APPROVED,
    SettlementStatus.PAID,
    SettlementStatus.VOID,
)
ALLOWED = {(D, A), (A, P), (D, V), (A, V)}
PAIRS = [(current, target) for current in SettlementStatus for target in SettlementStatus]


def test_the_table_is_domain_md() -> None:
    """DRAFT -> APPROVED -> PAID; DRAFT|APPROVED -> VOID; nothing else."""
    assert set(SETTLEMENT_TRANSITIONS) == set(SettlementStatus)
    table_pairs = {(s, t) for s, targets in SETTLEMENT_TRANSITIONS.items() for t in targets}
    assert table_pairs == ALLOWED


REFUSED = [pair for pair in PAIRS if pair not in ALLOWED]


def _ids(pairs: list[tuple[SettlementStatus, SettlementStatus]]) -> list[str]:
    return [f"{current.value}->{target.value}" for current, target in pairs]


def test_the_matrix_covers_every_pair() -> None:
    assert len(PAIRS) == 16
    assert len(ALLOWED) + len(REFUSED) == len(PAIRS)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED), ids=_ids(sorted(ALLOWED)))
def test_allowed(current: SettlementStatus, target: SettlementStatus) -> None:
    moved = ensure_transition(
        SETTLEMENT_TRANSITIONS, entity="Settlement", current=current, target=target, version=3
    )
    assert moved is target


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=_ids(REFUSED))
def test_refused(current: SettlementStatus, target: SettlementStatus) -> None:
    with pytest.raises(DomainError) as refused:
        ensure_transition(
            SETTLEMENT_TRANSITIONS, entity="Settlement", current=current, target=target, version=3
        )
    assert refused.value.code is ErrorCode.INVALID_TRANSITION
    assert refused.value.facts == {"current_status": current.value, "current_version": 3}
    assert current.value in refused.value.message
