"""Rule 8 for the eight mutations that gained an idempotency key, on SQLite and PostgreSQL:
receiveDevice, createListing, publishListing, pauseListing, repriceListing, withdrawListing,
rejectOffer and withdrawOffer.

For each: the same key and input twice return the same row and do the work once (the events of
one call, one new row or one status change, one idempotency record); the same key with other
input is IDEMPOTENCY_CONFLICT with nothing written; a new key is a new request (the domain
decides: a status move already made is refused by the status machine, another device is
received); without a key nothing changes from before (no record is written).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import DeviceStatus, ListingStatus, OfferStatus
from app.models import Device, Listing, Offer
from app.services import devices as device_service
from app.services import listings as listing_service
from app.services import offers as offer_service
from tests.support.events import events_after, last_event_id, reload
from tests.support.factories import make_imei
from tests.support.trade import (
    World,
    create_device,
    create_listing,
    create_offer,
    create_world,
    snapshot,
)

Sessions = async_sessionmaker[AsyncSession]
Target = dict[str, Any]
_imeis = itertools.count(1)


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await create_world(sessions)


async def refused(
    sessions: Sessions, code: ErrorCode, action: Callable[[], Awaitable[Any]]
) -> DomainError:
    """Run a refused action: its code, and nothing written at all (rows, events, records)."""
    before = await snapshot(sessions)
    with pytest.raises(DomainError) as error:
        await action()
    assert error.value.code is code, error.value
    assert await snapshot(sessions) == before
    return error.value


def rows_of(state: tuple[Any, list[tuple[str, int, str]]], kind: str) -> int:
    return sum(1 for row in state[1] if row[0] == kind)


# --- The eight mutations, each as a case ---------------------------------------------------
#
# ``act(sessions, world, target, key=..., variant=..., expected_version=...)``: variant 0 is the
# input the test repeats; variant 1 is another input (for receiveDevice and createListing
# another device, so that with a new key it is a legal second request).


@dataclass(frozen=True)
class Case:
    operation: str
    model: type[Any]
    events: tuple[str, ...]
    """What one call appends, in order."""
    status: Enum
    """The row's status after one call."""
    version: int
    """The row's version after one call."""
    new_rows: int
    """Rows of ``model`` one call creates (1) or none (a move)."""
    repeat: ErrorCode | None
    """The same input again with a new key (or none): the domain's refusal; None for reprice,
    where the same price again changes nothing."""
    arrange: Callable[[Sessions, World], Awaitable[Target]]
    act: Callable[..., Awaitable[Any]]

    def __str__(self) -> str:
        return self.operation


async def _arrange_client(sessions: Sessions, world: World) -> Target:
    number = 700_000 + next(_imeis) * 2
    return {"imeis": (make_imei(number), make_imei(number + 1))}


async def _receive(
    sessions: Sessions,
    world: World,
    target: Target,
    *,
    key: str | None,
    variant: int = 0,
    expected_version: int | None = None,
) -> Device:
    intake = device_service.DeviceIntake(
        client_id=world.client.id,
        make="Apple",
        model="iPhone 13",
        imei=target["imeis"][variant],
        storage_gb=128,
        location="A-01",
    )
    return await device_service.receive_device(
        sessions, intake, actor=world.warehouse.actor.ref, idempotency_key=key
    )


async def _arrange_devices(sessions: Sessions, world: World) -> Target:
    first = await create_device(sessions, world.client)
    second = await create_device(sessions, world.client)
    return {"devices": (first.id, second.id)}


async def _create(
    sessions: Sessions,
    world: World,
    target: Target,
    *,
    key: str | None,
    variant: int = 0,
    expected_version: int | None = None,
) -> Listing:
    return await listing_service.create_listing(
        sessions,
        device_id=target["devices"][variant],
        price_minor=45_000,
        actor=world.sales.actor,
        idempotency_key=key,
    )


