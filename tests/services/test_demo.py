"""`seed-demo` on SQLite and PostgreSQL: every status present and every DOMAIN rule holding.

The demo is loaded once per database kind (module scope) and only read by the tests below;
the tests that load it again get a database of their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.passwords import verify_password
from app.db import create_engine, create_session_factory
from app.domain.identifiers import luhn_valid
from app.domain.statuses import (
    BlacklistStatus,
    DeviceStatus,
    ListingStatus,
    LockStatus,
    OfferParty,
    OfferStatus,
    OrderStatus,
    OrganizationKind,
    Role,
    ShipmentStatus,
)
from app.models import (
    Device,
    Event,
    Grade,
    Listing,
    Offer,
    Order,
    OrderLine,
    Organization,
    Settlement,
    SettlementLine,
    Shipment,
    User,
)
from app.services.demo import DEMO_PASSWORD, DemoSummary, seed_demo
from app.settings import Settings
from tests.support.databases import (
    create_postgres_database,
    drop_postgres_database,
    migrate_to_head,
    new_database_name,
    postgres_base_url,
    postgres_reachable,
    require_service,
    sqlite_url,
    where,
)

Sessions = async_sessionmaker[AsyncSession]
KINDS = ("sqlite", "postgresql")
PAST_AVAILABLE = (
    DeviceStatus.AVAILABLE,
    DeviceStatus.RESERVED,
    DeviceStatus.SOLD,
    DeviceStatus.SHIPPED,
    DeviceStatus.DELIVERED,
)
LISTING_FOR_DEVICE = {
    DeviceStatus.AVAILABLE: {ListingStatus.ACTIVE, ListingStatus.PAUSED},
    DeviceStatus.RESERVED: {ListingStatus.RESERVED},
    DeviceStatus.SOLD: {ListingStatus.RESERVED},  # as app.services.inventory: SOLD at shipping
    DeviceStatus.SHIPPED: {ListingStatus.SOLD},
    DeviceStatus.DELIVERED: {ListingStatus.SOLD},
}
DEVICE_FOR_ORDER = {
    OrderStatus.PENDING: DeviceStatus.RESERVED,
    OrderStatus.CONFIRMED: DeviceStatus.SOLD,
    OrderStatus.SHIPPED: DeviceStatus.SHIPPED,
    OrderStatus.DELIVERED: DeviceStatus.DELIVERED,
    OrderStatus.COMPLETED: DeviceStatus.DELIVERED,
}


@asynccontextmanager
async def fresh_database(kind: str, directory: Path) -> AsyncIterator[Sessions]:
    """A newly created and migrated database of ``kind``; PostgreSQL's is dropped after."""
    if kind == "sqlite":
        async with _engine(sqlite_url(directory / "demo.db")) as sessions:
            yield sessions
        return
    base = postgres_base_url()
    require_service(await postgres_reachable(base), "PostgreSQL", where(base))
    name = new_database_name("demo")
    url = await create_postgres_database(base, name)
    try:
        async with _engine(url) as sessions:
            yield sessions
    finally:
        await drop_postgres_database(base, name)


@asynccontextmanager
async def _engine(url: str) -> AsyncIterator[Sessions]:
    migrate_to_head(url)
    engine = create_engine(Settings(database_url=url))
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Seeded:
    kind: str
    sessions: Sessions
    summary: DemoSummary | None


@pytest.fixture(scope="module", params=KINDS)
async def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Seeded]:
    kind: str = request.param
    async with fresh_database(kind, tmp_path_factory.mktemp("demo")) as sessions:
        summary = await seed_demo(sessions)
        yield Seeded(kind, sessions, summary)


async def rows(seeded: Seeded, statement: Any) -> list[Any]:
    async with seeded.sessions() as session:
        return list((await session.execute(statement)).all())


async def all_of(seeded: Seeded, model: type[Any]) -> list[Any]:
    async with seeded.sessions() as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


# --- what was loaded ---------------------------------------------------------------------


