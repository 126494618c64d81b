"""Device look-ups on SQLite and PostgreSQL: filters, sort orders with keyset pages, and who
sees which device."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import ANONYMOUS, Actor, ActorKind, system
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import CosmeticGrade, DeviceStatus, OrganizationKind, Role
from app.models import Device
from app.services import devices as device_service
from app.services.devices import DeviceFilter, DeviceSort
from tests.support.auth import client_actor, operator
from tests.support.factories import create_buyer, create_client, create_lot, grade_device
from tests.support.warehouse import create_device

Sessions = async_sessionmaker[AsyncSession]
OPERATOR = operator(Role.VIEWER)


async def ids(
    sessions: Sessions,
    device_filter: DeviceFilter | None = None,
    *,
    actor: Actor = OPERATOR,
    sort: DeviceSort = DeviceSort.OLDEST,
    limit: int = 2,
) -> list[int]:
    """Every page, following the cursors, as one list of ids."""
    seen: list[int] = []
    after: list[Any] | None = None
    async with sessions() as session:
        for _ in range(20):
            page = await device_service.list_devices(
                session,
                device_filter or DeviceFilter(),
                after=after,
                limit=limit,
                sort=sort,
                actor=actor,
            )
            seen.extend(device.id for device in page.rows)
            if not page.has_next:
                return seen
            after = page.keys[-1]
    raise AssertionError("pagination did not end")


@pytest.fixture
async def catalogue(sessions: Sessions) -> dict[str, Any]:
    """Two clients' devices of several makes, models, sizes, statuses and grades."""
    acme, other = await create_client(sessions), await create_client(sessions)
    lot = await create_lot(sessions, acme, expected_count=2)
    specs = [
        (acme, "Samsung", "Galaxy S21", 128, DeviceStatus.RECEIVED, None, lot),
        (acme, "Apple", "iPhone 13", 256, DeviceStatus.GRADED, CosmeticGrade.A, lot),
        (acme, "Apple", "iPhone 12", 128, DeviceStatus.GRADED, CosmeticGrade.B, None),
        (other, "Google", "Pixel 7", 128, DeviceStatus.AVAILABLE, CosmeticGrade.A, None),
        (other, "apple", "iPhone 12", 64, DeviceStatus.QUARANTINED, CosmeticGrade.C, None),
    ]
    devices: list[Device] = []
    for owner, make, model, storage, status, grade, on_lot in specs:
        device = await create_device(
            sessions,
            owner,
            status=status,
            graded=False,
            lot=on_lot,
            make=make,
            model=model,
            storage_gb=storage,
        )
        if grade is not None:
            await grade_device(sessions, device.id, cosmetic=CosmeticGrade.D)
            await grade_device(sessions, device.id, cosmetic=grade)  # the newest counts
        devices.append(device)
    return {"acme": acme, "other": other, "lot": lot, "ids": [device.id for device in devices]}


async def test_filters(sessions: Sessions, catalogue: dict[str, Any]) -> None:
    d = catalogue["ids"]
    assert await ids(sessions) == d
    assert await ids(sessions, DeviceFilter(make=" APPLE ")) == [d[1], d[2], d[4]]
    assert await ids(sessions, DeviceFilter(model="iphone 12")) == [d[2], d[4]]
    assert await ids(sessions, DeviceFilter(storage_gb=128)) == [d[0], d[2], d[3]]
    assert await ids(sessions, DeviceFilter(statuses=(DeviceStatus.GRADED,))) == [d[1], d[2]]
    assert await ids(sessions, DeviceFilter(grades=(CosmeticGrade.A,))) == [d[1], d[3]]
    assert await ids(sessions, DeviceFilter(grades=(CosmeticGrade.D,))) == []  # not current
    assert await ids(sessions, DeviceFilter(client_id=catalogue["other"].id)) == [d[3], d[4]]
    assert await ids(sessions, DeviceFilter(lot_id=catalogue["lot"].id)) == [d[0], d[1]]
    assert await ids(sessions, DeviceFilter(search="pixel")) == [d[3]]
    assert await ids(
        sessions, DeviceFilter(make="apple", grades=(CosmeticGrade.B, CosmeticGrade.C))
    ) == [d[2], d[4]]