def _arrange_listing(status: ListingStatus) -> Callable[[Sessions, World], Awaitable[Target]]:
    async def arrange(sessions: Sessions, world: World) -> Target:
        listing = await create_listing(sessions, world.client, price_minor=50_000, status=status)
        return {"listing": listing.id}

    return arrange


def _move_listing(
    move: Callable[..., Awaitable[Listing]],
) -> Callable[..., Awaitable[Listing]]:
    """publish/pause: variant 1 names the version the caller saw, variant 0 does not."""

    async def act(
        sessions: Sessions,
        world: World,
        target: Target,
        *,
        key: str | None,
        variant: int = 0,
        expected_version: int | None = None,
    ) -> Listing:
        return await move(
            sessions,
            listing_id=target["listing"],
            actor=world.sales.actor,
            expected_version=1 if variant else expected_version,
            idempotency_key=key,
        )

    return act


async def _reprice(
    sessions: Sessions,
    world: World,
    target: Target,
    *,
    key: str | None,
    variant: int = 0,
    expected_version: int | None = None,
) -> Listing:
    return await listing_service.reprice_listing(
        sessions,
        listing_id=target["listing"],
        price_minor=(45_000, 44_000)[variant],
        actor=world.sales.actor,
        expected_version=expected_version,
        idempotency_key=key,
    )


async def _withdraw_listing(
    sessions: Sessions,
    world: World,
    target: Target,
    *,
    key: str | None,
    variant: int = 0,
    expected_version: int | None = None,
) -> Listing:
    return await listing_service.withdraw_listing(
        sessions,
        listing_id=target["listing"],
        actor=world.sales.actor,
        expected_version=expected_version,
        reason=("Sold elsewhere.", "Damaged in the warehouse.")[variant],
        idempotency_key=key,
    )


async def _arrange_offer(sessions: Sessions, world: World) -> Target:
    listing = await create_listing(sessions, world.client, price_minor=50_000)
    offer = await create_offer(sessions, listing, world.buyer_a.organization)
    return {"listing": listing.id, "offer": offer.id}


async def _reject(
    sessions: Sessions,
    world: World,
    target: Target,
    *,
    key: str | None,
    variant: int = 0,
    expected_version: int | None = None,
) -> Offer:
    return await offer_service.reject_offer(
        sessions,
        offer_id=target["offer"],
        actor=world.sales.actor,
        expected_version=expected_version,
        reason=("Too low.", "We sold it to someone else.")[variant],
        idempotency_key=key,
    )


async def _withdraw_offer(
    sessions: Sessions,
    world: World,
    target: Target,
    *,
    key: str | None,
    variant: int = 0,
    expected_version: int | None = None,
) -> Offer:
    return await offer_service.withdraw_offer(
        sessions,
        offer_id=target["offer"],
        actor=world.buyer_a.actor,
        expected_version=1 if variant else expected_version,
        idempotency_key=key,
    )


RECEIVE = Case(
    "receiveDevice",
    Device,
    ("device.received",),
    DeviceStatus.RECEIVED,
    1,
    1,
    ErrorCode.DUPLICATE_IMEI,
    _arrange_client,
    _receive,
)
CREATE = Case(
    "createListing",
    Listing,
    ("listing.created",),
    ListingStatus.DRAFT,
    1,
    1,
    ErrorCode.INVALID_INPUT,  # the device already has an open listing
    _arrange_devices,
    _create,
)
PUBLISH = Case(
    "publishListing",
    Listing,
    ("listing.published", "device.listed"),
    ListingStatus.ACTIVE,
    2,
    0,
    ErrorCode.INVALID_TRANSITION,
    _arrange_listing(ListingStatus.DRAFT),
    _move_listing(listing_service.publish_listing),
)
PAUSE = Case(
    "pauseListing",
    Listing,
    ("listing.paused",),
    ListingStatus.PAUSED,
    2,
    0,
    ErrorCode.INVALID_TRANSITION,
    _arrange_listing(ListingStatus.ACTIVE),
    _move_listing(listing_service.pause_listing),
)
REPRICE = Case(
    "repriceListing",
    Listing,
    ("listing.price_changed",),
    ListingStatus.ACTIVE,
    2,
    0,
    None,
    _arrange_listing(ListingStatus.ACTIVE),
    _reprice,
)
WITHDRAW_LISTING = Case(
    "withdrawListing",
    Listing,
    ("listing.withdrawn", "device.delisted"),
    ListingStatus.WITHDRAWN,
    2,
    0,
    ErrorCode.INVALID_TRANSITION,
    _arrange_listing(ListingStatus.ACTIVE),
    _withdraw_listing,
)
REJECT = Case(
    "rejectOffer",
    Offer,
    ("offer.rejected",),
    OfferStatus.REJECTED,
    2,
    0,
    ErrorCode.INVALID_TRANSITION,
    _arrange_offer,
    _reject,
)
WITHDRAW_OFFER = Case(
    "withdrawOffer",
    Offer,
    ("offer.withdrawn",),
    OfferStatus.WITHDRAWN,
    2,
    0,
    ErrorCode.INVALID_TRANSITION,
    _arrange_offer,
    _withdraw_offer,
)