async def test_summary_matches_the_rows_and_every_status_is_present(seeded: Seeded) -> None:
    assert seeded.summary is not None
    counted = dict(await rows(seeded, select(Device.status, func.count()).group_by(Device.status)))

    assert sum(counted.values()) == 200
    assert {status: counted.get(status, 0) for status in DeviceStatus} == {
        DeviceStatus(name): count for name, count in seeded.summary.devices_by_status.items()
    }
    assert min(counted.get(status, 0) for status in DeviceStatus) >= 1
    assert "devices: 200" in seeded.summary.describe()


async def test_organizations_and_one_login_per_role(seeded: Seeded) -> None:
    assert seeded.summary is not None
    organizations = await all_of(seeded, Organization)
    users = await all_of(seeded, User)
    kinds = Counter(organization.kind for organization in organizations)
    clients = [org for org in organizations if org.kind is OrganizationKind.CLIENT]

    assert kinds == {
        OrganizationKind.OPERATOR: 1,
        OrganizationKind.CLIENT: 3,
        OrganizationKind.BUYER: 5,
    }
    assert {org.currency for org in organizations} == {"EUR"}
    assert all(org.commission_bps and org.fee_per_device_minor for org in clients)
    assert {role for _, role in seeded.summary.logins} == {role.value for role in Role}
    assert ("admin@devicegraph.demo", "ADMIN") in seeded.summary.logins
    assert sorted(seeded.summary.logins) == sorted((u.email, u.role.value) for u in users)
    viewers = Counter(user.organization_id for user in users if user.role is Role.VIEWER)
    assert viewers == Counter(org.id for org in clients)
    assert all(user.active for user in users)
    assert verify_password(users[0].password_hash, DEMO_PASSWORD)
    assert not verify_password(users[0].password_hash, DEMO_PASSWORD + "x")


async def test_devices_are_identified_located_and_owned_by_a_client(seeded: Seeded) -> None:
    devices = await all_of(seeded, Device)
    clients = {
        org.id for org in await all_of(seeded, Organization) if org.kind is OrganizationKind.CLIENT
    }
    imeis = [device.imei for device in devices if device.imei is not None]

    assert len(imeis) > 100
    assert [imei for imei in imeis if len(imei) != 15 or not luhn_valid(imei)] == []
    assert [d.id for d in devices if d.imei is None and not d.serial] == []
    assert [d.id for d in devices if not d.location or d.client_id not in clients] == []
    assert {device.model for device in devices} >= {"iPhone 13", "Galaxy S23", "Pixel 8"}


# --- rules ---------------------------------------------------------------------------------


async def test_grades_and_rule_1_for_everything_listed(seeded: Seeded) -> None:
    devices = await all_of(seeded, Device)
    newest: dict[int, Grade] = {}
    for grade in sorted(await all_of(seeded, Grade), key=lambda grade: grade.graded_at):
        newest[grade.device_id] = grade

    ungraded = [d.id for d in devices if d.status is DeviceStatus.RECEIVED]
    assert [d for d in ungraded if d in newest] == []
    graded = [d for d in devices if d.status is not DeviceStatus.RECEIVED]
    assert [d.id for d in graded if d.current_grade_id != newest[d.id].id] == []
    listed = [d for d in devices if d.status in PAST_AVAILABLE]
    assert [
        d.id
        for d in listed
        if not newest[d.id].data_wiped
        or d.lock_status is not LockStatus.UNLOCKED
        or d.blacklist_status is not BlacklistStatus.CLEAN
    ] == []
    held = [d for d in devices if d.status is DeviceStatus.QUARANTINED]
    assert [
        d.id
        for d in held
        if d.lock_status is LockStatus.UNLOCKED and d.blacklist_status is BlacklistStatus.CLEAN
    ] == []


async def test_each_device_has_the_listing_its_status_calls_for(seeded: Seeded) -> None:
    devices = await all_of(seeded, Device)
    listings = await all_of(seeded, Listing)
    live: dict[int, list[ListingStatus]] = {device.id: [] for device in devices}
    for listing in listings:
        if listing.status is not ListingStatus.WITHDRAWN:
            live[listing.device_id].append(listing.status)

    wrong = [
        (device.id, device.status, live[device.id])
        for device in devices
        if len(live[device.id]) != (1 if device.status in LISTING_FOR_DEVICE else 0)
        or not set(live[device.id]) <= LISTING_FOR_DEVICE.get(device.status, set())
    ]
    assert wrong == []
    statuses = {listing.status for listing in listings}
    assert statuses >= {ListingStatus.PAUSED, ListingStatus.WITHDRAWN, ListingStatus.ACTIVE}
    assert all(12900 <= listing.price_minor <= 89900 for listing in listings)


