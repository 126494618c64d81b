"""Money in the API: exact minor units as a string-safe scalar, the decimal, the currency."""

from __future__ import annotations

from typing import NewType, Self

import strawberry

from app.domain.money import Money as DomainMoney

_MAX = 10**15


def _parse_minor(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError("MinorUnits is an integer, not a boolean")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.lstrip("-").isdigit():
        number = int(value)
    else:
        raise ValueError('MinorUnits is an integer given as a string of digits, e.g. "12900"')
    if abs(number) >= _MAX:
        raise ValueError("MinorUnits is out of range")
    return number


MinorUnits = NewType("MinorUnits", int)

MINOR_UNITS_SCALAR = strawberry.scalar(
    name="MinorUnits",
    description=(
        "An exact amount in the currency's minor units (cents for EUR), as a string of digits "
        "so that no client rounds it through a float."
    ),
    serialize=str,
    parse_value=_parse_minor,
)


@strawberry.type(description="An exact amount of money.")
class Money:
    amount_minor: MinorUnits
    amount: str = strawberry.field(description='The decimal amount, e.g. "129.00".')
    currency: str = strawberry.field(description="ISO 4217 code, e.g. EUR.")

    @classmethod
    def of(cls, amount_minor: int, currency: str) -> Self:
        money = DomainMoney(amount_minor, currency)
        return cls(
            amount_minor=MinorUnits(money.amount_minor), amount=money.decimal, currency=currency
        )
