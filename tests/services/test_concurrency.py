"""Rule 2 under real concurrency: of any number of attempts on one listing exactly one wins.

On PostgreSQL the attempts run at the same moment on their own connections (an engine with a
pool big enough for all of them, warmed up first) and meet at the listing's row lock. On SQLite
writes are serialised by BEGIN IMMEDIATE; a smaller crowd must give the same outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import create_engine, create_session_factory
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    OfferParty,
    OfferStatus,
    Role,
)
from app.models import Event, IdempotencyRecord, Offer, Order, OrderLine
from app.services import offers, orders
from app.settings import Settings
from tests.support.auth import buyer_actor, operator
from tests.support.databases import asyncpg_dsn
from tests.support.events import events_after, last_event_id
from tests.support.factories import create_buyer
from tests.support.markers import only
from tests.support.orders import Listed, create_listed_device, statuses

Sessions = async_sessionmaker[AsyncSession]
CROWD = 50


async def _free_connections(database_url: str) -> int:
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        limit = int(await connection.fetchval("SHOW max_connections"))
        reserved = int(await connection.fetchval("SHOW superuser_reserved_connections"))
        in_use = int(await connection.fetchval("SELECT count(*) FROM pg_stat_activity"))
    finally:
        await connection.close()
    return limit - reserved - in_use


@pytest.fixture
async def crowd(settings: Settings, database_kind: str) -> AsyncIterator[tuple[Sessions, int]]:
    """Sessions on an engine that holds one connection per concurrent attempt, already open."""
    if database_kind == "sqlite":
        size = 10
    else:
        # Other test sessions may share this server: leave them room, and say so if we shrink.
        size = min(CROWD, await _free_connections(settings.database_url) - 10)
        assert size >= 10, f"PostgreSQL has too few free connections ({size + 10})"
    engine = create_engine(
        settings.model_copy(
            update={"db_pool_size": size, "db_max_overflow": 0, "db_pool_timeout": 60}
        )
    )
    try:
        if database_kind == "postgresql":  # (on SQLite every transaction takes the write lock)
            connections = [await engine.connect() for _ in range(size)]
            for connection in connections:
                await connection.execute(text("SELECT 1"))
            for connection in connections:
                await connection.close()
        yield create_session_factory(engine), size
    finally:
        await engine.dispose()


async def _counts(sessions: Sessions) -> dict[str, int]:
    async with sessions() as session:
        return {
            model.__name__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Order, OrderLine, IdempotencyRecord)
        }


async def _many_buyers_one_listing(
    sessions: Sessions, crowd: tuple[Sessions, int], *, key: str | None = None
) -> list[Any]:
    many, size = crowd
    listed = await create_listed_device(sessions)
    buyers = [await create_buyer(sessions) for _ in range(size)]
    start = await last_event_id(sessions)

    results = await asyncio.gather(
        *(
            orders.buy_listings(
                many,
                listing_ids=[listed.listing_id],
                actor=buyer_actor(buyer),
                idempotency_key=key,
            )
            for buyer in buyers
        ),
        return_exceptions=True,
    )

    won = [result for result in results if isinstance(result, Order)]
    lost = [result for result in results if isinstance(result, DomainError)]
    assert len(won) == 1, results
    assert len(lost) == size - 1, [r for r in results if not isinstance(r, Order | DomainError)]
    for error in lost:
        assert error.code is ErrorCode.NOT_AVAILABLE
        assert error.facts["current_status"] == "RESERVED"
    assert await statuses(sessions, listed) == (ListingStatus.RESERVED, DeviceStatus.RESERVED)
    counts = await _counts(sessions)
    assert (counts["Order"], counts["OrderLine"]) == (1, 1)
    assert counts["IdempotencyRecord"] == (1 if key else 0)
    assert [event.type for event in await events_after(sessions, start)] == [
        "listing.reserved",
        "device.reserved",
        "order.placed",
    ]
    return won


@only("postgresql")
async def test_fifty_buyers_one_listing(sessions: Sessions, crowd: tuple[Sessions, int]) -> None:
    await _many_buyers_one_listing(sessions, crowd)


@only("sqlite")
async def test_ten_buyers_one_listing_on_sqlite(
    sessions: Sessions, crowd: tuple[Sessions, int]
) -> None:
    await _many_buyers_one_listing(sessions, crowd)


async def test_buyers_who_share_a_key_still_meet_at_the_listing(
    sessions: Sessions, crowd: tuple[Sessions, int]
) -> None:
    """Keys are per user: different buyers with one key are different requests."""
    await _many_buyers_one_listing(sessions, crowd, key="same-key")


async def test_one_buyer_retrying_at_once_gets_one_order(
    sessions: Sessions, crowd: tuple[Sessions, int]
) -> None:
    many, size = crowd
    listed = await create_listed_device(sessions)
    actor = buyer_actor(await create_buyer(sessions))
    start = await last_event_id(sessions)

    results = await asyncio.gather(
        *(
            orders.buy_listings(
                many, listing_ids=[listed.listing_id], actor=actor, idempotency_key="retry"
            )
            for _ in range(min(size, 20))
        ),
        return_exceptions=True,
    )

    assert all(isinstance(result, Order) for result in results), results
    assert len({result.id for result in results if isinstance(result, Order)}) == 1
    assert await _counts(sessions) == {"Order": 1, "OrderLine": 1, "IdempotencyRecord": 1}
    assert len(await events_after(sessions, start)) == 3


async def _race_accept_against_buy(sessions: Sessions, many: Sessions) -> tuple[str, Listed]:
    listed = await create_listed_device(sessions, price_minor=20000)
    offerer = await create_buyer(sessions)
    async with sessions.begin() as session:
        offer = Offer(
            listing_id=listed.listing_id,
            buyer_id=offerer.id,
            amount_minor=18000,
            currency="EUR",
            from_party=OfferParty.BUYER,
            expires_at=datetime.now(UTC) + timedelta(hours=48),
        )
        session.add(offer)
    purchaser = await create_buyer(sessions)

    accepted, bought = await asyncio.gather(
        offers.accept_offer(many, offer_id=offer.id, actor=operator(Role.SALES)),
        orders.buy_listings(many, listing_ids=[listed.listing_id], actor=buyer_actor(purchaser)),
        return_exceptions=True,
    )

    async with sessions() as session:
        placed = list(
            await session.scalars(
                select(Order).join(OrderLine).where(OrderLine.listing_id == listed.listing_id)
            )
        )
        final_offer = await session.get_one(Offer, offer.id)
    assert len(placed) == 1, (accepted, bought)
    [order] = placed
    if isinstance(bought, Order):
        winner = "buy"
        assert isinstance(accepted, DomainError)
        assert accepted.code in (ErrorCode.NOT_AVAILABLE, ErrorCode.INVALID_TRANSITION)
        assert (order.buyer_id, final_offer.status) == (purchaser.id, OfferStatus.INVALIDATED)
    else:
        winner = "accept"
        assert isinstance(bought, DomainError), bought
        assert (bought.code, bought.facts["current_status"]) == (
            ErrorCode.NOT_AVAILABLE,
            "RESERVED",
        )
        assert (order.buyer_id, final_offer.status) == (offerer.id, OfferStatus.ACCEPTED)
        async with sessions() as session:
            [line] = await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
        assert line.price_minor == 18000
    assert await statuses(sessions, listed) == (ListingStatus.RESERVED, DeviceStatus.RESERVED)
    return winner, listed


async def test_accepting_an_offer_races_buying_now_twenty_times(
    sessions: Sessions, crowd: tuple[Sessions, int]
) -> None:
    many, _ = crowd
    winners = [(await _race_accept_against_buy(sessions, many))[0] for _ in range(20)]
    async with sessions() as session:
        orders_placed = await session.scalar(select(func.count()).select_from(Order))
        active_lines = await session.scalar(
            select(func.count()).select_from(OrderLine).where(OrderLine.released.is_(False))
        )
        devices_sold = await session.scalar(
            select(func.count(func.distinct(OrderLine.device_id))).where(
                OrderLine.released.is_(False)
            )
        )
        events = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "order.placed")
        )
    # No oversell: twenty listings, twenty orders, one active line per device.
    assert (orders_placed, active_lines, devices_sold, events) == (20, 20, 20, 20), winners
    assert set(winners) <= {"buy", "accept"}