CASES = [
    RECEIVE,
    CREATE,
    PUBLISH,
    PAUSE,
    REPRICE,
    WITHDRAW_LISTING,
    REJECT,
    WITHDRAW_OFFER,
]
MOVES = [case for case in CASES if case.new_rows == 0]
CREATES = [case for case in CASES if case.new_rows == 1]
REFUSED_ON_REPEAT = [case for case in CASES if case.repeat is not None]
by_operation = pytest.mark.parametrize("case", CASES, ids=str)


def _kind(case: Case) -> str:
    return str(case.model.__name__)


async def _types_after(sessions: Sessions, cursor: int) -> tuple[str, ...]:
    return tuple(event.type for event in await events_after(sessions, cursor))


# --- The same key and input: the first result, the work done once ---------------------------


@by_operation
async def test_the_same_key_and_input_do_the_work_once(
    sessions: Sessions, world: World, case: Case
) -> None:
    target = await case.arrange(sessions, world)
    start = await snapshot(sessions)
    cursor = await last_event_id(sessions)

    first = await case.act(sessions, world, target, key="retry-1")

    assert await _types_after(sessions, cursor) == case.events
    stored = await reload(sessions, case.model, first.id)
    assert (stored.status, stored.version) == (case.status, case.version)
    after_first = await snapshot(sessions)
    assert rows_of(after_first, _kind(case)) == rows_of(start, _kind(case)) + case.new_rows
    assert after_first[0].idempotency_records == start[0].idempotency_records + 1

    again = await case.act(sessions, world, target, key="retry-1")

    assert type(again) is case.model
    assert (again.id, again.status, again.version) == (first.id, first.status, first.version)
    assert await snapshot(sessions) == after_first
    assert await _types_after(sessions, cursor) == case.events


@pytest.mark.parametrize("case", MOVES, ids=str)
async def test_a_retry_that_names_the_version_it_saw_is_not_stale(
    sessions: Sessions, world: World, case: Case
) -> None:
    """The retry still says expectedVersion 1 while the row is at 2: the stored result wins."""
    target = await case.arrange(sessions, world)
    first = await case.act(sessions, world, target, key="v-1", expected_version=1)
    after_first = await snapshot(sessions)

    again = await case.act(sessions, world, target, key="v-1", expected_version=1)

    assert (again.id, again.version) == (first.id, case.version)
    assert await snapshot(sessions) == after_first
    await refused(
        sessions,
        ErrorCode.STALE,
        lambda: case.act(sessions, world, target, key="v-2", expected_version=1),
    )


# --- The same key with other input: a conflict, nothing written ------------------------------


@by_operation
async def test_the_same_key_with_other_input_is_a_conflict(
    sessions: Sessions, world: World, case: Case
) -> None:
    target = await case.arrange(sessions, world)
    await case.act(sessions, world, target, key="retry-1")

    error = await refused(
        sessions,
        ErrorCode.IDEMPOTENCY_CONFLICT,
        lambda: case.act(sessions, world, target, key="retry-1", variant=1),
    )
    assert error.facts["field"] == "idempotencyKey"


