"""One world for permission tests: every role, API keys, and one of each thing to look at.

``await build_world(sessions)`` writes, with the ORM: the operator (admin, warehouse, sales,
finance), a client (a viewer) and a buyer (a buyer), an API key each for the buyer (READ),
the client (every scope: WRITE gives a client nothing) and the operator (READ and WRITE);
a client's lot and device listed ACTIVE with the buyer's pending offer; a second device of
the client sold to the buyer, shipped; and one event addressed to everybody.

``world.callers`` maps each role name to a Caller (its bearer token and its Actor, for
app.auth.policy.decide). Module-scoped servers (``serve_world``) keep these tests fast: the
world is built once per module and database.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.api_keys import create_api_key
from app.auth.policy import Scope
from app.db import create_engine, create_session_factory
from app.domain.actors import ANONYMOUS, Actor, ActorKind, system
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    LotStatus,
    OfferParty,
    OfferStatus,
    OrderStatus,
    OrganizationKind,
    Role,
    ShipmentStatus,
)
from app.models import Device, Listing, Lot, Offer, Order, OrderLine, Organization, Shipment
from app.models.base import utcnow
from app.services.events import OPERATOR, PUBLIC, append_event, buyer_audience, client_audience
from app.settings import Settings
from tests.support.auth import create_person
from tests.support.databases import copy_sqlite, truncate_postgres
from tests.support.factories import make_imei
from tests.support.server import RunningServer, make_app, serve_app

Sessions = async_sessionmaker[AsyncSession]
_numbers = itertools.count(1)

ROLES = (
    "anonymous",
    "admin",
    "warehouse",
    "sales",
    "finance",
    "client_viewer",
    "buyer",
    "buyer_key_read",
    "client_key",
    "operator_key",
)
OPERATOR_ROLES = frozenset({"admin", "warehouse", "sales", "finance", "operator_key"})
CLIENT_ROLES = frozenset({"client_viewer", "client_key"})
BUYER_ROLES = frozenset({"buyer", "buyer_key_read"})


@dataclass(frozen=True, slots=True)
class Caller:
    name: str
    token: str | None
    actor: Actor

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass
class World:
    operator: Organization
    client: Organization
    buyer: Organization
    callers: dict[str, Caller]
    lot_id: int
    device_id: int
    listing_id: int
    offer_id: int
    order_id: int
    shipment_id: int
    sold_device_id: int
    people: dict[str, Any] = field(default_factory=dict)
    """The tests.support.auth.Person behind each user role (for fresh sessions)."""


def gid(type_name: str, row_id: int) -> str:
    from strawberry.relay import GlobalID

    return str(GlobalID(type_name, str(row_id)))


async def _organization(sessions: Sessions, kind: OrganizationKind) -> Organization:
    number = next(_numbers)
    client = kind is OrganizationKind.CLIENT
    organization = Organization(
        name=f"Policy {kind.value.title()} {number}",
        kind=kind,
        currency="EUR",
        commission_bps=1500 if client else None,
        fee_per_device_minor=200 if client else None,
    )
    async with sessions.begin() as session:
        session.add(organization)
    return organization


def _device(client: Organization, status: DeviceStatus, lot: Lot | None = None) -> Device:
    return Device(
        imei=make_imei(800_000 + next(_numbers)),
        make="Apple",
        model="iPhone 13",
        storage_gb=128,
        colour="Blue",
        client_id=client.id,
        lot_id=lot.id if lot is not None else None,
        location="P-01",
        status=status,
    )


async def build_world(sessions: Sessions) -> World:
    operator = await _organization(sessions, OrganizationKind.OPERATOR)
    client = await _organization(sessions, OrganizationKind.CLIENT)
    buyer = await _organization(sessions, OrganizationKind.BUYER)
    people = {
        "admin": await create_person(sessions, operator, Role.ADMIN, ttl=timedelta(hours=2)),
        "warehouse": await create_person(sessions, operator, Role.WAREHOUSE),
        "sales": await create_person(sessions, operator, Role.SALES),
        "finance": await create_person(sessions, operator, Role.FINANCE),
        "client_viewer": await create_person(sessions, client, Role.VIEWER),
        "buyer": await create_person(sessions, buyer, Role.BUYER),
    }
    maker = system("policy-tests")
    keys = {
        "buyer_key_read": await create_api_key(
            sessions, organization_id=buyer.id, name="buyer", scopes=[Scope.READ], actor=maker
        ),
        "client_key": await create_api_key(
            sessions, organization_id=client.id, name="client", scopes=list(Scope), actor=maker
        ),
        "operator_key": await create_api_key(
            sessions,
            organization_id=operator.id,
            name="operator",
            scopes=[Scope.READ, Scope.WRITE],
            actor=maker,
        ),
    }
    callers = {"anonymous": Caller("anonymous", None, ANONYMOUS)}
    for name, person in people.items():
        callers[name] = Caller(name, person.token, person.actor)
    for name, created in keys.items():
        key = created.key
        organization = {buyer.id: buyer, client.id: client, operator.id: operator}[
            key.organization_id
        ]
        callers[name] = Caller(
            name,
            created.token,
            Actor(
                ActorKind.API_KEY,
                subject_id=key.id,
                organization_id=organization.id,
                organization_kind=organization.kind,
                scopes=frozenset(key.scopes),
                name=key.name,
            ),
        )
    assert set(callers) == set(ROLES)

    async with sessions.begin() as session:
        lot = Lot(
            client_id=client.id,
            reference=f"PL-{next(_numbers)}",
            expected_count=2,
            status=LotStatus.RECEIVING,
        )
        session.add(lot)
        await session.flush()
        device = _device(client, DeviceStatus.AVAILABLE, lot)
        sold = _device(client, DeviceStatus.SHIPPED, lot)
        session.add_all([device, sold])
        await session.flush()
        listing = Listing(
            device_id=device.id, price_minor=50_000, currency="EUR", status=ListingStatus.ACTIVE
        )
        sold_listing = Listing(
            device_id=sold.id, price_minor=40_000, currency="EUR", status=ListingStatus.SOLD
        )
        session.add_all([listing, sold_listing])
        await session.flush()
        offer = Offer(
            listing_id=listing.id,
            buyer_id=buyer.id,
            amount_minor=45_000,
            currency="EUR",
            status=OfferStatus.PENDING,
            from_party=OfferParty.BUYER,
            expires_at=utcnow() + timedelta(hours=48),
        )
        order = Order(buyer_id=buyer.id, currency="EUR", status=OrderStatus.SHIPPED)
        session.add_all([offer, order])
        await session.flush()
        session.add(
            OrderLine(
                order_id=order.id, listing_id=sold_listing.id, device_id=sold.id, price_minor=40_000
            )
        )
        shipment = Shipment(
            order_id=order.id,
            carrier="DHL",
            tracking_number=f"PT{next(_numbers):08d}",
            status=ShipmentStatus.IN_TRANSIT,
            shipped_at=utcnow(),
        )
        session.add(shipment)
        await session.flush()
        append_event(
            session,
            type="device.noted",
            entity_type="Device",
            entity_id=device.id,
            entity_version=device.version,
            changes={"note": "for everybody"},
            audiences=[OPERATOR, PUBLIC, buyer_audience(buyer.id), client_audience(client.id)],
            actor=callers["admin"].actor.ref,
        )
    return World(
        operator=operator,
        client=client,
        buyer=buyer,
        callers=callers,
        lot_id=lot.id,
        device_id=device.id,
        listing_id=listing.id,
        offer_id=offer.id,
        order_id=order.id,
        shipment_id=shipment.id,
        sold_device_id=sold.id,
        people=people,
    )


@dataclass
class Stack:
    """A database, the real app serving it, an HTTP client, and the world in it."""

    settings: Settings
    sessions: Sessions
    server: RunningServer
    http: httpx.AsyncClient
    world: World

    async def post(self, query: str, variables: dict[str, Any] | None = None, *, who: str) -> Any:
        caller = self.world.callers[who]
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = await self.http.post("/graphql", json=body, headers=caller.headers)
        assert response.status_code == 200, response.text
        return response.json()


@contextlib.asynccontextmanager
async def serve_world(database_url: str, **settings: Any) -> AsyncIterator[Stack]:
    """One server and one world for a whole test module (the rate limit is off)."""
    config = Settings(
        database_url=database_url,
        broadcast_url="memory://",
        rate_limit_requests=settings.pop("rate_limit_requests", 0),
        **settings,
    )
    engine = create_engine(config)
    sessions = create_session_factory(engine)
    try:
        world = await build_world(sessions)
        async with (
            serve_app(make_app(config), ws_ping_interval=config.ws_ping_interval) as server,
            httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=30) as http,
        ):
            yield Stack(config, sessions, server, http, world)
    finally:
        await engine.dispose()


def sqlite_copy(template: Path, directory: Path) -> str:
    return copy_sqlite(template, directory / "policy.db")


async def emptied_postgres(database_url: str) -> str:
    await truncate_postgres(database_url)
    return database_url
