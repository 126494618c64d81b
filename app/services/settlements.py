"""Settlements: paying each client its share of every delivered sale (DOMAIN.md rule 7).

Generation picks, for one client, every device whose sale was delivered in the period and that
no active settlement line holds yet, and writes one line per device with the amounts of
``app.domain.settlements``. Decisions:

- "Delivered in the period": the order's first DELIVERED shipment (the earliest
  ``delivered_at``, should an order have several) has ``delivered_at`` within
  [periodStart 00:00 UTC, periodEnd + 1 day 00:00 UTC), i.e. whole days in UTC, both ends
  included. The device must be DELIVERED, or its order DELIVERED or COMPLETED, and its order
  line active (``released`` false: a cancelled order's lines are released).
- Each device is settled at most once: the partial unique index
  ``uq_settlement_lines_device_active`` (one line with ``released`` false per device) is the
  backstop. Generations for one client are serialised by a row lock on the client's
  organisation (SELECT ... FOR NO KEY UPDATE; SQLite's BEGIN IMMEDIATE serialises all
  writers), so a second concurrent generation waits, then sees the first one's lines and takes
  only what is left (PostgreSQL's READ COMMITTED gives each statement a fresh snapshot).
  Should the index still refuse a line, the generation fails as NOT_AVAILABLE and writes
  nothing.
- Nothing to settle: refused (INVALID_INPUT) rather than an empty settlement that someone must
  void later.
- A sale in another currency than the client's is refused (INVALID_INPUT) rather than left
  out silently: amounts of two currencies are never added up.
- A client without commercial terms (commission or fee not set) cannot be settled.
- Voiding (DRAFT or APPROVED -> VOID) releases the settlement's lines: their devices may be
  settled again by a later generation. The voided settlement keeps its lines as history.

Visibility: operators see every settlement; a client sees its own (lines show the device and
the amounts, never the buyer); buyers and anonymous callers are refused. Reading settlements is
in ``app.services.settlement_queries``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.policy import Permission, require
from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.settlements import (
    SettlementLineAmounts,
    SettlementTotals,
    line_amounts,
    totals,
)
from app.domain.statuses import (
    SETTLEMENT_TRANSITIONS,
    DeviceStatus,
    OrderStatus,
    OrganizationKind,
    SettlementStatus,
    ShipmentStatus,
)
from app.models import Device, Order, OrderLine, Organization, Settlement, SettlementLine, Shipment
from app.services.common import lock, record, transition
from app.services.events import OPERATOR, client_audience
from app.services.idempotency import run_once

Sessions = async_sessionmaker[AsyncSession]

_EVENT_TYPES = {
    SettlementStatus.APPROVED: "settlement.approved",
    SettlementStatus.PAID: "settlement.paid",
    SettlementStatus.VOID: "settlement.voided",
}
_OPERATIONS = {
    SettlementStatus.APPROVED: "approveSettlement",
    SettlementStatus.PAID: "paySettlement",
    SettlementStatus.VOID: "voidSettlement",
}


# --- Amounts -----------------------------------------------------------------------------


def line_of(row: SettlementLine) -> SettlementLineAmounts:
    return SettlementLineAmounts(
        gross=row.gross_minor,
        commission=row.commission_minor,
        fees=row.fees_minor,
        net=row.net_minor,
    )


def totals_of(rows: list[SettlementLine]) -> SettlementTotals:
    """Rule 10: totals are computed from the line rows, whichever of them are released."""
    return totals(line_of(row) for row in rows)


def _amount_changes(rows: list[SettlementLine], currency: str) -> dict[str, Any]:
    summed = totals_of(rows)
    return {
        "grossMinor": summed.gross,
        "commissionMinor": summed.commission,
        "feesMinor": summed.fees,
        "netMinor": summed.net,
        "lineCount": summed.line_count,
        "currency": currency,
    }


def _audiences(settlement: Settlement) -> list[str]:
    return [OPERATOR, client_audience(settlement.client_id)]


# --- Generation --------------------------------------------------------------------------


def period_bounds(period_start: date, period_end: date) -> tuple[datetime, datetime]:
    """[start, end) in UTC covering whole days from ``period_start`` to ``period_end``."""
    if period_start > period_end:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            "The period ends before it starts.",
            field="periodEnd",
        )
    if period_end >= date.max:
        raise DomainError(ErrorCode.INVALID_INPUT, "The period end is too far.", field="periodEnd")
    start = datetime.combine(period_start, time.min, tzinfo=UTC)
    end = datetime.combine(period_end + timedelta(days=1), time.min, tzinfo=UTC)
    return start, end


async def _settleable(
    session: AsyncSession, client_id: int, start: datetime, end: datetime
) -> list[tuple[OrderLine, str]]:
    """The client's delivered, active, unsettled order lines of the period, by device id."""
    delivered = (
        select(
            Shipment.order_id.label("order_id"),
            func.min(Shipment.delivered_at).label("delivered_at"),
        )
        .where(Shipment.status == ShipmentStatus.DELIVERED, Shipment.delivered_at.is_not(None))
        .group_by(Shipment.order_id)
        .subquery()
    )
    already_settled = (
        select(SettlementLine.id)
        .where(SettlementLine.device_id == OrderLine.device_id, SettlementLine.released.is_(False))
        .exists()
    )
    statement = (
        select(OrderLine, Order.currency)
        .join(Device, Device.id == OrderLine.device_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(delivered, delivered.c.order_id == Order.id)
        .where(
            Device.client_id == client_id,
            OrderLine.released.is_(False),
            or_(
                Device.status == DeviceStatus.DELIVERED,
                Order.status.in_((OrderStatus.DELIVERED, OrderStatus.COMPLETED)),
            ),
            delivered.c.delivered_at >= start,
            delivered.c.delivered_at < end,
            ~already_settled,
        )
        .order_by(OrderLine.device_id, OrderLine.id)
    )
    return [(line, currency) for line, currency in (await session.execute(statement)).all()]


@dataclass(frozen=True, slots=True)
class _Terms:
    client: Organization
    commission_bps: int
    fee_per_device_minor: int


async def _lock_client(session: AsyncSession, client_id: int) -> _Terms:
    """Lock the client's row: one generation per client at a time (see the module notes)."""
    # FOR NO KEY UPDATE: two generations for one client wait for each other, but rows that
    # merely reference the client (a device received meanwhile) are not held up.
    client = await session.get(
        Organization, client_id, with_for_update={"key_share": True}, populate_existing=True
    )
    if client is None or client.kind is not OrganizationKind.CLIENT:
        raise DomainError(ErrorCode.UNKNOWN_CLIENT, "No client has that id.", field="clientId")
    if client.commission_bps is None or client.fee_per_device_minor is None:
        raise DomainError(
            ErrorCode.INVALID_INPUT,
            f"{client.name} has no commission or fee per device set: it cannot be settled.",
            field="clientId",
        )
    return _Terms(client, client.commission_bps, client.fee_per_device_minor)


async def generate_settlement(
    sessions: Sessions,
    *,
    client_id: int,
    period_start: date,
    period_end: date,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Settlement:
    """Write a DRAFT settlement with one line per device delivered in the period."""
    require(actor, Permission.SETTLE)
    start, end = period_bounds(period_start, period_end)

    async def work(session: AsyncSession) -> dict[str, Any]:
        terms = await _lock_client(session, client_id)
        client = terms.client
        candidates = await _settleable(session, client.id, start, end)
        if not candidates:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"Nothing to settle: {client.name} has no delivered, unsettled device in "
                f"{period_start.isoformat()} to {period_end.isoformat()}.",
                field="periodEnd",
            )
        foreign = sorted({currency for _, currency in candidates} - {client.currency})
        if foreign:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                f"Some sales in the period are in {', '.join(foreign)}, but {client.name} is "
                f"paid in {client.currency}.",
                field="periodEnd",
            )
        settlement = Settlement(
            client_id=client.id,
            period_start=period_start,
            period_end=period_end,
            currency=client.currency,
            status=SettlementStatus.DRAFT,
        )
        session.add(settlement)
        await session.flush()
        rows = []
        for order_line, _currency in candidates:
            amounts = line_amounts(
                order_line.price_minor, terms.commission_bps, terms.fee_per_device_minor
            )
            rows.append(
                SettlementLine(
                    settlement_id=settlement.id,
                    device_id=order_line.device_id,
                    order_line_id=order_line.id,
                    gross_minor=amounts.gross,
                    commission_minor=amounts.commission,
                    fees_minor=amounts.fees,
                    net_minor=amounts.net,
                    released=False,
                )
            )
        session.add_all(rows)
        try:
            await session.flush()
        except IntegrityError as exc:
            raise DomainError(
                ErrorCode.NOT_AVAILABLE,
                "Another settlement took a device of this period at the same moment: "
                "generate again to settle what is left.",
                current_status="SETTLED",
            ) from exc
        await record(
            session,
            settlement,
            "settlement.generated",
            actor=actor,
            audiences=_audiences(settlement),
            changes={
                "status": settlement.status,
                "clientId": client.id,
                "periodStart": period_start,
                "periodEnd": period_end,
                "deviceIds": [row.device_id for row in rows],
                **_amount_changes(rows, settlement.currency),
            },
        )
        return {"settlementId": settlement.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation="generateSettlement",
        request={
            "clientId": client_id,
            "periodStart": period_start.isoformat(),
            "periodEnd": period_end.isoformat(),
        },
        work=work,
    )
    return await _load(sessions, int(result["settlementId"]))


