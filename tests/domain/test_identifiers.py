"""IMEI and serial rules: pure functions, no database."""

from __future__ import annotations

import pytest

from app.domain.errors import DomainError, ErrorCode
from app.domain.identifiers import luhn_valid, normalize_imei, normalize_serial
from tests.support.factories import make_imei

VALID_IMEIS = ["490154203237518", "356938035643809", "352099001761481"]


@pytest.mark.parametrize("imei", VALID_IMEIS)
def test_luhn_accepts_known_valid_imeis(imei: str) -> None:
    assert luhn_valid(imei) is True


@pytest.mark.parametrize("imei", VALID_IMEIS)
def test_luhn_refuses_every_single_digit_change(imei: str) -> None:
    changed = 0
    for position in range(len(imei)):
        for digit in "0123456789":
            if digit == imei[position]:
                continue
            mutated = imei[:position] + digit + imei[position + 1 :]
            assert luhn_valid(mutated) is False, mutated
            changed += 1
    assert changed == 15 * 9


def test_luhn_refuses_swapped_adjacent_digits() -> None:
    # 49 -> 94 at the start: a typical typing error Luhn catches.
    assert luhn_valid("940154203237518") is False


def test_luhn_small_cases() -> None:
    assert luhn_valid("0") is True
    assert luhn_valid("18") is True
    assert luhn_valid("79927398713") is True
    assert luhn_valid("79927398710") is False


def test_generated_imeis_are_valid_and_distinct() -> None:
    imeis = {make_imei(n) for n in range(200)}
    assert len(imeis) == 200
    assert all(len(imei) == 15 and luhn_valid(imei) for imei in imeis)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("490154203237518", "490154203237518"),
        ("49 015420 323751 8", "490154203237518"),
        ("49-015420-323751-8", "490154203237518"),
        (" 35-693803-564380-9 ", "356938035643809"),
        ("35 6938\t0356 43809", "356938035643809"),
    ],
)
def test_normalize_imei_accepts_spaces_and_dashes(raw: str, expected: str) -> None:
    assert normalize_imei(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("49015420323751", id="14-digits"),
        pytest.param("4901542032375180", id="16-digits"),
        pytest.param("49015420323751A", id="letter"),
        pytest.param("ABCDEFGHIJKLMNO", id="letters"),
        pytest.param("490154203237519", id="bad-check-digit"),
        pytest.param("490154203237517", id="bad-check-digit-2"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("490154.203237518", id="dot"),
        pytest.param(
            "\u0664\u0669\u0660\u0661\u0665\u0664\u0662\u0660\u0663\u0662\u0663\u0667"
            "\u0665\u0661\u0668",
            id="arabic-indic-digits",
        ),
    ],
)
def test_normalize_imei_refuses(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        normalize_imei(raw)
    assert caught.value.code is ErrorCode.INVALID_IMEI
    assert caught.value.facts["field"] == "imei"
    assert caught.value.message


def test_bad_check_digit_says_so() -> None:
    with pytest.raises(DomainError, match="check digit") as caught:
        normalize_imei("490154203237519")
    assert caught.value.code is ErrorCode.INVALID_IMEI


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("c02xk1abjg5h", "C02XK1ABJG5H"),
        ("  SN-1234  ", "SN-1234"),
        ("ABCD", "ABCD"),
        ("A" * 40, "A" * 40),
        ("0000-ffff", "0000-FFFF"),
    ],
)
def test_normalize_serial_uppercases_and_strips(raw: str, expected: str) -> None:
    assert normalize_serial(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("ABC", id="too-short"),
        pytest.param("A" * 41, id="too-long"),
        pytest.param("-ABCD", id="leading-dash"),
        pytest.param("AB CD", id="inner-space"),
        pytest.param("AB_CD", id="underscore"),
        pytest.param("ABCÉ", id="accent"),
        pytest.param("", id="empty"),
    ],
)
def test_normalize_serial_refuses(raw: str) -> None:
    with pytest.raises(DomainError) as caught:
        normalize_serial(raw)
    assert caught.value.code is ErrorCode.INVALID_INPUT
    assert caught.value.facts["field"] == "serial"