async def test_a_key_used_by_another_mutation_is_a_conflict(
    sessions: Sessions, world: World
) -> None:
    """publishListing and pauseListing share their input type: the operation tells them apart."""
    target = await PAUSE.arrange(sessions, world)
    await PAUSE.act(sessions, world, target, key="shared")

    await refused(
        sessions,
        ErrorCode.IDEMPOTENCY_CONFLICT,
        lambda: PUBLISH.act(sessions, world, target, key="shared"),
    )
    assert (await reload(sessions, Listing, target["listing"])).status is ListingStatus.PAUSED


# --- Different keys: independent requests ----------------------------------------------------


@pytest.mark.parametrize("case", REFUSED_ON_REPEAT, ids=str)
async def test_a_new_key_with_the_same_input_meets_the_domain(
    sessions: Sessions, world: World, case: Case
) -> None:
    """Receiving an IMEI twice, listing a listed device, moving a moved row: refused."""
    target = await case.arrange(sessions, world)
    await case.act(sessions, world, target, key="retry-1")
    assert case.repeat is not None

    await refused(sessions, case.repeat, lambda: case.act(sessions, world, target, key="retry-2"))


@pytest.mark.parametrize("case", [case for case in MOVES if case is not REPRICE], ids=str)
async def test_a_move_made_once_is_refused_by_the_status_machine_under_a_new_key(
    sessions: Sessions, world: World, case: Case
) -> None:
    target = await case.arrange(sessions, world)
    await case.act(sessions, world, target, key="retry-1")

    error = await refused(
        sessions,
        ErrorCode.INVALID_TRANSITION,
        lambda: case.act(sessions, world, target, key="retry-2"),
    )
    assert (error.facts["current_status"], error.facts["current_version"]) == (
        case.status.value,
        case.version,
    )


@pytest.mark.parametrize("case", [*CREATES, REPRICE], ids=str)
async def test_a_new_key_with_other_input_does_new_work(
    sessions: Sessions, world: World, case: Case
) -> None:
    target = await case.arrange(sessions, world)
    first = await case.act(sessions, world, target, key="retry-1")
    before = await snapshot(sessions)
    cursor = await last_event_id(sessions)

    second = await case.act(sessions, world, target, key="retry-2", variant=1)

    assert await _types_after(sessions, cursor) == case.events
    after = await snapshot(sessions)
    assert after[0].idempotency_records == before[0].idempotency_records + 1
    assert rows_of(after, _kind(case)) == rows_of(before, _kind(case)) + case.new_rows
    assert (second.id != first.id) is (case.new_rows == 1)
    # The first key still answers with its own result.
    replay = await case.act(sessions, world, target, key="retry-1")
    assert replay.id == first.id
    assert await snapshot(sessions) == after


async def test_a_new_key_repricing_to_the_same_price_changes_nothing(
    sessions: Sessions, world: World
) -> None:
    target = await REPRICE.arrange(sessions, world)
    await REPRICE.act(sessions, world, target, key="retry-1")
    cursor = await last_event_id(sessions)

    again = await REPRICE.act(sessions, world, target, key="retry-2")

    assert (again.price_minor, again.version) == (45_000, 2)
    assert await events_after(sessions, cursor) == []


async def test_keys_are_per_actor(sessions: Sessions, world: World) -> None:
    """Two people who happen to pick one key make two requests (scope: the actor)."""
    target = await REPRICE.arrange(sessions, world)
    await listing_service.reprice_listing(
        sessions,
        listing_id=target["listing"],
        price_minor=45_000,
        actor=world.sales.actor,
        idempotency_key="same",
    )
    listing = await listing_service.reprice_listing(
        sessions,
        listing_id=target["listing"],
        price_minor=44_000,
        actor=world.admin.actor,
        idempotency_key="same",
    )
    assert (listing.price_minor, listing.version) == (44_000, 3)