async def test_offers_follow_rules_3_and_4(seeded: Seeded) -> None:
    offers = await all_of(seeded, Offer)
    listings = {listing.id: listing for listing in await all_of(seeded, Listing)}
    by_id = {offer.id: offer for offer in offers}
    pending = [offer for offer in offers if offer.status is OfferStatus.PENDING]
    counters = [offer for offer in offers if offer.parent_offer_id is not None]
    now = datetime.now(UTC)

    assert {offer.status for offer in offers} == set(OfferStatus)
    assert max(Counter((o.listing_id, o.buyer_id) for o in pending).values()) == 1
    assert {listings[o.listing_id].status for o in pending} == {ListingStatus.ACTIVE}
    assert min(offer.expires_at for offer in pending) > now
    assert {o.expires_at - o.created_at for o in offers} == {timedelta(hours=48)}
    assert [o.id for o in offers if o.amount_minor > listings[o.listing_id].price_minor] == []
    assert len(counters) > 0
    assert [
        o.id
        for o in counters
        if o.from_party is not OfferParty.SELLER
        or by_id[o.parent_offer_id].status is not OfferStatus.COUNTERED
        or by_id[o.parent_offer_id].buyer_id != o.buyer_id
        or o.amount_minor <= by_id[o.parent_offer_id].amount_minor
    ] == []
    invalidated = {
        listings[o.listing_id].status for o in offers if o.status is OfferStatus.INVALIDATED
    }
    assert invalidated <= {ListingStatus.RESERVED, ListingStatus.SOLD}


async def test_orders_reserve_their_devices_and_shipments_carry_tracking(seeded: Seeded) -> None:
    devices = {device.id: device for device in await all_of(seeded, Device)}
    orders = {order.id: order for order in await all_of(seeded, Order)}
    lines = await all_of(seeded, OrderLine)
    shipments = {shipment.order_id: shipment for shipment in await all_of(seeded, Shipment)}
    active = [line for line in lines if not line.released]

    assert [
        line.id
        for line in active
        if devices[line.device_id].status is not DEVICE_FOR_ORDER[orders[line.order_id].status]
    ] == []
    sold = [d for d in devices.values() if d.status in PAST_AVAILABLE[1:]]
    assert Counter(line.device_id for line in active) == Counter(d.id for d in sold)
    cancelled = [o.id for o in orders.values() if o.status is OrderStatus.CANCELLED]
    assert len(cancelled) >= 1
    assert {line.released for line in lines if line.order_id in cancelled} == {True}
    assert max(Counter(line.order_id for line in lines).values()) >= 2
    expected_shipment = {
        OrderStatus.SHIPPED: ShipmentStatus.IN_TRANSIT,
        OrderStatus.DELIVERED: ShipmentStatus.DELIVERED,
        OrderStatus.COMPLETED: ShipmentStatus.DELIVERED,
    }
    assert {
        order.id: shipments[order.id].status for order in orders.values() if order.id in shipments
    } == {
        order.id: expected_shipment[order.status]
        for order in orders.values()
        if order.status in expected_shipment
    }
    assert [
        s.id
        for s in shipments.values()
        if not (s.carrier and s.tracking_number and s.tracking_url and s.shipped_at)
        or (s.status is ShipmentStatus.DELIVERED) != (s.delivered_at is not None)
    ] == []


async def test_settlement_lines_follow_rule_7(seeded: Seeded) -> None:
    settlements = await all_of(seeded, Settlement)
    lines = await all_of(seeded, SettlementLine)
    devices = {device.id: device for device in await all_of(seeded, Device)}
    order_lines = {line.id: line for line in await all_of(seeded, OrderLine)}
    client = await _one(seeded, Organization, settlements[0].client_id)
    bps, fee = client.commission_bps, client.fee_per_device_minor
    assert bps is not None
    assert fee is not None

    assert len(settlements) == 1
    assert len(lines) >= 1
    assert [
        line.id
        for line in lines
        if devices[line.device_id].status is not DeviceStatus.DELIVERED
        or devices[line.device_id].client_id != client.id
        or line.gross_minor != order_lines[line.order_line_id].price_minor
        or line.commission_minor != (line.gross_minor * bps + 5000) // 10000
        or line.fees_minor != fee
        or line.net_minor != line.gross_minor - line.commission_minor - line.fees_minor
    ] == []


