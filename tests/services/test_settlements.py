"""Settlements on SQLite and PostgreSQL: what generation picks, transitions, refusals, races."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.domain.money import commission_minor
from app.domain.statuses import (
    DeviceStatus,
    OrderStatus,
    SettlementStatus,
    ShipmentStatus,
)
from app.models import Organization, Settlement, SettlementLine
from app.services import settlement_queries
from app.services import settlements as service
from app.services.paging import Page
from tests.support.auth import buyer_actor, client_actor
from tests.support.markers import only
from tests.support.settlements import (
    ADMIN,
    FINANCE,
    NOBODY,
    SALES,
    WAREHOUSE,
    Sold,
    active_settlement_of,
    at,
    counts,
    create_buyer,
    create_client,
    day,
    deliver,
    deliver_one,
    events_of,
    lines_of,
    settlement_state,
)

Sessions = async_sessionmaker[AsyncSession]
MARCH_1, MARCH_31 = day(1), day(31)


@pytest.fixture
async def client(sessions: Sessions) -> Organization:
    return await create_client(sessions, commission_bps=1500, fee_per_device_minor=200)


@pytest.fixture
async def buyer(sessions: Sessions) -> Organization:
    return await create_buyer(sessions)


async def generate(
    sessions: Sessions,
    client: Organization,
    start: date = MARCH_1,
    end: date = MARCH_31,
    *,
    actor: Actor = FINANCE,
    key: str | None = None,
) -> Settlement:
    return await service.generate_settlement(
        sessions,
        client_id=client.id,
        period_start=start,
        period_end=end,
        actor=actor,
        idempotency_key=key,
    )


async def refused(call: Any, code: ErrorCode) -> DomainError:
    with pytest.raises(DomainError) as caught:
        await call
    assert caught.value.code is code, caught.value
    return caught.value


# --- What generation picks -----------------------------------------------------------------


async def test_generation_picks_exactly_the_clients_devices_delivered_in_the_period(
    sessions: Sessions, client: Organization, buyer: Organization
) -> None:
    other_client = await create_client(sessions)
    march_first = at(day(1), 0, 0)
    picked = [
        # Both ends of the period are included, to the microsecond, in UTC.
        await deliver_one(sessions, client, buyer, 10_000, delivered_at=march_first),
        await deliver_one(
            sessions,
            client,
            buyer,
            12_345,
            delivered_at=datetime(2024, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        ),
        # The order says DELIVERED though the device row was not moved on, and the reverse.
        await deliver_one(
            sessions,
            client,
            buyer,
            20_000,
            delivered_at=at(day(5)),
            device_status=DeviceStatus.SHIPPED,
        ),
        await deliver_one(
            sessions,
            client,
            buyer,
            30_000,
            delivered_at=at(day(6)),
            order_status=OrderStatus.SHIPPED,
        ),
        await deliver_one(
            sessions,
            client,
            buyer,
            40_000,
            delivered_at=at(day(7)),
            order_status=OrderStatus.COMPLETED,
        ),
    ]
    # A device whose first order was cancelled (line released) and which sold again.
    [resold_first] = await deliver(
        sessions,
        client,
        buyer,
        [5_000],
        delivered_at=None,
        device_status=DeviceStatus.AVAILABLE,
        order_status=OrderStatus.CANCELLED,
        shipment_status=ShipmentStatus.LABEL_CREATED,
        released=True,
    )
    [resold] = await deliver(
        sessions,
        client,
        buyer,
        [9_000],
        delivered_at=at(day(8)),
        device_ids=[resold_first.device_id],
    )
    picked.append(resold)
    # Near misses: none of these may be settled.
    missed = [
        await deliver_one(
            sessions, client, buyer, delivered_at=march_first - timedelta(microseconds=1)
        ),
        await deliver_one(sessions, client, buyer, delivered_at=at(day(32), 0, 0)),
        await deliver_one(sessions, other_client, buyer, delivered_at=at(day(3))),
        await deliver_one(
            sessions,
            client,
            buyer,
            delivered_at=None,
            device_status=DeviceStatus.SHIPPED,
            order_status=OrderStatus.SHIPPED,
            shipment_status=ShipmentStatus.IN_TRANSIT,
        ),
        await deliver_one(
            sessions,
            client,
            buyer,
            delivered_at=at(day(4)),
            device_status=DeviceStatus.SHIPPED,
            order_status=OrderStatus.SHIPPED,
        ),
        await deliver_one(sessions, client, buyer, delivered_at=at(day(9)), released=True),
    ]
    already = await deliver_one(sessions, client, buyer, 7_000, delivered_at=at(day(10)))
    earlier = await generate(sessions, client, day(10), day(10))
    assert [line.device_id for line in await lines_of(sessions, earlier.id)] == [already.device_id]

    settlement = await generate(sessions, client)

    assert settlement.status is SettlementStatus.DRAFT
    assert (settlement.client_id, settlement.currency) == (client.id, "EUR")
    assert (settlement.period_start, settlement.period_end) == (day(1), day(31))
    assert settlement.version == 1
    lines = await lines_of(sessions, settlement.id)
    assert sorted((line.device_id, line.order_line_id) for line in lines) == sorted(
        (sold.device_id, sold.order_line_id) for sold in picked
    )
    for line in lines:
        assert line.commission_minor == commission_minor(line.gross_minor, 1500)
        assert line.fees_minor == 200
        assert line.net_minor == line.gross_minor - line.commission_minor - 200
        assert line.released is False
    by_device = {line.device_id: line for line in lines}
    assert by_device[picked[1].device_id].commission_minor == 1852  # 1851.75 rounds up
    assert by_device[resold.device_id].gross_minor == 9_000  # the active line's price
    held = await active_settlement_of(sessions, [sold.device_id for sold in missed])
    assert held == {sold.device_id: [] for sold in missed}


async def test_generated_event_carries_totals_for_operator_and_client(
    sessions: Sessions, client: Organization, buyer: Organization
) -> None:
    sold = await deliver(sessions, client, buyer, [10_000, 12_345], delivered_at=at(day(2)))
    settlement = await generate(sessions, client)

    [event] = await events_of(sessions, settlement.id)
    assert event.type == "settlement.generated"
    assert event.entity_version == settlement.version
    assert event.actor == FINANCE.ref
    assert event.audiences == ["client:" + str(client.id), "operator"]
    assert event.changes == {
        "status": "DRAFT",
        "clientId": client.id,
        "periodStart": "2024-03-01",
        "periodEnd": "2024-03-31",
        "deviceIds": [s.device_id for s in sold],
        "grossMinor": 22_345,
        "commissionMinor": 1500 + 1852,
        "feesMinor": 400,
        "netMinor": 22_345 - 3352 - 400,
        "lineCount": 2,
        "currency": "EUR",
    }


async def test_a_negative_net_is_settled_as_owed_by_the_client(
    sessions: Sessions, buyer: Organization
) -> None:
    client = await create_client(sessions, commission_bps=1500, fee_per_device_minor=500)
    await deliver(sessions, client, buyer, [100, 10_000], delivered_at=at(day(3)))
    settlement = await generate(sessions, client)
    lines = await lines_of(sessions, settlement.id)
    assert [(line.commission_minor, line.net_minor) for line in lines] == [(15, -415), (1500, 8000)]
    [event] = await events_of(sessions, settlement.id)
    assert event.changes["netMinor"] == 7585


# --- Refused generations write nothing -----------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        pytest.param(SALES, ErrorCode.FORBIDDEN, id="sales"),
        pytest.param(WAREHOUSE, ErrorCode.FORBIDDEN, id="warehouse"),
        pytest.param(NOBODY, ErrorCode.UNAUTHENTICATED, id="anonymous"),
        pytest.param("client", ErrorCode.FORBIDDEN, id="client"),
        pytest.param("buyer", ErrorCode.FORBIDDEN, id="buyer"),
    ],
)
async def test_only_finance_and_admin_generate(
    sessions: Sessions,
    client: Organization,
    buyer: Organization,
    actor: Actor | str,
    code: ErrorCode,
) -> None:
    await deliver_one(sessions, client, buyer, delivered_at=at(day(2)))
    who = {"client": client_actor(client.id), "buyer": buyer_actor(buyer)}.get(str(actor), actor)
    assert isinstance(who, Actor)
    before = await counts(sessions)
    await refused(generate(sessions, client, actor=who), code)
    assert await counts(sessions) == before
    assert (await generate(sessions, client, actor=ADMIN)).status is SettlementStatus.DRAFT


async def test_refused_generations(
    sessions: Sessions, client: Organization, buyer: Organization
) -> None:
    await deliver_one(sessions, client, buyer, delivered_at=at(day(2)))
    no_terms = await create_client(sessions, commission_bps=None, fee_per_device_minor=None)
    await deliver_one(sessions, no_terms, buyer, delivered_at=at(day(2)))
    dollar_sales = await create_client(sessions)
    await deliver_one(sessions, dollar_sales, buyer, delivered_at=at(day(2)), currency="USD")
    before = await counts(sessions)

    error = await refused(generate(sessions, client, day(5), day(4)), ErrorCode.INVALID_INPUT)
    assert error.facts["field"] == "periodEnd"
    error = await refused(generate(sessions, client, day(3), day(31)), ErrorCode.INVALID_INPUT)
    assert "Nothing to settle" in error.message
    error = await refused(generate(sessions, buyer), ErrorCode.UNKNOWN_CLIENT)
    assert error.facts["field"] == "clientId"
    missing = Organization(id=10**6, name="x", kind=client.kind, currency="EUR")
    await refused(generate(sessions, missing), ErrorCode.UNKNOWN_CLIENT)
    error = await refused(generate(sessions, no_terms), ErrorCode.INVALID_INPUT)
    assert error.facts["field"] == "clientId"
    error = await refused(generate(sessions, dollar_sales), ErrorCode.INVALID_INPUT)
    assert "USD" in error.message
    await refused(generate(sessions, client, key=""), ErrorCode.INVALID_INPUT)

    assert await counts(sessions) == before


async def test_nothing_left_to_settle_after_a_generation(
    sessions: Sessions, client: Organization, buyer: Organization
) -> None:
    await deliver(sessions, client, buyer, [10_000, 20_000], delivered_at=at(day(2)))
    await generate(sessions, client)
    before = await counts(sessions)
    await refused(generate(sessions, client), ErrorCode.INVALID_INPUT)
    assert await counts(sessions) == before


# --- Idempotency ---------------------------------------------------------------------------


async def test_generate_with_a_key_is_done_once(
    sessions: Sessions, client: Organization, buyer: Organization
) -> None:
    await deliver_one(sessions, client, buyer, delivered_at=at(day(2)))
    first = await generate(sessions, client, key="march-run")
    after_first = await counts(sessions)
    await deliver_one(sessions, client, buyer, delivered_at=at(day(3)))

    again = await generate(sessions, client, key="march-run")

    assert again.id == first.id
    assert await counts(sessions) == after_first
    error = await refused(
        generate(sessions, client, day(1), day(30), key="march-run"),
        ErrorCode.IDEMPOTENCY_CONFLICT,
    )
    assert error.facts["field"] == "idempotencyKey"
    assert await counts(sessions) == after_first
    # Another caller's key is its own: ADMIN with the same key does the work.
    other = await generate(sessions, client, actor=ADMIN, key="march-run")
    assert other.id != first.id


async def test_a_repeated_approve_with_a_key_returns_the_first_result(
    sessions: Sessions, client: Organization, buyer: Organization
) -> None:
    await deliver_one(sessions, client, buyer, delivered_at=at(day(2)))
    settlement = await generate(sessions, client)
    approved = await service.approve_settlement(
        sessions, settlement.id, actor=FINANCE, idempotency_key="a1"
    )
    before = await counts(sessions)
    repeated = await service.approve_settlement(
        sessions, settlement.id, actor=FINANCE, idempotency_key="a1"
    )
    assert (repeated.id, repeated.status, repeated.version) == (approved.id, "APPROVED", 2)
    assert await counts(sessions) == before


# --- Approve, pay, void --------------------------------------------------------------------

MOVES = {
    SettlementStatus.APPROVED: (service.approve_settlement, "settlement.approved"),
    SettlementStatus.PAID: (service.pay_settlement, "settlement.paid"),
    SettlementStatus.VOID: (service.void_settlement, "settlement.voided"),
}
PATHS = {
    SettlementStatus.DRAFT: [],
    SettlementStatus.APPROVED: [SettlementStatus.APPROVED],
    SettlementStatus.PAID: [SettlementStatus.APPROVED, SettlementStatus.PAID],
    SettlementStatus.VOID: [SettlementStatus.VOID],
}
ALLOWED = {
    (SettlementStatus.DRAFT, SettlementStatus.APPROVED),
    (SettlementStatus.APPROVED, SettlementStatus.PAID),
    (SettlementStatus.DRAFT, SettlementStatus.VOID),
    (SettlementStatus.APPROVED, SettlementStatus.VOID),
}
PAIRS = [(current, target) for current in PATHS for target in MOVES]


async def settlement_in(
    sessions: Sessions, client: Organization, buyer: Organization, status: SettlementStatus
) -> tuple[Settlement, list[Sold]]:
    sold = await deliver(sessions, client, buyer, [10_000, 25_000], delivered_at=at(day(2)))
    settlement = await generate(sessions, client)
    for step in PATHS[status]:
        settlement = await MOVES[step][0](sessions, settlement.id, actor=FINANCE)
    assert settlement.status is status
    return settlement, sold


@pytest.mark.parametrize(
    ("current", "target"),
    [pair for pair in PAIRS if pair in ALLOWED],
    ids=[f"{c.value}->{t.value}" for c, t in PAIRS if (c, t) in ALLOWED],
)
async def test_allowed_moves(
    sessions: Sessions,
    client: Organization,
    buyer: Organization,
    current: SettlementStatus,
    target: SettlementStatus,
) -> None:
    settlement, sold = await settlement_in(sessions, client, buyer, current)
    move, event_type = MOVES[target]

    moved = await move(sessions, settlement.id, actor=FINANCE, expected_version=settlement.version)

    assert (moved.status, moved.version) == (target, settlement.version + 1)
    event = (await events_of(sessions, settlement.id))[-1]
    assert (event.type, event.entity_version) == (event_type, moved.version)
    assert event.audiences == [f"client:{client.id}", "operator"]
    assert event.changes["status"] == target.value
    assert (event.changes["grossMinor"], event.changes["netMinor"]) == (35_000, 35_000 - 5250 - 400)
    lines = await lines_of(sessions, settlement.id)
    assert [line.released for line in lines] == [target is SettlementStatus.VOID] * 2
    held = await active_settlement_of(sessions, [s.device_id for s in sold])
    expected = [] if target is SettlementStatus.VOID else [settlement.id]
    assert held == {s.device_id: expected for s in sold}


@pytest.mark.parametrize(
    ("current", "target"),
    [pair for pair in PAIRS if pair not in ALLOWED],
    ids=[f"{c.value}->{t.value}" for c, t in PAIRS if (c, t) not in ALLOWED],
)
async def test_refused_moves(
    sessions: Sessions,
    client: Organization,
    buyer: Organization,
    current: SettlementStatus,
    target: SettlementStatus,
) -> None:
    settlement, _ = await settlement_in(sessions, client, buyer, current)
    before = await counts(sessions)

    error = await refused(
        MOVES[target][0](sessions, settlement.id, actor=FINANCE), ErrorCode.INVALID_TRANSITION
    )

    assert error.facts == {"current_status": current.value, "current_version": settlement.version}
    assert await counts(sessions) == before
    assert await settlement_state(sessions, settlement.id) == (current.value, settlement.version)


async def test_void_releases_devices_for_a_new_generation(
    sessions: Sessions, client: Organization, buyer: Organization
) -> None:
    settlement, sold = await settlement_in(sessions, client, buyer, SettlementStatus.APPROVED)
    voided = await service.void_settlement(sessions, settlement.id, actor=FINANCE)
    [*_, event] = await events_of(sessions, settlement.id)
    assert event.changes["releasedDeviceIds"] == [s.device_id for s in sold]

    again = await generate(sessions, client)

    assert again.id != voided.id
    held = await active_settlement_of(sessions, [s.device_id for s in sold])
    assert held == {s.device_id: [again.id] for s in sold}
    assert len(await lines_of(sessions, voided.id)) == 2  # the voided one keeps its history


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        pytest.param({"actor": SALES}, ErrorCode.FORBIDDEN, id="sales"),
        pytest.param({"actor": NOBODY}, ErrorCode.UNAUTHENTICATED, id="anonymous"),
        pytest.param({"settlement_id": 10**6}, ErrorCode.NOT_FOUND, id="missing"),
    ],
)
@pytest.mark.parametrize("target", list(MOVES), ids=[t.value for t in MOVES])
async def test_refused_actions_write_nothing(
    sessions: Sessions,
    client: Organization,
    buyer: Organization,
    target: SettlementStatus,
    kwargs: dict[str, Any],
    code: ErrorCode,
) -> None:
    start = SettlementStatus.APPROVED if target is SettlementStatus.PAID else SettlementStatus.DRAFT
    settlement, _ = await settlement_in(sessions, client, buyer, start)
    before = await counts(sessions)
    call = {"settlement_id": settlement.id, "actor": FINANCE, **kwargs}

    error = await refused(MOVES[target][0](sessions, call.pop("settlement_id"), **call), code)

    if code is ErrorCode.STALE:
        assert error.facts == {"current_version": settlement.version}
    assert await counts(sessions) == before
    assert await settlement_state(sessions, settlement.id) == (start.value, settlement.version)


# --- Reading and visibility ----------------------------------------------------------------


async def test_visibility(sessions: Sessions, client: Organization, buyer: Organization) -> None:
    other = await create_client(sessions)
    await deliver_one(sessions, client, buyer, delivered_at=at(day(2)))
    await deliver_one(sessions, other, buyer, delivered_at=at(day(2)))
    mine = await generate(sessions, client)
    theirs = await generate(sessions, other)

    async with sessions() as session:
        assert (
            await settlement_queries.get_settlement(session, mine.id, actor=WAREHOUSE)
        ) is not None
        seen = await settlement_queries.get_settlement(
            session, mine.id, actor=client_actor(client.id)
        )
        assert seen is not None
        assert seen.id == mine.id
        assert (
            await settlement_queries.get_settlement(
                session, theirs.id, actor=client_actor(client.id)
            )
            is None
        )
        assert await settlement_queries.get_settlement(session, 10**6, actor=FINANCE) is None

        async def ids(actor: Actor, **filters: Any) -> list[int]:
            page: Page[Settlement] = await settlement_queries.list_settlements(
                session,
                settlement_queries.SettlementFilter(**filters),
                actor=actor,
                after=None,
                limit=10,
            )
            assert page.total == len(page.rows)
            return [row.id for row in page.rows]

        assert await ids(FINANCE) == [theirs.id, mine.id]
        assert await ids(FINANCE, client_id=client.id) == [mine.id]
        assert await ids(FINANCE, statuses=(SettlementStatus.PAID,)) == []
        assert await ids(client_actor(client.id)) == [mine.id]
        assert await ids(client_actor(client.id), client_id=other.id) == []
        for actor, code in (
            (buyer_actor(buyer), ErrorCode.FORBIDDEN),
            (NOBODY, ErrorCode.UNAUTHENTICATED),
        ):
            await refused(settlement_queries.get_settlement(session, mine.id, actor=actor), code)
            await refused(ids(actor), code)


# --- Each device settled at most once, whatever the interleaving ----------------------------


async def test_the_database_refuses_a_second_active_line(
    sessions: Sessions, client: Organization, buyer: Organization
) -> None:
    settlement, [sold, _] = await settlement_in(sessions, client, buyer, SettlementStatus.DRAFT)
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(
                SettlementLine(
                    settlement_id=settlement.id,
                    device_id=sold.device_id,
                    order_line_id=sold.order_line_id,
                    gross_minor=1,
                    commission_minor=0,
                    fees_minor=0,
                    net_minor=1,
                    released=False,
                )
            )


@only("postgresql")
async def test_concurrent_generations_settle_each_device_once(
    sessions: Sessions, client: Organization, buyer: Organization
) -> None:
    sold = [
        *await deliver(sessions, client, buyer, [1_000, 2_000], delivered_at=at(day(2))),
        *await deliver(sessions, client, buyer, [3_000, 4_000], delivered_at=at(day(5))),
        *await deliver(sessions, client, buyer, [5_000], delivered_at=at(day(9))),
    ]
    for _round in range(3):
        results = await asyncio.gather(
            generate(sessions, client, day(1), day(6)),
            generate(sessions, client, day(4), day(10)),
            return_exceptions=True,
        )
        made = [result for result in results if isinstance(result, Settlement)]
        errors = [result for result in results if not isinstance(result, Settlement)]
        assert made, results
        assert all(
            isinstance(error, DomainError) and error.code is ErrorCode.INVALID_INPUT
            for error in errors
        ), errors
        held = await active_settlement_of(sessions, [s.device_id for s in sold])
        assert all(len(owners) == 1 for owners in held.values()), held
        assert {owner for [owner] in held.values()} == {s.id for s in made}
        for settlement in made:
            await service.void_settlement(sessions, settlement.id, actor=FINANCE)


@only("postgresql")
async def test_without_the_client_lock_the_index_decides(
    sessions: Sessions,
    client: Organization,
    buyer: Organization,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both generations read the same devices; the unique index lets exactly one write."""
    sold = await deliver(sessions, client, buyer, [1_000, 2_000], delivered_at=at(day(2)))
    barrier = asyncio.Barrier(2)
    settleable = service._settleable

    async def unlocked(session: AsyncSession, client_id: int) -> Any:
        found = await session.get_one(Organization, client_id)  # read, no row lock
        return service._Terms(found, found.commission_bps or 0, found.fee_per_device_minor or 0)

    async def in_step(*args: Any) -> Any:
        found = await settleable(*args)
        await barrier.wait()
        return found

    monkeypatch.setattr(service, "_lock_client", unlocked)
    monkeypatch.setattr(service, "_settleable", in_step)
    before = await counts(sessions)

    results = await asyncio.gather(
        generate(sessions, client), generate(sessions, client), return_exceptions=True
    )

    made = [result for result in results if isinstance(result, Settlement)]
    errors = [result for result in results if isinstance(result, DomainError)]
    assert (len(made), len(errors)) == (1, 1), results
    assert errors[0].code is ErrorCode.NOT_AVAILABLE
    held = await active_settlement_of(sessions, [s.device_id for s in sold])
    assert held == {s.device_id: [made[0].id] for s in sold}
    after = await counts(sessions)
    assert (after.settlements, after.lines, after.events) == (
        before.settlements + 1,
        before.lines + 2,
        before.events + 1,
    )