async def test_a_refused_call_does_not_use_up_its_key(sessions: Sessions, world: World) -> None:
    """No result is stored for a refusal: the corrected retry with the same key runs."""
    target = await PUBLISH.arrange(sessions, world)
    await refused(
        sessions,
        ErrorCode.STALE,
        lambda: PUBLISH.act(sessions, world, target, key="k", expected_version=7),
    )
    listing = await PUBLISH.act(sessions, world, target, key="k", expected_version=1)
    assert (listing.status, listing.version) == (ListingStatus.ACTIVE, 2)


@pytest.mark.parametrize("key", ["", "k" * 201])
async def test_a_key_has_1_to_200_characters(sessions: Sessions, world: World, key: str) -> None:
    target = await REJECT.arrange(sessions, world)
    error = await refused(
        sessions,
        ErrorCode.INVALID_INPUT,
        lambda: REJECT.act(sessions, world, target, key=key),
    )
    assert error.facts["field"] == "idempotencyKey"


# --- Without a key: as before ----------------------------------------------------------------


@by_operation
async def test_without_a_key_nothing_is_stored(
    sessions: Sessions, world: World, case: Case
) -> None:
    target = await case.arrange(sessions, world)
    start = await snapshot(sessions)
    cursor = await last_event_id(sessions)

    row = await case.act(sessions, world, target, key=None)

    assert (row.status, row.version) == (case.status, case.version)
    assert await _types_after(sessions, cursor) == case.events
    after = await snapshot(sessions)
    assert after[0].idempotency_records == start[0].idempotency_records == 0
    assert rows_of(after, _kind(case)) == rows_of(start, _kind(case)) + case.new_rows


@pytest.mark.parametrize("case", REFUSED_ON_REPEAT, ids=str)
async def test_without_a_key_a_repeat_is_refused_as_before(
    sessions: Sessions, world: World, case: Case
) -> None:
    target = await case.arrange(sessions, world)
    await case.act(sessions, world, target, key=None)
    assert case.repeat is not None

    await refused(sessions, case.repeat, lambda: case.act(sessions, world, target, key=None))


# --- Retries at the same moment --------------------------------------------------------------


@by_operation
async def test_concurrent_retries_with_one_key_get_one_result(
    sessions: Sessions, world: World, case: Case
) -> None:
    """A client that retries before the first call answered: every call gets the first
    result, the work is done once (the latecomers wait for the row lock, then the record)."""
    target = await case.arrange(sessions, world)
    cursor = await last_event_id(sessions)

    results = await asyncio.gather(
        *(case.act(sessions, world, target, key="at-once") for _ in range(4)),
        return_exceptions=True,
    )

    rows = [result for result in results if isinstance(result, case.model)]
    assert len(rows) == len(results), results
    assert len({row.id for row in rows}) == 1
    assert await _types_after(sessions, cursor) == case.events
    assert (await snapshot(sessions))[0].idempotency_records == 1


@pytest.mark.parametrize("case", [case for case in MOVES if case is not REPRICE], ids=str)
async def test_concurrent_moves_without_a_key_have_one_winner(
    sessions: Sessions, world: World, case: Case
) -> None:
    """Without a key the latecomers are refused by the status machine: a typed refusal, never
    an unexpected error (an offer read before its row lock used to fail the ORM's version
    check)."""
    target = await case.arrange(sessions, world)
    cursor = await last_event_id(sessions)

    results = await asyncio.gather(
        *(case.act(sessions, world, target, key=None) for _ in range(4)),
        return_exceptions=True,
    )

    rows = [result for result in results if isinstance(result, case.model)]
    refusals = [result for result in results if isinstance(result, DomainError)]
    assert (len(rows), len(refusals)) == (1, 3), results
    assert {error.code for error in refusals} == {ErrorCode.INVALID_TRANSITION}
    assert await _types_after(sessions, cursor) == case.events
