"""Test data for listings and offers, written with the ORM: organisations and their signed-in
people (``tests.support.auth``), listable devices, listings and offers in any status, and what a
refusal must not write (``tests.support.events`` for the event log)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import GlobalID

from app.domain.statuses import (
    BlacklistStatus,
    CosmeticGrade,
    DeviceStatus,
    ListingStatus,
    LockStatus,
    OfferParty,
    OfferStatus,
    OrganizationKind,
    Role,
)
from app.models import (
    Device,
    Event,
    Grade,
    IdempotencyRecord,
    Listing,
    Offer,
    Order,
    Organization,
)
from app.models.base import utcnow
from app.services.events import append_event
from tests.support.auth import Person, new_session, new_user
from tests.support.factories import make_imei
from tests.support.graphql import GraphQLClient

Sessions = async_sessionmaker[AsyncSession]
_sequence = itertools.count(1)

LISTING_DEVICE_STATUS = {
    ListingStatus.DRAFT: DeviceStatus.GRADED,
    ListingStatus.ACTIVE: DeviceStatus.AVAILABLE,
    ListingStatus.PAUSED: DeviceStatus.AVAILABLE,
    ListingStatus.RESERVED: DeviceStatus.RESERVED,
    ListingStatus.SOLD: DeviceStatus.SHIPPED,
    ListingStatus.WITHDRAWN: DeviceStatus.GRADED,
}
"""The device status that goes with each listing status (app.services.inventory)."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True, slots=True)
class World:
    """The parties of a trade: the operator's sales and warehouse people, a client, buyers."""

    operator: Organization
    sales: Person
    admin: Person
    warehouse: Person
    client: Organization
    client_user: Person
    buyer_a: Person
    buyer_b: Person


async def create_world(sessions: Sessions, *, currency: str = "EUR") -> World:
    """Every party in one transaction (tests create one world each: it has to be cheap)."""
    number = next(_sequence)

    def organization(kind: OrganizationKind, name: str, **fields: Any) -> Organization:
        return Organization(name=f"{name} {number}", kind=kind, **fields)

    operator = organization(OrganizationKind.OPERATOR, "Refurb", currency=currency)
    client = organization(
        OrganizationKind.CLIENT,
        "Consignor",
        currency=currency,
        commission_bps=1500,
        fee_per_device_minor=200,
    )
    buyer_a = organization(OrganizationKind.BUYER, "Buyer A", currency=currency)
    buyer_b = organization(OrganizationKind.BUYER, "Buyer B", currency=currency)
    async with sessions.begin() as session:
        session.add_all([operator, client, buyer_a, buyer_b])
        await session.flush()
        people = {
            "sales": (new_user(operator, Role.SALES), operator),
            "admin": (new_user(operator, Role.ADMIN), operator),
            "warehouse": (new_user(operator, Role.WAREHOUSE), operator),
            "client_user": (new_user(client, Role.VIEWER), client),
            "buyer_a": (new_user(buyer_a, Role.BUYER), buyer_a),
            "buyer_b": (new_user(buyer_b, Role.BUYER), buyer_b),
        }
        session.add_all([user for user, _ in people.values()])
        await session.flush()
        persons = {}
        for name, (user, member_of) in people.items():
            row, token = new_session(user)
            session.add(row)
            persons[name] = Person(user=user, organization=member_of, token=token)
    return World(operator=operator, client=client, **persons)


def _device(client: Organization, **fields: Any) -> Device:
    number = next(_sequence)
    return Device(
        imei=make_imei(500_000 + number),
        make=fields.get("make", "Apple"),
        model=fields.get("model", "iPhone 13"),
        storage_gb=fields.get("storage_gb", 128),
        colour=fields.get("colour", "Midnight"),
        client_id=client.id,
        location="A-01",
        lock_status=fields.get("lock_status", LockStatus.UNLOCKED),
        blacklist_status=fields.get("blacklist_status", BlacklistStatus.CLEAN),
        status=fields.get("status", DeviceStatus.GRADED),
    )


async def _add_graded(
    session: AsyncSession,
    client: Organization,
    *,
    cosmetic: CosmeticGrade,
    data_wiped: bool,
    graded: bool,
    **fields: Any,
) -> Device:
    device = _device(client, **fields)
    session.add(device)
    await session.flush()
    if graded:
        grade = Grade(
            device_id=device.id,
            cosmetic=cosmetic,
            functional_pass=True,
            failed_checks=[],
            battery_health_pct=91,
            data_wiped=data_wiped,
        )
        session.add(grade)
        await session.flush()
        device.current_grade_id = grade.id
        await session.flush()
    return device