async def test_sort_orders(sessions: Sessions, catalogue: dict[str, Any]) -> None:
    d = catalogue["ids"]
    assert await ids(sessions, sort=DeviceSort.NEWEST) == list(reversed(d))
    # Make, then model, then intake order. Where "apple" goes is the collation's choice.
    by_make_model = await ids(sessions, sort=DeviceSort.MAKE_MODEL, limit=1)
    assert sorted(by_make_model) == sorted(d)
    assert [i for i in by_make_model if i != d[4]] == [d[2], d[1], d[3], d[0]]
    assert await ids(sessions, sort=DeviceSort.MAKE_MODEL, limit=10) == by_make_model


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        pytest.param(DeviceSort.MAKE_MODEL, ["Apple", 3], id="make-model-short"),
        pytest.param(DeviceSort.MAKE_MODEL, ["Apple", "iPhone", "3"], id="make-model-id"),
        pytest.param(DeviceSort.OLDEST, ["Apple", "iPhone", 3], id="oldest-long"),
        pytest.param(DeviceSort.NEWEST, ["yesterday", 3], id="newest-date"),
    ],
)
async def test_a_cursor_of_another_order_is_invalid_input(
    sessions: Sessions, catalogue: dict[str, Any], sort: DeviceSort, cursor: list[Any]
) -> None:
    async with sessions() as session:
        with pytest.raises(DomainError) as caught:
            await device_service.list_devices(
                session, DeviceFilter(), after=cursor, limit=5, sort=sort, actor=OPERATOR
            )
    assert caught.value.code is ErrorCode.INVALID_INPUT
    assert caught.value.facts["field"] == "after"


async def test_a_client_sees_only_its_own_devices(
    sessions: Sessions, catalogue: dict[str, Any]
) -> None:
    d = catalogue["ids"]
    acme = client_actor(catalogue["acme"].id)
    assert await ids(sessions, actor=acme) == d[:3]
    assert await ids(sessions, DeviceFilter(client_id=catalogue["other"].id), actor=acme) == []
    async with sessions() as session:
        assert await device_service.get_device(session, d[0], actor=acme) is not None
        assert await device_service.get_device(session, d[3], actor=acme) is None
        assert await device_service.get_device(session, d[3], actor=OPERATOR) is not None
        assert await device_service.get_device(session, 999_999, actor=OPERATOR) is None


async def test_buyers_and_nobody_see_no_device_list(
    sessions: Sessions, catalogue: dict[str, Any]
) -> None:
    buyer = await create_buyer(sessions)
    buyer_actor = Actor(
        ActorKind.USER,
        subject_id=3,
        organization_id=buyer.id,
        organization_kind=OrganizationKind.BUYER,
        role=Role.BUYER,
    )
    async with sessions() as session:
        for actor, code in [
            (buyer_actor, ErrorCode.FORBIDDEN),
            (ANONYMOUS, ErrorCode.UNAUTHENTICATED),
        ]:
            with pytest.raises(DomainError) as caught:
                await device_service.list_devices(
                    session, DeviceFilter(), after=None, limit=5, actor=actor
                )
            assert caught.value.code is code
        assert (
            await device_service.get_device(session, catalogue["ids"][3], actor=buyer_actor) is None
        )
        with pytest.raises(DomainError) as caught:
            await device_service.get_device(session, catalogue["ids"][3], actor=ANONYMOUS)
        assert caught.value.code is ErrorCode.UNAUTHENTICATED


async def test_the_system_and_callers_without_an_actor_see_everything(
    sessions: Sessions, catalogue: dict[str, Any]
) -> None:
    assert await ids(sessions, actor=system("test")) == catalogue["ids"]
    async with sessions() as session:
        page = await device_service.list_devices(session, DeviceFilter(), after=None, limit=50)
    assert page.total == len(catalogue["ids"])