async def test_history_runs_forward_and_events_match_row_versions(seeded: Seeded) -> None:
    devices = await all_of(seeded, Device)
    events = await all_of(seeded, Event)
    newest_version: dict[tuple[str, int], int] = {}
    for event in events:
        key = (event.entity_type, event.entity_id)
        newest_version[key] = max(newest_version.get(key, 0), event.entity_version)
    now = datetime.now(UTC)

    received = {e.entity_id for e in events if e.type == "device.received"}
    assert received == {device.id for device in devices}
    assert [e.id for e, after in pairwise(events) if after.occurred_at < e.occurred_at] == []
    assert now - timedelta(days=66) < events[0].occurred_at
    assert now - timedelta(days=60) < min(device.received_at for device in devices)
    assert events[-1].occurred_at <= now
    assert {event.actor for event in events} == {"system:seed"}
    assert [e.id for e in events if "operator" not in e.audiences] == []
    for model in (Device, Listing, Offer, Order, Settlement):
        stale = [
            row.id
            for row in await all_of(seeded, model)
            if newest_version[(model.__name__, row.id)] != row.version
        ]
        assert stale == [], model.__name__


async def test_a_device_moves_forward_through_time(seeded: Seeded) -> None:
    """received <= graded <= listed <= ordered <= shipped <= delivered, for every device."""
    moments = await rows(
        seeded,
        select(
            Device.received_at,
            Grade.graded_at,
            Listing.created_at,
            Order.created_at,
            Shipment.shipped_at,
            Shipment.delivered_at,
        )
        .outerjoin(Grade, Grade.device_id == Device.id)
        .outerjoin(Listing, Listing.device_id == Device.id)
        .outerjoin(OrderLine, (OrderLine.device_id == Device.id) & OrderLine.released.is_(False))
        .outerjoin(Order, Order.id == OrderLine.order_id)
        .outerjoin(Shipment, Shipment.order_id == Order.id),
    )
    now = datetime.now(UTC)

    assert len(moments) >= 200
    backwards = []
    for row in moments:
        known = [moment for moment in row if moment is not None]
        if known != sorted(known) or known[-1] > now:
            backwards.append(row)
    assert backwards == []


# --- running it again ----------------------------------------------------------------------


async def test_seeding_again_returns_none_and_writes_nothing(seeded: Seeded) -> None:
    before = await _counts(seeded.sessions)

    assert await seed_demo(seeded.sessions) is None
    assert await _counts(seeded.sessions) == before


async def test_same_data_every_run_and_force_adds_a_second_set(
    seeded: Seeded, tmp_path: Path
) -> None:
    async with fresh_database(seeded.kind, tmp_path) as sessions:
        first = await seed_demo(sessions)
        assert first is not None
        assert await _identities(sessions) == await _identities(seeded.sessions)

        second = await seed_demo(sessions, force=True)

        assert second is not None
        assert ("admin+2@devicegraph.demo", "ADMIN") in second.logins
        counts = await _counts(sessions)
        assert counts["organizations"] == 18
        assert counts["devices"] == 400
        async with sessions() as session:
            names = set(await session.scalars(select(Organization.name)))
        assert {"DeviceGraph Refurb", "DeviceGraph Refurb 2"} <= names


# --- helpers -------------------------------------------------------------------------------


async def _one(seeded: Seeded, model: type[Any], entity_id: int) -> Any:
    async with seeded.sessions() as session:
        return await session.get_one(model, entity_id)


async def _counts(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (Organization, User, Device, Listing, Offer, Order, Event)
        }


async def _identities(sessions: Sessions) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        result = await session.execute(
            select(
                Device.imei, Device.serial, Device.model, Device.status, Device.location
            ).order_by(Device.id)
        )
        return [tuple(row) for row in result]
