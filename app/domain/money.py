"""Money as integer minor units plus an ISO 4217 currency: exact, never a float."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import DomainError, ErrorCode

# Minor units per currency; ISO 4217 exponents for the currencies the trade uses.
_EXPONENTS = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "SEK": 2, "PLN": 2, "JPY": 0}


def exponent(currency: str) -> int:
    try:
        return _EXPONENTS[currency]
    except KeyError:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"Currency {currency!r} is not supported.", field="currency"
        ) from None


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        exponent(self.currency)

    @property
    def decimal(self) -> str:
        """The amount as a decimal string, e.g. 12900 EUR -> "129.00"."""
        places = exponent(self.currency)
        sign = "-" if self.amount_minor < 0 else ""
        digits = str(abs(self.amount_minor)).rjust(places + 1, "0")
        if places == 0:
            return f"{sign}{digits}"
        return f"{sign}{digits[:-places]}.{digits[-places:]}"


def commission_minor(gross_minor: int, commission_bps: int) -> int:
    """gross x bps / 10000, rounded half up to the minor unit, in integers only."""
    if gross_minor < 0 or not 0 <= commission_bps <= 10000:
        raise ValueError("gross must be non-negative and bps within 0..10000")
    return (gross_minor * commission_bps + 5000) // 10000


def positive_amount(amount_minor: int, field: str) -> int:
    if amount_minor <= 0:
        raise DomainError(ErrorCode.INVALID_INPUT, "An amount must be positive.", field=field)
    if amount_minor >= 10**15:
        raise DomainError(ErrorCode.INVALID_INPUT, "That amount is too large.", field=field)
    return amount_minor
