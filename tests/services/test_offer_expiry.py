"""Offer expiry (rule 4) on SQLite and PostgreSQL: the sweep, its events and batches, and the
background task that runs it and survives its failures."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import ListingStatus, OfferParty, OfferStatus
from app.models import Listing, Offer
from app.models.base import utcnow
from app.services import offers as offer_service
from app.tasks.offer_expiry import OfferExpiryTask
from tests.support.events import events_after, last_event_id, reload
from tests.support.trade import World, create_listing, create_offer, create_world, snapshot

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await create_world(sessions)


@pytest.fixture
async def listing(sessions: Sessions, world: World) -> Listing:
    return await create_listing(sessions, world.client)


async def test_due_pending_offers_expire_with_an_event_each(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    now = utcnow()
    buyer_a, buyer_b = world.buyer_a.organization, world.buyer_b.organization
    due = await create_offer(sessions, listing, buyer_a, expires_at=now - timedelta(hours=1))
    exactly = await create_offer(
        sessions, listing, buyer_b, expires_at=now, from_party=OfferParty.SELLER
    )
    other_listing = await create_listing(sessions, world.client, status=ListingStatus.PAUSED)
    not_yet = await create_offer(
        sessions, other_listing, buyer_a, expires_at=now + timedelta(seconds=1)
    )
    closed = await create_offer(
        sessions,
        other_listing,
        buyer_b,
        status=OfferStatus.REJECTED,
        expires_at=now - timedelta(days=3),
    )
    cursor = await last_event_id(sessions)

    assert await offer_service.expire_due_offers(sessions, now=now) == 2

    assert (await reload(sessions, Offer, due.id)).status is OfferStatus.EXPIRED
    assert (await reload(sessions, Offer, exactly.id)).status is OfferStatus.EXPIRED
    assert (await reload(sessions, Offer, not_yet.id)).status is OfferStatus.PENDING
    assert (await reload(sessions, Offer, closed.id)).status is OfferStatus.REJECTED
    events = await events_after(sessions, cursor)
    assert [(e.type, e.entity_id, e.entity_version, e.actor) for e in events] == [
        ("offer.expired", due.id, 2, "system:offer-expiry"),
        ("offer.expired", exactly.id, 2, "system:offer-expiry"),
    ]
    assert events[0].audiences == [f"buyer:{buyer_a.id}", "operator"]
    assert events[1].audiences == [f"buyer:{buyer_b.id}", "operator"]
    assert events[0].changes == {
        "status": "EXPIRED",
        "listingId": listing.id,
        "expiresAt": due.expires_at.isoformat(),
    }
    # The listing and its device are untouched by an offer's expiry.
    assert (await reload(sessions, Listing, listing.id)).version == 1


async def test_a_sweep_with_nothing_due_writes_nothing(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    await create_offer(sessions, listing, world.buyer_a.organization)
    before = await snapshot(sessions)
    assert await offer_service.expire_due_offers(sessions) == 0
    assert await snapshot(sessions) == before


async def test_the_sweep_works_in_batches_until_nothing_is_due(
    sessions: Sessions, world: World
) -> None:
    past = utcnow() - timedelta(minutes=5)
    offers = []
    for _ in range(5):
        listing = await create_listing(sessions, world.client)
        offers.append(
            await create_offer(sessions, listing, world.buyer_a.organization, expires_at=past)
        )

    assert await offer_service.expire_due_offers(sessions, limit=2) == 5

    for offer in offers:
        assert (await reload(sessions, Offer, offer.id)).status is OfferStatus.EXPIRED
    assert await offer_service.expire_due_offers(sessions, limit=2) == 0


async def test_an_expired_offer_can_no_longer_be_accepted(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    offer = await create_offer(
        sessions, listing, world.buyer_a.organization, expires_at=utcnow() - timedelta(seconds=1)
    )
    await offer_service.expire_due_offers(sessions)
    with pytest.raises(DomainError) as error:
        await offer_service.accept_offer(sessions, offer_id=offer.id, actor=world.sales.actor)
    assert error.value.code is ErrorCode.INVALID_TRANSITION
    assert error.value.facts["current_status"] == "EXPIRED"


# --- The background task -------------------------------------------------------------------


async def _wait_for(predicate: Any) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the expiry task did not get there within 5 seconds")


async def test_the_task_sweeps_at_once_and_on_every_tick(
    sessions: Sessions, world: World, listing: Listing
) -> None:
    first = await create_offer(
        sessions, listing, world.buyer_a.organization, expires_at=utcnow() - timedelta(seconds=1)
    )
    task = OfferExpiryTask(sessions, interval_seconds=0.05)
    await task.start()
    try:
        await _wait_for(lambda: task.expired >= 1)
        assert (await reload(sessions, Offer, first.id)).status is OfferStatus.EXPIRED
        second = await create_offer(
            sessions,
            listing,
            world.buyer_b.organization,
            expires_at=utcnow() + timedelta(milliseconds=100),
        )
        await _wait_for(lambda: task.expired >= 2)
        assert (await reload(sessions, Offer, second.id)).status is OfferStatus.EXPIRED
        assert task.running
    finally:
        await task.stop()
    assert not task.running
    assert task.failures == 0
    assert task.sweeps >= 2


async def test_the_task_survives_failed_sweeps(
    sessions: Sessions,
    world: World,
    listing: Listing,
    caplog: pytest.LogCaptureFixture,
) -> None:
    offer = await create_offer(
        sessions, listing, world.buyer_a.organization, expires_at=utcnow() - timedelta(seconds=1)
    )
    calls = {"n": 0}

    def flaky_sessions(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionError("database unreachable")
        return sessions.begin()

    class FlakySessions:
        def begin(self) -> Any:
            return flaky_sessions()

    task = OfferExpiryTask(FlakySessions(), interval_seconds=0.02)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="app.tasks.offer_expiry"):
        await task.start()
        try:
            await _wait_for(lambda: task.expired >= 1)
        finally:
            await task.stop()

    assert task.failures == 2
    assert task.last_error is None  # the last sweep succeeded
    assert (await reload(sessions, Offer, offer.id)).status is OfferStatus.EXPIRED
    failures = [r for r in caplog.records if "offer expiry sweep failed" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None


async def test_stop_is_prompt_and_start_is_idempotent(sessions: Sessions) -> None:
    task = OfferExpiryTask(sessions, interval_seconds=3600)
    await task.start()
    await task.start()
    await _wait_for(lambda: task.sweeps >= 1)
    async with asyncio.timeout(2):
        await task.stop()
    assert not task.running
    await task.stop()  # stopping twice is harmless