async def create_device(
    sessions: Sessions,
    client: Organization,
    *,
    cosmetic: CosmeticGrade = CosmeticGrade.B,
    data_wiped: bool = True,
    graded: bool = True,
    **fields: Any,
) -> Device:
    """A device with a current grade: by default GRADED, wiped, unlocked, clean (listable)."""
    async with sessions.begin() as session:
        return await _add_graded(
            session, client, cosmetic=cosmetic, data_wiped=data_wiped, graded=graded, **fields
        )


async def create_listing(
    sessions: Sessions,
    client: Organization,
    *,
    price_minor: int = 50_000,
    status: ListingStatus = ListingStatus.ACTIVE,
    currency: str = "EUR",
    cosmetic: CosmeticGrade = CosmeticGrade.B,
    **device_fields: Any,
) -> Listing:
    """A listing in any status with a device in the matching status (no events)."""
    async with sessions.begin() as session:
        device = await _add_graded(
            session,
            client,
            cosmetic=cosmetic,
            data_wiped=True,
            graded=True,
            status=LISTING_DEVICE_STATUS[status],
            **device_fields,
        )
        listing = Listing(
            device_id=device.id, price_minor=price_minor, currency=currency, status=status
        )
        session.add(listing)
    return listing


async def create_listings(
    sessions: Sessions, client: Organization, count: int, *, price_minor: int = 10_000
) -> list[Listing]:
    """``count`` ACTIVE listings in one transaction (for the board's query count)."""
    listings = []
    async with sessions.begin() as session:
        for index in range(count):
            device = await _add_graded(
                session,
                client,
                cosmetic=CosmeticGrade.A,
                data_wiped=True,
                graded=True,
                status=DeviceStatus.AVAILABLE,
            )
            listing = Listing(
                device_id=device.id,
                price_minor=price_minor + index,
                currency="EUR",
                status=ListingStatus.ACTIVE,
            )
            session.add(listing)
            listings.append(listing)
    return listings


async def create_offer(
    sessions: Sessions,
    listing: Listing,
    buyer: Organization,
    *,
    amount_minor: int = 40_000,
    status: OfferStatus = OfferStatus.PENDING,
    from_party: OfferParty = OfferParty.BUYER,
    expires_at: datetime | None = None,
    parent: Offer | None = None,
) -> Offer:
    offer = Offer(
        listing_id=listing.id,
        buyer_id=buyer.id,
        amount_minor=amount_minor,
        currency=listing.currency,
        status=status,
        from_party=from_party,
        parent_offer_id=parent.id if parent is not None else None,
        expires_at=expires_at or utcnow() + timedelta(hours=48),
    )
    async with sessions.begin() as session:
        session.add(offer)
    return offer


@dataclass(frozen=True, slots=True)
class Counts:
    listings: int
    offers: int
    orders: int
    events: int
    idempotency_records: int


async def count_trade(sessions: Sessions) -> Counts:
    """What a refused action must leave unchanged."""
    async with sessions() as session:

        async def count(model: type[Any]) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        return Counts(
            listings=await count(Listing),
            offers=await count(Offer),
            orders=await count(Order),
            events=await count(Event),
            idempotency_records=await count(IdempotencyRecord),
        )


async def snapshot(sessions: Sessions) -> tuple[Counts, list[tuple[str, int, str]]]:
    """Counts plus every listing, offer and device's (kind, id, status/version): a refusal
    changes none of them."""
    async with sessions() as session:
        rows: list[tuple[str, int, str]] = []
        for model in (Listing, Offer, Device):
            for row in await session.scalars(select(model).order_by(model.id)):
                rows.append((model.__name__, row.id, f"{row.status.value}/{row.version}"))
    return await count_trade(sessions), rows


async def gql_data(
    graphql: GraphQLClient, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ``data`` of an operation sent as the token's user; it must have no errors."""
    payload = await graphql(query, variables, headers=bearer(token) if token else None)
    assert "errors" not in payload, payload
    data: dict[str, Any] = payload["data"]
    return data


async def gql_errors(
    graphql: GraphQLClient, token: str | None, query: str, variables: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The ``errors`` of an operation that must fail."""
    payload = await graphql(query, variables, headers=bearer(token) if token else None)
    assert "errors" in payload, payload
    errors: list[dict[str, Any]] = payload["errors"]
    return errors


async def reprice_in_database(session: AsyncSession, listing: Listing, price_minor: int) -> None:
    """A listing repriced by a write of its own with its event, as another process would (no
    API): inside the caller's transaction, so several can share one commit."""
    await session.execute(
        update(Listing)
        .where(Listing.id == listing.id)
        .values(price_minor=price_minor, version=Listing.version + 1)
    )
    append_event(
        session,
        type="listing.repriced",
        entity_type="Listing",
        entity_id=listing.id,
        entity_version=listing.version + 1,
        changes={"priceMinor": price_minor},
        audiences=["public"],
        actor="user:1",
    )


def global_id(type_name: str, row_id: int) -> str:
    return str(GlobalID(type_name, str(row_id)))
