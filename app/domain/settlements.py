"""Settlement maths (DOMAIN.md rule 7): what a client is owed for each sold device.

Per line, in integer minor units of the client's currency:

- gross = the sale price (the order line's price);
- commission = gross x commission_bps / 10000, rounded half up to the minor unit, per line
  (``app.domain.money.commission_minor``), so 0 <= commission <= gross;
- fees = the client's fee per device;
- net = gross - commission - fees.

Totals are the sums of the lines, never computed from a total gross (rounding per line and
then summing is what the client can check line by line).

A negative net is allowed. When the fee per device is larger than what the commission leaves
(a device sold for very little), the line's net is below zero: the client owes the refurbisher
the difference, and the settlement's net total carries it. Clamping the fee would hide a cost
the contract says the client bears, and the totals would no longer follow from the terms. The
database agrees: it checks ``net = gross - commission - fees`` and that gross, commission and
fees are not negative, but puts no floor under net.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.money import commission_minor

MAX_BPS = 10_000


@dataclass(frozen=True, slots=True)
class SettlementLineAmounts:
    """One device's amounts; ``net`` may be negative (the client owes the fee)."""

    gross: int
    commission: int
    fees: int
    net: int


@dataclass(frozen=True, slots=True)
class SettlementTotals:
    gross: int
    commission: int
    fees: int
    net: int
    line_count: int


def line_amounts(
    gross_minor: int, commission_bps: int, fee_per_device_minor: int
) -> SettlementLineAmounts:
    """The amounts of one line from the sale price and the client's terms (integers only)."""
    for name, value in (
        ("gross", gross_minor),
        ("commission_bps", commission_bps),
        ("fee_per_device", fee_per_device_minor),
    ):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an integer number of minor units")
    if gross_minor < 0:
        raise ValueError("gross must not be negative")
    if not 0 <= commission_bps <= MAX_BPS:
        raise ValueError("commission_bps must be within 0..10000")
    if fee_per_device_minor < 0:
        raise ValueError("the fee per device must not be negative")
    commission = commission_minor(gross_minor, commission_bps)
    return SettlementLineAmounts(
        gross=gross_minor,
        commission=commission,
        fees=fee_per_device_minor,
        net=gross_minor - commission - fee_per_device_minor,
    )


def totals(lines: Iterable[SettlementLineAmounts]) -> SettlementTotals:
    """The sums of the lines (zero for none)."""
    gross = commission = fees = net = count = 0
    for line in lines:
        gross += line.gross
        commission += line.commission
        fees += line.fees
        net += line.net
        count += 1
    return SettlementTotals(
        gross=gross, commission=commission, fees=fees, net=net, line_count=count
    )


def ensure_may_view(actor: Actor) -> None:
    """Operators and clients read settlements; buyers never; nobody signed in: sign in."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to do this.")
    if not (actor.is_operator or actor.is_client):
        raise DomainError(ErrorCode.FORBIDDEN, "Settlements are for the refurbisher and clients.")


def may_view(actor: Actor, client_id: int) -> bool:
    """Operators see every settlement; a client sees its own; everyone else none."""
    if actor.is_operator:
        return True
    return actor.is_client and actor.organization_id == client_id
