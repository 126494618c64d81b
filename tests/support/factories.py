"""Rows the API cannot create yet, inserted directly, and valid identifiers on demand."""

from __future__ import annotations

import itertools

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.statuses import CosmeticGrade, LotStatus, OrganizationKind
from app.models import Device, Event, Grade, Lot, Organization

_sequence = itertools.count(1)


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:  # these positions are doubled once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def make_imei(number: int | None = None) -> str:
    """A distinct valid 15-digit IMEI for each number."""
    if number is None:
        number = next(_sequence)
    body = f"35{number:012d}"
    return body + luhn_check_digit(body)


async def create_organization(
    sessions: async_sessionmaker[AsyncSession],
    *,
    kind: OrganizationKind,
    name: str | None = None,
    currency: str = "EUR",
) -> Organization:
    is_client = kind is OrganizationKind.CLIENT
    organization = Organization(
        name=name or f"{kind.value.title()} {next(_sequence)}",
        kind=kind,
        currency=currency,
        commission_bps=1500 if is_client else None,
        fee_per_device_minor=200 if is_client else None,
    )
    async with sessions.begin() as session:
        session.add(organization)
    return organization


async def create_client(
    sessions: async_sessionmaker[AsyncSession], *, name: str | None = None
) -> Organization:
    """A client organisation (consignor): there is no mutation for it yet."""
    return await create_organization(sessions, kind=OrganizationKind.CLIENT, name=name)


async def create_buyer(
    sessions: async_sessionmaker[AsyncSession], *, name: str | None = None
) -> Organization:
    return await create_organization(sessions, kind=OrganizationKind.BUYER, name=name)


async def create_lot(
    sessions: async_sessionmaker[AsyncSession],
    client: Organization,
    *,
    reference: str | None = None,
    expected_count: int = 10,
    status: LotStatus = LotStatus.OPEN,
) -> Lot:
    lot = Lot(
        client_id=client.id,
        reference=reference or f"LOT-{next(_sequence)}",
        expected_count=expected_count,
        status=status,
    )
    async with sessions.begin() as session:
        session.add(lot)
    return lot


async def grade_device(
    sessions: async_sessionmaker[AsyncSession],
    device_id: int,
    *,
    cosmetic: CosmeticGrade = CosmeticGrade.B,
) -> Grade:
    """Insert a grade and make it the device's current one (no service for it yet)."""
    async with sessions.begin() as session:
        grade = Grade(
            device_id=device_id,
            cosmetic=cosmetic,
            functional_pass=True,
            failed_checks=[],
            battery_health_pct=90,
            data_wiped=True,
        )
        session.add(grade)
        await session.flush()
        device = await session.get_one(Device, device_id)
        device.current_grade_id = grade.id
    return grade


async def count_rows(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """(devices, events): what a refused action must leave unchanged."""
    async with sessions() as session:
        devices = await session.scalar(select(func.count()).select_from(Device))
        events = await session.scalar(select(func.count()).select_from(Event))
    return int(devices or 0), int(events or 0)