# --- Property: random generate / void / approve / pay sequences ------------------------------

STEP = st.one_of(
    st.tuples(st.just("generate"), st.integers(1, 10), st.integers(0, 6)),
    st.tuples(st.just("void"), st.integers(0, 5), st.just(0)),
    st.tuples(st.just("approve"), st.integers(0, 5), st.just(0)),
    st.tuples(st.just("pay"), st.integers(0, 5), st.just(0)),
)


@settings(
    max_examples=20,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    deliveries=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    prices=st.lists(st.integers(1, 10**9), min_size=6, max_size=6),
    steps=st.lists(STEP, min_size=1, max_size=6),
)
async def test_random_sequences_never_settle_a_device_twice(
    sessions: Sessions, deliveries: list[int], prices: list[int], steps: list[tuple[str, int, int]]
) -> None:
    client = await create_client(sessions, commission_bps=1234, fee_per_device_minor=321)
    buyer = await create_buyer(sessions)
    delivered_on: dict[int, int] = {}
    for n, delivery_day in enumerate(deliveries):
        sold = await deliver_one(
            sessions, client, buyer, prices[n], delivered_at=at(day(delivery_day))
        )
        delivered_on[sold.device_id] = delivery_day
    model: dict[int, int] = {}  # device -> the settlement whose active line holds it
    made: list[Settlement] = []

    for action, first, length in steps:
        if action == "generate":
            expected = {
                device for device, d in delivered_on.items() if first <= d <= first + length
            } - set(model)
            call = generate(sessions, client, day(first), day(first + length))
            if not expected:
                await refused(call, ErrorCode.INVALID_INPUT)
                continue
            settlement = await call
            made.append(settlement)
            model.update(dict.fromkeys(expected, settlement.id))
        elif made:
            settlement = made[first % len(made)]
            status, version = await settlement_state(sessions, settlement.id)
            target = {"void": "VOID", "approve": "APPROVED", "pay": "PAID"}[action]
            move = MOVES[SettlementStatus(target)][0]
            if (SettlementStatus(status), SettlementStatus(target)) in ALLOWED:
                await move(sessions, settlement.id, actor=FINANCE, expected_version=version)
                if target == "VOID":
                    model = {d: s for d, s in model.items() if s != settlement.id}
            else:
                await refused(
                    move(sessions, settlement.id, actor=FINANCE), ErrorCode.INVALID_TRANSITION
                )

        held = await active_settlement_of(sessions, list(delivered_on))
        assert {d: owners for d, owners in held.items() if owners} == {
            d: [s] for d, s in model.items()
        }
        for settlement in made:
            lines = await lines_of(sessions, settlement.id)
            status, _ = await settlement_state(sessions, settlement.id)
            assert all(line.released is (status == "VOID") for line in lines)
            for line in lines:
                assert line.commission_minor == commission_minor(line.gross_minor, 1234)
                assert line.net_minor == line.gross_minor - line.commission_minor - 321
            events = await events_of(sessions, settlement.id)
            assert events[-1].changes["netMinor"] == sum(line.net_minor for line in lines)
            assert events[-1].changes["grossMinor"] == sum(line.gross_minor for line in lines)
            assert events[-1].changes["lineCount"] == len(lines)
