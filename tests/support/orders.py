"""Test data for the trade, made with the ORM: listed devices, actors, signed-in users.

Also what a refused action must leave unchanged (``snapshot``) and the events a step wrote.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor, ActorKind
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    OrderStatus,
    OrganizationKind,
    Role,
)
from app.models import (
    Device,
    Event,
    IdempotencyRecord,
    Listing,
    Order,
    OrderLine,
    Organization,
    Shipment,
    User,
)
from app.services import orders, shipments
from tests.support.factories import (
    create_buyer,
    create_client,
    create_organization,
    grade_device,
    make_imei,
)
from tests.support.graphql import GraphQLClient

Sessions = async_sessionmaker[AsyncSession]

_sequence = itertools.count(10_000)
# Cheap argon2 parameters for test users: verify() reads them from the hash.
_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "correct horse battery staple"


# --- Listed devices ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Listed:
    listing_id: int
    device_id: int
    client_id: int
    price_minor: int


async def create_listed_device(
    sessions: Sessions,
    *,
    client: Organization | None = None,
    price_minor: int = 12900,
    currency: str = "EUR",
) -> Listed:
    """A graded AVAILABLE device with an ACTIVE listing, as publishing would leave them."""
    if client is None:
        client = await create_client(sessions)
    async with sessions.begin() as session:
        device = Device(
            imei=make_imei(next(_sequence)),
            make="Apple",
            model="iPhone 13",
            storage_gb=128,
            client_id=client.id,
            status=DeviceStatus.GRADED,
        )
        session.add(device)
    await grade_device(sessions, device.id)
    async with sessions.begin() as session:
        device = await session.get_one(Device, device.id)
        device.status = DeviceStatus.AVAILABLE
        listing = Listing(
            device_id=device.id,
            price_minor=price_minor,
            currency=currency,
            status=ListingStatus.ACTIVE,
        )
        session.add(listing)
    return Listed(
        listing_id=listing.id, device_id=device.id, client_id=client.id, price_minor=price_minor
    )


async def statuses(sessions: Sessions, listed: Listed) -> tuple[ListingStatus, DeviceStatus]:
    async with sessions() as session:
        listing = await session.get_one(Listing, listed.listing_id)
        device = await session.get_one(Device, listed.device_id)
        return listing.status, device.status


# --- Actors for service tests ----------------------------------------------------------------


def operator(role: Role = Role.SALES) -> Actor:
    return Actor(
        ActorKind.USER,
        subject_id=next(_sequence),
        organization_id=1,
        organization_kind=OrganizationKind.OPERATOR,
        role=role,
    )


def buyer_actor(buyer: Organization, role: Role = Role.BUYER) -> Actor:
    return Actor(
        ActorKind.USER,
        subject_id=next(_sequence),
        organization_id=buyer.id,
        organization_kind=OrganizationKind.BUYER,
        role=role,
    )


def client_actor(client_id: int) -> Actor:
    return Actor(
        ActorKind.USER,
        subject_id=next(_sequence),
        organization_id=client_id,
        organization_kind=OrganizationKind.CLIENT,
        role=Role.VIEWER,
    )


# --- What a refused action must leave alone ----------------------------------------------------


async def snapshot(sessions: Sessions) -> dict[str, Any]:
    """Row counts and every status and version the trade can change."""
    async with sessions() as session:
        counts = {
            model.__name__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Order, OrderLine, Shipment, Event, IdempotencyRecord)
        }
        states: dict[str, Any] = {}
        for model in (Listing, Device, Order, Shipment):
            rows = await session.execute(
                select(model.id, model.status, model.version).order_by(model.id)
            )
            states[model.__name__] = [tuple(row) for row in rows]
        released = list(await session.scalars(select(OrderLine.released).order_by(OrderLine.id)))
    return {"counts": counts, "states": states, "released": released}


async def last_event_id(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.max(Event.id))) or 0)


async def events_after(sessions: Sessions, after: int) -> list[Event]:
    async with sessions() as session:
        return list(await session.scalars(select(Event).where(Event.id > after).order_by(Event.id)))


def kinds(events: list[Event]) -> list[tuple[str, str, int]]:
    return [(event.type, event.entity_type, event.entity_id) for event in events]


# --- Signed-in users for API tests -----------------------------------------------------------


async def create_user(sessions: Sessions, organization: Organization, role: Role) -> str:
    """A user of ``organization`` with ``role``; returns the email (password ``PASSWORD``)."""
    email = f"user{next(_sequence)}@example.test"
    async with sessions.begin() as session:
        session.add(
            User(
                organization_id=organization.id,
                email=email,
                name=f"{role.value.title()} user",
                role=role,
                password_hash=_hasher.hash(PASSWORD),
            )
        )
    return email


SIGN_IN = """
mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) {
    __typename
    ... on SignInPayload { token }
    ... on Error { code message }
  }
}
"""


class SignedIn:
    """A GraphQL client that sends one user's bearer token."""

    def __init__(self, graphql: GraphQLClient, token: str) -> None:
        self.graphql = graphql
        self.headers = {"Authorization": f"Bearer {token}"}

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        return await self.graphql(query, variables, headers=self.headers)

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = await self(query, variables)
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        return data


async def sign_in_as(
    graphql: GraphQLClient, sessions: Sessions, organization: Organization, role: Role
) -> SignedIn:
    email = await create_user(sessions, organization, role)
    result = (await graphql.data(SIGN_IN, {"email": email, "password": PASSWORD}))["signIn"]
    assert result["__typename"] == "SignInPayload", result
    return SignedIn(graphql, result["token"])


async def create_operator_org(sessions: Sessions) -> Organization:
    return await create_organization(sessions, kind=OrganizationKind.OPERATOR)


# --- Orders driven to a status through the services ---------------------------------------------


@dataclass(frozen=True, slots=True)
class Trade:
    order_id: int
    buyer: Organization
    buyer_actor: Actor
    listed: list[Listed]


async def trade_in(
    sessions: Sessions,
    status: OrderStatus,
    *,
    buyer: Organization | None = None,
    listings: int = 1,
) -> Trade:
    """An order of ``listings`` fresh listings, moved to ``status`` the way the API would."""
    buyer = buyer or await create_buyer(sessions)
    actor = buyer_actor(buyer)
    listed = [await create_listed_device(sessions) for _ in range(listings)]
    order = await orders.buy_listings(
        sessions, listing_ids=[item.listing_id for item in listed], actor=actor
    )
    sales, warehouse = operator(Role.SALES), operator(Role.WAREHOUSE)
    if status is OrderStatus.CANCELLED:
        await orders.cancel_order(sessions, order_id=order.id, actor=sales)
    if status in (OrderStatus.PENDING, OrderStatus.CANCELLED):
        return Trade(order.id, buyer, actor, listed)
    await orders.confirm_order(sessions, order_id=order.id, actor=sales)
    if status is not OrderStatus.CONFIRMED:
        await shipments.ship_order(
            sessions,
            order_id=order.id,
            carrier="DHL",
            tracking_number="JD0146000062812",
            actor=warehouse,
        )
    if status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        await shipments.mark_delivered(sessions, order_id=order.id, actor=warehouse)
    if status is OrderStatus.COMPLETED:
        await orders.complete_order(sessions, order_id=order.id, actor=sales)
    return Trade(order.id, buyer, actor, listed)


async def order_status(sessions: Sessions, order_id: int) -> tuple[OrderStatus, int]:
    async with sessions() as session:
        order = await session.get_one(Order, order_id)
        return order.status, order.version
