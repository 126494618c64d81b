"""Lots on SQLite and PostgreSQL: creation, batch intake all or nothing, reconciliation from
device rows, the status machine, refusals that write nothing, replays and who sees which lot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import ANONYMOUS, Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import DeviceStatus, LotStatus, OrganizationKind, Role
from app.models import Device, Lot, Organization
from app.services import lot_queries
from app.services import lots as lot_service
from app.services.lots import BatchRefused, LotItem
from tests.support.auth import Person, sign_in_as
from tests.support.events import events_after, kinds, last_event_id, reload
from tests.support.factories import create_buyer, create_client, create_lot, make_imei
from tests.support.warehouse import create_device, snapshot

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def client(sessions: Sessions) -> Organization:
    return await create_client(sessions)


@pytest.fixture
async def clerk(sessions: Sessions) -> Person:
    return await sign_in_as(sessions)


def items(count: int, **overrides: Any) -> list[LotItem]:
    fields: dict[str, Any] = {"make": "Samsung", "model": "Galaxy S21", "storage_gb": 128}
    fields.update(overrides)
    return [LotItem(imei=make_imei(), **fields) for _ in range(count)]


def party(kind: OrganizationKind, organization_id: int, role: Role = Role.VIEWER) -> Actor:
    return Actor(
        ActorKind.USER,
        subject_id=1,
        organization_id=organization_id,
        organization_kind=kind,
        role=role,
    )


async def refused(sessions: Sessions, action: Awaitable[Any], code: ErrorCode) -> DomainError:
    before = await snapshot(sessions)
    with pytest.raises(DomainError) as caught:
        await action
    assert caught.value.code is code, caught.value
    assert await snapshot(sessions) == before, "a refused action must write nothing"
    return caught.value


async def lot_counts(sessions: Sessions, lot_id: int) -> tuple[int, int, int]:
    async with sessions() as session:
        lot = await session.get_one(Lot, lot_id)
        counts = await lot_queries.counts(session, lot)
    return counts.received, counts.missing, counts.extra


# --- Create --------------------------------------------------------------------------------


async def test_create_lot_opens_it_with_an_event(
    sessions: Sessions, client: Organization, clerk: Person
) -> None:
    start = await last_event_id(sessions)
    lot = await lot_service.create_lot(
        sessions, client_id=client.id, reference=" ASN-1001 ", expected_count=5, actor=clerk.actor
    )
    assert (lot.status, lot.version, lot.reference, lot.expected_count) == (
        LotStatus.OPEN,
        1,
        "ASN-1001",
        5,
    )
    [event] = await events_after(sessions, start)
    assert (event.type, event.entity_type, event.entity_id, event.entity_version) == (
        "lot.created",
        "Lot",
        lot.id,
        1,
    )
    assert sorted(event.audiences) == [f"client:{client.id}", "operator"]
    assert event.changes == {
        "status": "OPEN",
        "reference": "ASN-1001",
        "clientId": client.id,
        "expectedCount": 5,
    }
    # The same reference for another client is another lot.
    other = await create_client(sessions)
    await lot_service.create_lot(
        sessions, client_id=other.id, reference="ASN-1001", expected_count=1, actor=clerk.actor
    )


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param({"reference": "ASN-1"}, ErrorCode.INVALID_INPUT, "reference", id="taken"),
        pytest.param({"reference": "  "}, ErrorCode.INVALID_INPUT, "reference", id="blank"),
        pytest.param({"reference": "R" * 101}, ErrorCode.INVALID_INPUT, "reference", id="long"),
        pytest.param({"expected_count": -1}, ErrorCode.INVALID_INPUT, "expectedCount", id="neg"),
        pytest.param({"client_id": 999_999}, ErrorCode.UNKNOWN_CLIENT, "clientId", id="client"),
    ],
)
async def test_create_lot_refusals(
    sessions: Sessions,
    client: Organization,
    clerk: Person,
    overrides: dict[str, Any],
    code: ErrorCode,
    field: str,
) -> None:
    await create_lot(sessions, client, reference="ASN-1")
    arguments: dict[str, Any] = {
        "client_id": client.id,
        "reference": "ASN-2",
        "expected_count": 3,
    }
    arguments.update(overrides)
    error = await refused(
        sessions, lot_service.create_lot(sessions, actor=clerk.actor, **arguments), code
    )
    assert error.facts["field"] == field


async def test_a_buyer_is_not_a_client_for_a_lot(sessions: Sessions, clerk: Person) -> None:
    buyer = await create_buyer(sessions)
    await refused(
        sessions,
        lot_service.create_lot(
            sessions, client_id=buyer.id, reference="X-1", expected_count=1, actor=clerk.actor
        ),
        ErrorCode.UNKNOWN_CLIENT,
    )


# --- Receive and reconcile -----------------------------------------------------------------


async def test_receive_four_of_five_then_reconcile(
    sessions: Sessions, client: Organization, clerk: Person
) -> None:
    lot = await create_lot(sessions, client, expected_count=5)
    start = await last_event_id(sessions)

    receipt = await lot_service.receive_lot(sessions, lot.id, items(4), actor=clerk.actor)

    assert receipt.lot.status is LotStatus.RECEIVING
    assert receipt.lot.version == lot.version + 1
    assert len(receipt.devices) == 4
    for device in receipt.devices:
        assert (device.lot_id, device.client_id, device.status) == (
            lot.id,
            client.id,
            DeviceStatus.RECEIVED,
        )
    assert await lot_counts(sessions, lot.id) == (4, 1, 0)

    events = await events_after(sessions, start)
    assert kinds(events) == [
        *(("device.received", "Device", device.id) for device in receipt.devices),
        ("lot.devices_received", "Lot", lot.id),
    ]
    assert events[-1].changes == {
        "status": "RECEIVING",
        "receivedCount": 4,
        "missingCount": 1,
        "extraCount": 0,
        "deviceIds": [device.id for device in receipt.devices],
    }
    assert events[-1].entity_version == receipt.lot.version

    middle = await last_event_id(sessions)
    reconciled = await lot_service.reconcile_lot(
        sessions, lot.id, actor=clerk.actor, expected_version=receipt.lot.version
    )
    assert reconciled.status is LotStatus.RECONCILED
    [event] = await events_after(sessions, middle)
    assert event.type == "lot.reconciled"
    assert event.changes == {
        "status": "RECONCILED",
        "expectedCount": 5,
        "receivedCount": 4,
        "missingCount": 1,
        "extraCount": 0,
    }

    closed = await lot_service.close_lot(sessions, lot.id, actor=clerk.actor)
    assert (closed.status, closed.version) == (LotStatus.CLOSED, reconciled.version + 1)


async def test_two_batches_beyond_the_expected_count_show_an_extra(
    sessions: Sessions, client: Organization, clerk: Person
) -> None:
    lot = await create_lot(sessions, client, expected_count=5)
    first = await lot_service.receive_lot(sessions, lot.id, items(4), actor=clerk.actor)
    start = await last_event_id(sessions)
    second = await lot_service.receive_lot(sessions, lot.id, items(2), actor=clerk.actor)

    assert second.lot.version == first.lot.version  # no status change: the lot row is as it was
    assert await lot_counts(sessions, lot.id) == (6, 0, 1)
    lot_event = (await events_after(sessions, start))[-1]
    assert lot_event.type == "lot.devices_received"
    assert "status" not in lot_event.changes
    assert (lot_event.changes["receivedCount"], lot_event.changes["extraCount"]) == (6, 1)


async def test_counts_come_from_the_device_rows(
    sessions: Sessions, client: Organization, clerk: Person
) -> None:
    """Rule 10: a device added to the lot any other way counts at once."""
    lot = await create_lot(sessions, client, expected_count=2)
    await lot_service.receive_lot(sessions, lot.id, items(1), actor=clerk.actor)
    await create_device(sessions, client, lot=lot)
    assert await lot_counts(sessions, lot.id) == (2, 0, 0)


async def test_a_batch_with_wrong_items_is_refused_whole_with_every_error(
    sessions: Sessions, client: Organization, clerk: Person
) -> None:
    existing = await create_device(sessions, client)
    lot = await create_lot(sessions, client, expected_count=10)
    batch = [
        *items(1),
        LotItem(make="Apple", model="iPhone 12", imei="490154203237519"),  # 1: check digit
        LotItem(make="Apple", model="iPhone 12", imei=make_imei(7_777), serial="SN-A"),
        LotItem(make="Apple", model="iPhone 12", serial="sn-a"),  # 3: same serial as 2
        LotItem(make="Apple", model="iPhone 12", imei=existing.imei),  # 4: already received
        LotItem(make=" ", model="iPhone 12", serial="SN-B"),  # 5: no make
        *items(1),
    ]
    error = await refused(
        sessions,
        lot_service.receive_lot(sessions, lot.id, batch, actor=clerk.actor),
        ErrorCode.INVALID_INPUT,
    )
    assert isinstance(error, BatchRefused)
    assert error.facts["field"] == "devices"
    summary = [(item.index, item.error.code, item.error.facts.get("field")) for item in error.items]
    assert summary == [
        (1, ErrorCode.INVALID_IMEI, "imei"),
        (3, ErrorCode.DUPLICATE_SERIAL, "serial"),
        (4, ErrorCode.DUPLICATE_IMEI, "imei"),
        (5, ErrorCode.INVALID_INPUT, "make"),
    ]
    assert error.items[1].error.facts["duplicate_of_index"] == 2
    assert error.items[2].error.facts["existing_id"] == existing.id
    assert (await reload(sessions, Lot, lot.id)).status is LotStatus.OPEN


@pytest.mark.parametrize("count", [0, lot_service.MAX_BATCH + 1])
async def test_batch_size_is_bounded(
    sessions: Sessions, client: Organization, clerk: Person, count: int
) -> None:
    lot = await create_lot(sessions, client)
    batch = [LotItem(make="A", model="B", serial=f"SN-{n:05d}") for n in range(count)]
    error = await refused(
        sessions,
        lot_service.receive_lot(sessions, lot.id, batch, actor=clerk.actor),
        ErrorCode.INVALID_INPUT,
    )
    assert error.facts["field"] == "devices"


async def test_receiving_into_an_unknown_lot_or_a_stale_version_is_refused(
    sessions: Sessions, client: Organization, clerk: Person
) -> None:
    lot = await create_lot(sessions, client)
    error = await refused(
        sessions,
        lot_service.receive_lot(sessions, 999_999, items(1), actor=clerk.actor),
        ErrorCode.NOT_FOUND,
    )
    assert error.facts["field"] == "lotId"
    error = await refused(
        sessions,
        lot_service.receive_lot(
            sessions, lot.id, items(1), actor=clerk.actor, expected_version=lot.version + 1
        ),
        ErrorCode.STALE,
    )
    assert error.facts["current_version"] == lot.version


# --- The status machine through the services -----------------------------------------------

LotAction = Callable[[Sessions, int, Actor], Awaitable[Any]]


async def _receive(sessions: Sessions, lot_id: int, actor: Actor) -> Any:
    return await lot_service.receive_lot(sessions, lot_id, items(1), actor=actor)


async def _reconcile(sessions: Sessions, lot_id: int, actor: Actor) -> Any:
    return await lot_service.reconcile_lot(sessions, lot_id, actor=actor)


async def _close(sessions: Sessions, lot_id: int, actor: Actor) -> Any:
    return await lot_service.close_lot(sessions, lot_id, actor=actor)


L = LotStatus
LOT_ACTIONS: dict[str, tuple[LotAction, dict[LotStatus, LotStatus]]] = {
    "receive": (_receive, {L.OPEN: L.RECEIVING, L.RECEIVING: L.RECEIVING}),
    "reconcile": (_reconcile, {L.RECEIVING: L.RECONCILED}),
    "close": (_close, {L.RECONCILED: L.CLOSED}),
}


@pytest.mark.parametrize("status", list(LotStatus), ids=lambda status: status.value)
@pytest.mark.parametrize("action", list(LOT_ACTIONS))
async def test_lot_action_matrix(
    sessions: Sessions, client: Organization, clerk: Person, action: str, status: LotStatus
) -> None:
    run, moves = LOT_ACTIONS[action]
    lot = await create_lot(sessions, client, status=status)
    if status not in moves:
        error = await refused(
            sessions, run(sessions, lot.id, clerk.actor), ErrorCode.INVALID_TRANSITION
        )
        assert error.facts == {"current_status": status.value, "current_version": lot.version}
        return
    start = await last_event_id(sessions)
    await run(sessions, lot.id, clerk.actor)
    assert (await reload(sessions, Lot, lot.id)).status is moves[status]
    events = await events_after(sessions, start)
    assert [event.entity_id for event in events if event.entity_type == "Lot"] == [lot.id]


@pytest.mark.parametrize("action", ["reconcile", "close"])
async def test_stale_lot_transitions_are_refused(
    sessions: Sessions, client: Organization, clerk: Person, action: str
) -> None:
    status = LotStatus.RECEIVING if action == "reconcile" else LotStatus.RECONCILED
    lot = await create_lot(sessions, client, status=status)
    move = lot_service.reconcile_lot if action == "reconcile" else lot_service.close_lot
    await refused(
        sessions,
        move(sessions, lot.id, actor=clerk.actor, expected_version=lot.version + 3),
        ErrorCode.STALE,
    )


# --- Idempotency ---------------------------------------------------------------------------


async def test_receive_lot_replays_with_its_key(
    sessions: Sessions, client: Organization, clerk: Person
) -> None:
    lot = await create_lot(sessions, client, expected_count=3)
    batch = items(3)
    first = await lot_service.receive_lot(
        sessions, lot.id, batch, actor=clerk.actor, idempotency_key="box-17"
    )
    before = await snapshot(sessions)

    again = await lot_service.receive_lot(
        sessions, lot.id, batch, actor=clerk.actor, idempotency_key="box-17"
    )
    assert [device.id for device in again.devices] == [device.id for device in first.devices]
    assert await snapshot(sessions) == before

    await refused(
        sessions,
        lot_service.receive_lot(
            sessions, lot.id, batch[:2], actor=clerk.actor, idempotency_key="box-17"
        ),
        ErrorCode.IDEMPOTENCY_CONFLICT,
    )
    # Another actor's key is another key: the batch is received again, and refused.
    other = await sign_in_as(sessions)
    error = await refused(
        sessions,
        lot_service.receive_lot(
            sessions, lot.id, batch, actor=other.actor, idempotency_key="box-17"
        ),
        ErrorCode.INVALID_INPUT,
    )
    assert isinstance(error, BatchRefused)
    assert [item.error.code for item in error.items] == [ErrorCode.DUPLICATE_IMEI] * 3


async def test_create_lot_replays_with_its_key(
    sessions: Sessions, client: Organization, clerk: Person
) -> None:
    async def create() -> Lot:
        return await lot_service.create_lot(
            sessions,
            client_id=client.id,
            reference="ASN-9",
            expected_count=2,
            actor=clerk.actor,
            idempotency_key="lot-9",
        )

    first = await create()
    before = await snapshot(sessions)
    assert (await create()).id == first.id
    assert await snapshot(sessions) == before


# --- Who sees which lot --------------------------------------------------------------------


async def test_lot_visibility(sessions: Sessions, client: Organization) -> None:
    other = await create_client(sessions)
    buyer = await create_buyer(sessions)
    mine = [await create_lot(sessions, client) for _ in range(2)]
    theirs = await create_lot(sessions, other)
    owner = party(OrganizationKind.CLIENT, client.id)

    async with sessions() as session:
        page = await lot_queries.list_lots(
            session, lot_queries.LotFilter(), actor=owner, after=None, limit=10
        )
        assert [lot.id for lot in page.rows] == [mine[1].id, mine[0].id]
        # A client asking for another client's lots gets none.
        page = await lot_queries.list_lots(
            session, lot_queries.LotFilter(client_id=other.id), actor=owner, after=None, limit=10
        )
        assert (page.rows, page.total) == ([], 0)
        assert await lot_queries.get_lot(session, theirs.id, actor=owner) is None
        assert (await lot_queries.get_lot(session, mine[0].id, actor=owner)) is not None

        operator = party(OrganizationKind.OPERATOR, 1, Role.VIEWER)
        page = await lot_queries.list_lots(
            session, lot_queries.LotFilter(), actor=operator, after=None, limit=10
        )
        assert page.total == 3

        for actor, code in [
            (party(OrganizationKind.BUYER, buyer.id, Role.BUYER), ErrorCode.FORBIDDEN),
            (ANONYMOUS, ErrorCode.UNAUTHENTICATED),
        ]:
            with pytest.raises(DomainError) as caught:
                await lot_queries.list_lots(
                    session, lot_queries.LotFilter(), actor=actor, after=None, limit=10
                )
            assert caught.value.code is code
            with pytest.raises(DomainError) as caught:
                await lot_queries.get_lot(session, mine[0].id, actor=actor)
            assert caught.value.code is code


async def test_lots_filter_sort_and_page(sessions: Sessions, client: Organization) -> None:
    other = await create_client(sessions)
    created = [
        await create_lot(sessions, client, reference=reference, status=status)
        for reference, status in [
            ("C-3", LotStatus.OPEN),
            ("A-1", LotStatus.RECEIVING),
            ("B-2", LotStatus.CLOSED),
        ]
    ]
    await create_lot(sessions, other, reference="A-0")
    operator = party(OrganizationKind.OPERATOR, 1, Role.WAREHOUSE)

    async def references(lot_filter: lot_queries.LotFilter, sort: lot_queries.LotSort) -> list[str]:
        seen: list[str] = []
        after = None
        async with sessions() as session:
            for _ in range(10):
                page = await lot_queries.list_lots(
                    session, lot_filter, actor=operator, after=after, limit=2, sort=sort
                )
                seen.extend(lot.reference for lot in page.rows)
                if not page.has_next:
                    return seen
                after = page.keys[-1]
        raise AssertionError("pagination did not end")

    mine = lot_queries.LotFilter(client_id=client.id)
    assert await references(mine, lot_queries.LotSort.REFERENCE) == ["A-1", "B-2", "C-3"]
    assert await references(mine, lot_queries.LotSort.OLDEST) == ["C-3", "A-1", "B-2"]
    assert await references(mine, lot_queries.LotSort.NEWEST) == ["B-2", "A-1", "C-3"]
    open_or_receiving = lot_queries.LotFilter(statuses=(LotStatus.OPEN, LotStatus.RECEIVING))
    assert await references(open_or_receiving, lot_queries.LotSort.REFERENCE) == [
        "A-0",
        "A-1",
        "C-3",
    ]
    assert len(created) == 3


async def test_received_devices_are_on_the_lot(
    sessions: Sessions, client: Organization, clerk: Person
) -> None:
    lot = await create_lot(sessions, client, expected_count=2)
    receipt = await lot_service.receive_lot(sessions, lot.id, items(2), actor=clerk.actor)
    async with sessions() as session:
        ids = list(await session.scalars(select(Device.id).where(Device.lot_id == lot.id)))
    assert sorted(ids) == sorted(device.id for device in receipt.devices)
