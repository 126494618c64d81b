"""Settlement maths (rule 7) as properties: exact integers, half up per line, sums of lines."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.money import Money
from app.domain.settlements import SettlementLineAmounts, line_amounts, totals

grosses = st.integers(min_value=0, max_value=10**9)
bps = st.integers(min_value=0, max_value=10_000)
fees = st.integers(min_value=0, max_value=10**6)

PROPERTY = settings(max_examples=300, database=None, deadline=None)


def half_up(value: Fraction) -> int:
    """The exact rational rounded half up (values here are never negative)."""
    floor = value.numerator // value.denominator
    return floor + 1 if value - floor >= Fraction(1, 2) else floor


@PROPERTY
@given(gross=grosses, commission_bps=bps, fee=fees)
def test_one_line(gross: int, commission_bps: int, fee: int) -> None:
    line = line_amounts(gross, commission_bps, fee)

    assert line.gross == gross
    assert line.commission == half_up(Fraction(gross * commission_bps, 10_000))
    assert 0 <= line.commission <= gross
    assert line.fees == fee
    assert line.net == line.gross - line.commission - line.fees
    assert all(type(value) is int for value in (line.gross, line.commission, line.fees, line.net))


@PROPERTY
@given(prices=st.lists(grosses, max_size=40), commission_bps=bps, fee=fees)
def test_totals_are_sums_of_lines(prices: list[int], commission_bps: int, fee: int) -> None:
    lines = [line_amounts(price, commission_bps, fee) for price in prices]
    summed = totals(lines)

    assert summed.line_count == len(prices)
    assert summed.gross == sum(prices)
    assert summed.commission == sum(line.commission for line in lines)
    assert summed.fees == fee * len(prices)
    assert summed.net == sum(line.net for line in lines)
    assert summed.net == summed.gross - summed.commission - summed.fees
    # Rounding is per line: the total commission is within half a unit per line of the exact.
    exact = Fraction(sum(prices) * commission_bps, 10_000)
    assert abs(summed.commission - exact) <= Fraction(len(prices), 2)


@pytest.mark.parametrize(
    ("gross", "commission_bps", "fee", "expected"),
    [
        pytest.param(10_000, 1500, 200, SettlementLineAmounts(10_000, 1500, 200, 8300), id="even"),
        pytest.param(12_345, 1500, 200, SettlementLineAmounts(12_345, 1852, 200, 10_293), id="up"),
        pytest.param(1, 5000, 0, SettlementLineAmounts(1, 1, 0, 0), id="half-rounds-up"),
        pytest.param(3, 1666, 0, SettlementLineAmounts(3, 0, 0, 3), id="below-half-down"),
        pytest.param(0, 10_000, 0, SettlementLineAmounts(0, 0, 0, 0), id="zero"),
        pytest.param(999, 10_000, 0, SettlementLineAmounts(999, 999, 0, 0), id="all-commission"),
        pytest.param(100, 1500, 500, SettlementLineAmounts(100, 15, 500, -415), id="net-negative"),
    ],
)
def test_examples(gross: int, commission_bps: int, fee: int, expected: object) -> None:
    assert line_amounts(gross, commission_bps, fee) == expected


def test_a_negative_net_is_kept_not_clamped() -> None:
    """Decision: the fee is owed whatever the price; the client's net total carries it."""
    lines = [line_amounts(100, 1500, 500), line_amounts(10_000, 1500, 500)]
    summed = totals(lines)
    assert [line.net for line in lines] == [-415, 8000]
    assert summed.net == 7585
    assert Money(-415, "EUR").decimal == "-4.15"


def test_no_lines_sum_to_zero() -> None:
    assert totals([]) == totals(iter(()))
    summed = totals([])
    assert (summed.gross, summed.commission, summed.fees, summed.net, summed.line_count) == (
        0,
        0,
        0,
        0,
        0,
    )


@pytest.mark.parametrize(
    ("gross", "commission_bps", "fee", "error"),
    [
        pytest.param(-1, 1500, 200, ValueError, id="negative-gross"),
        pytest.param(100, -1, 200, ValueError, id="negative-bps"),
        pytest.param(100, 10_001, 200, ValueError, id="bps-over-100%"),
        pytest.param(100, 1500, -1, ValueError, id="negative-fee"),
        pytest.param(100.0, 1500, 200, TypeError, id="float-gross"),
        pytest.param(100, 1500, 2.5, TypeError, id="float-fee"),
        pytest.param(True, 1500, 200, TypeError, id="bool-gross"),
    ],
)
def test_bad_terms_are_refused(
    gross: object, commission_bps: object, fee: object, error: type[Exception]
) -> None:
    with pytest.raises(error):
        line_amounts(gross, commission_bps, fee)  # type: ignore[arg-type]
