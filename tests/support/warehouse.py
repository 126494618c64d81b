"""Test data for the warehouse side: people and their tokens, devices in any status, listings
with pending offers made with the ORM, and what a refused action must leave unchanged."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.sessions import TOKEN_PREFIX
from app.domain.actors import Actor, ActorKind
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    OfferParty,
    OfferStatus,
    OrganizationKind,
    Role,
)
from app.models import (
    AuthSession,
    Device,
    Event,
    Grade,
    IdempotencyRecord,
    Listing,
    Lot,
    Offer,
    Organization,
    User,
)
from app.models.base import utcnow
from tests.support.factories import create_buyer, create_organization, grade_device, make_imei
from tests.support.graphql import GraphQLClient

Sessions = async_sessionmaker[AsyncSession]

_sequence = itertools.count(50_000)
PASSWORD = "warehouse test password"


@cache
def password_hash() -> str:
    """One cheap argon2 hash for every test user (verify() reads the parameters from it)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


# --- People --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    user: User
    organization: Organization
    token: str

    @property
    def actor(self) -> Actor:
        return Actor(
            ActorKind.USER,
            subject_id=self.user.id,
            organization_id=self.organization.id,
            organization_kind=self.organization.kind,
            role=self.user.role,
            name=self.user.name,
        )

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def create_person(sessions: Sessions, organization: Organization, role: Role) -> Person:
    """A user with a live session token, inserted directly (sign-in is tested on its own)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    now = utcnow()
    async with sessions.begin() as session:
        user = User(
            organization_id=organization.id,
            email=f"person{next(_sequence)}@warehouse.test",
            name=f"{role.value.title()} person",
            role=role,
            password_hash=password_hash(),
        )
        session.add(user)
        await session.flush()
        session.add(
            AuthSession(
                user_id=user.id,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                created_at=now,
                expires_at=now + timedelta(hours=1),
            )
        )
    return Person(user=user, organization=organization, token=token)


async def create_operator(sessions: Sessions) -> Organization:
    return await create_organization(sessions, kind=OrganizationKind.OPERATOR)


async def warehouse_person(sessions: Sessions, role: Role = Role.WAREHOUSE) -> Person:
    return await create_person(sessions, await create_operator(sessions), role)


class Caller:
    """GraphQL calls as one person (or nobody, with ``person=None``)."""

    def __init__(self, graphql: GraphQLClient, person: Person | None) -> None:
        self.graphql = graphql
        self.headers = person.headers if person is not None else {}

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.graphql(query, variables, headers=self.headers)

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = await self(query, variables)
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        return data


# --- Devices and listings ------------------------------------------------------------------


async def create_device(
    sessions: Sessions,
    client: Organization,
    *,
    status: DeviceStatus = DeviceStatus.RECEIVED,
    graded: bool | None = None,
    lot: Lot | None = None,
    make: str = "Apple",
    model: str = "iPhone 13",
    storage_gb: int | None = 128,
) -> Device:
    """A device written with the ORM in ``status``; graded unless RECEIVED (or told)."""
    async with sessions.begin() as session:
        device = Device(
            imei=make_imei(next(_sequence)),
            make=make,
            model=model,
            storage_gb=storage_gb,
            client_id=client.id,
            lot_id=lot.id if lot is not None else None,
            status=status,
        )
        session.add(device)
    if graded if graded is not None else status is not DeviceStatus.RECEIVED:
        await grade_device(sessions, device.id)
    return await reload(sessions, Device, device.id)


@dataclass(frozen=True, slots=True)
class OnSale:
    device_id: int
    listing_id: int
    offer_ids: list[int]


async def put_on_sale(sessions: Sessions, device_id: int, *, offers: int = 2) -> OnSale:
    """An ACTIVE listing for a graded device (now AVAILABLE) with pending offers of buyers."""
    buyers = [await create_buyer(sessions) for _ in range(offers)]
    async with sessions.begin() as session:
        device = await session.get_one(Device, device_id)
        device.status = DeviceStatus.AVAILABLE
        listing = Listing(
            device_id=device.id, price_minor=25_000, currency="EUR", status=ListingStatus.ACTIVE
        )
        session.add(listing)
        await session.flush()
        rows = [
            Offer(
                listing_id=listing.id,
                buyer_id=buyer.id,
                amount_minor=20_000,
                currency="EUR",
                status=OfferStatus.PENDING,
                from_party=OfferParty.BUYER,
                expires_at=utcnow() + timedelta(hours=48),
            )
            for buyer in buyers
        ]
        session.add_all(rows)
    return OnSale(device_id=device_id, listing_id=listing.id, offer_ids=[row.id for row in rows])


async def reload(sessions: Sessions, model: Any, row_id: int) -> Any:
    async with sessions() as session:
        return await session.get_one(model, row_id)


# --- What a refused action must leave alone ------------------------------------------------


async def snapshot(sessions: Sessions) -> dict[str, Any]:
    """Row counts and every status, version and flag the warehouse can change."""
    async with sessions() as session:
        counts = {
            model.__name__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Device, Grade, Lot, Listing, Offer, Event, IdempotencyRecord)
        }
        devices = await session.execute(
            select(
                Device.id,
                Device.status,
                Device.version,
                Device.current_grade_id,
                Device.lock_status,
                Device.blacklist_status,
            ).order_by(Device.id)
        )
        states: dict[str, Any] = {"Device": [tuple(row) for row in devices]}
        for model in (Lot, Listing, Offer):
            rows = await session.execute(
                select(model.id, model.status, model.version).order_by(model.id)
            )
            states[model.__name__] = [tuple(row) for row in rows]
    return {"counts": counts, "states": states}


async def last_event_id(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.max(Event.id))) or 0)


async def events_after(sessions: Sessions, after: int) -> list[Event]:
    async with sessions() as session:
        return list(await session.scalars(select(Event).where(Event.id > after).order_by(Event.id)))


def kinds(events: list[Event]) -> list[tuple[str, str, int]]:
    return [(event.type, event.entity_type, event.entity_id) for event in events]