# --- Approve, pay, void ------------------------------------------------------------------


async def _lines(session: AsyncSession, settlement_id: int) -> list[SettlementLine]:
    rows = await session.scalars(
        select(SettlementLine)
        .where(SettlementLine.settlement_id == settlement_id)
        .order_by(SettlementLine.id)
    )
    return list(rows.all())


async def _move(
    sessions: Sessions,
    settlement_id: int,
    target: SettlementStatus,
    *,
    actor: Actor,
    expected_version: int | None,
    idempotency_key: str | None,
) -> Settlement:
    require(actor, Permission.SETTLE)

    async def work(session: AsyncSession) -> dict[str, Any]:
        settlement = await lock(session, Settlement, settlement_id, field="id")
        transition(settlement, SETTLEMENT_TRANSITIONS, target, expected_version=expected_version)
        lines = await _lines(session, settlement.id)
        changes: dict[str, Any] = {"status": settlement.status}
        if target is SettlementStatus.VOID:
            released = [line for line in lines if not line.released]
            for line in released:
                line.released = True
            changes["releasedDeviceIds"] = [line.device_id for line in released]
        changes.update(_amount_changes(lines, settlement.currency))
        await record(
            session,
            settlement,
            _EVENT_TYPES[target],
            actor=actor,
            audiences=_audiences(settlement),
            changes=changes,
        )
        return {"settlementId": settlement.id}

    result = await run_once(
        sessions,
        scope=actor.ref,
        key=idempotency_key,
        operation=_OPERATIONS[target],
        request={"settlementId": settlement_id, "expectedVersion": expected_version},
        work=work,
    )
    return await _load(sessions, int(result["settlementId"]))


async def approve_settlement(
    sessions: Sessions,
    settlement_id: int,
    *,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Settlement:
    """DRAFT -> APPROVED."""
    return await _move(
        sessions,
        settlement_id,
        SettlementStatus.APPROVED,
        actor=actor,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
    )


async def pay_settlement(
    sessions: Sessions,
    settlement_id: int,
    *,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Settlement:
    """APPROVED -> PAID."""
    return await _move(
        sessions,
        settlement_id,
        SettlementStatus.PAID,
        actor=actor,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
    )


async def void_settlement(
    sessions: Sessions,
    settlement_id: int,
    *,
    actor: Actor,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
) -> Settlement:
    """DRAFT|APPROVED -> VOID; its lines are released so their devices can be settled again."""
    return await _move(
        sessions,
        settlement_id,
        SettlementStatus.VOID,
        actor=actor,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
    )


async def _load(sessions: Sessions, settlement_id: int) -> Settlement:
    async with sessions() as session:
        return await session.get_one(Settlement, settlement_id)
