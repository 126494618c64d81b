"""Live delivery through faults: kill -9 of an app process, a Redis restart, a PostgreSQL restart.

Two app processes (real OS processes) share a private PostgreSQL cluster (and a private Redis),
so the faults never touch the shared servers. Four writers commit ``receiveDevice`` through the
API, about 30 commits a second in all, before, during and after each fault. Two operators'
subscribers per process follow the ``events`` subscription from the log's head at the start;
whenever a socket closes or a stream ends they reconnect to a process that is up and resume
with ``after`` set to their last cursor.

At the end each subscriber's sequence must be exactly the log (every committed event once, in
log order): each scenario prints ``committed= delivered= lost= duplicated=`` and asserts
lost == 0, duplicated == 0 and the same order. /readyz is polled throughout and must report
each outage while it lasts, and readiness once it is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.relay import GlobalID

from app.db import create_engine, create_session_factory
from app.domain.statuses import OrganizationKind, Role
from app.pubsub.cursors import Cursor
from app.pubsub.log import EventLog, EventRecord
from app.settings import Settings
from tests.faults.harness import (
    AppProcess,
    Cluster,
    ReadyWatcher,
    Subscriber,
    Writer,
    app_env,
    tally,
    until,
)
from tests.support.auth import create_person, sign_in_as
from tests.support.databases import asyncpg_dsn, require_service
from tests.support.factories import create_organization
from tests.support.services import (
    PG_BIN,
    PrivatePostgres,
    PrivateRedis,
    postgres_available,
    private_postgres,
    private_redis,
    redis_available,
)

WRITERS = 4
WRITE_INTERVAL = 0.12  # per writer: about 30 commits a second in all
SUBSCRIBERS_PER_PROCESS = 2
BEFORE_AND_AFTER = 1.5  # seconds of writing before each fault and after the recovery
OUTAGE = 2.5  # seconds each outage lasts, at least


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    require_service(postgres_available() is None, "PostgreSQL 15 (private cluster)", str(PG_BIN))
    with private_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def redis() -> Iterator[PrivateRedis]:
    require_service(redis_available() is None, "redis-server (private)", "PATH")
    with private_redis() as server:
        yield server


@pytest.fixture
async def engine(postgres: PrivatePostgres) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=postgres.database_url))
    try:
        yield engine
    finally:
        await engine.dispose()


@dataclass
class Live:
    cluster: Cluster
    writers: list[Writer]
    subscribers: list[Subscriber]
    watcher: ReadyWatcher
    event_log: EventLog
    start: Cursor
    stop_writing: asyncio.Event
    writing: list[asyncio.Task[None]]

    def received(self) -> int:
        return min(len(subscriber.received) for subscriber in self.subscribers)

    def failed_writes(self) -> int:
        return sum(writer.failed for writer in self.writers)

    async def committed(self) -> list[EventRecord]:
        """The log after ``start``, read as the tail reads it, once nothing is held back."""
        records: list[EventRecord] = []
        after = self.start
        deadline = time.monotonic() + 10
        while True:
            page = await self.event_log.read(after, 1000)
            records.extend(page.records)
            if not page.has_more and not page.held_back:
                return records
            assert time.monotonic() < deadline, "events held back for 10 s"
            if page.records:
                after = page.records[-1].cursor
            else:
                await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def live(
    engine: AsyncEngine, database_url: str, broadcast_url: str, logdir: Path
) -> AsyncIterator[Live]:
    """Two app processes, writers committing, subscribers following; stopped at the end."""
    sessions = create_session_factory(engine)
    operator = await sign_in_as(sessions, Role.ADMIN)
    warehouse = [
        await create_person(sessions, operator.organization, Role.WAREHOUSE) for _ in range(WRITERS)
    ]
    client = await create_organization(sessions, kind=OrganizationKind.CLIENT)
    event_log = EventLog(engine)
    start = await event_log.head()

    env = app_env(database_url, broadcast_url)
    cluster = Cluster([AppProcess(name, env, logdir) for name in ("one", "two")])
    await asyncio.gather(*(asyncio.to_thread(process.start) for process in cluster.processes))
    watcher = ReadyWatcher(cluster)
    subscribers = [
        Subscriber(f"{process.name}-{n}", operator.token, cluster, process, start.encode())
        for process in cluster.processes
        for n in range(SUBSCRIBERS_PER_PROCESS)
    ]
    client_id = str(GlobalID("Organization", str(client.id)))
    writers = [
        Writer(f"w{n}", person.token, client_id, cluster, WRITE_INTERVAL)
        for n, person in enumerate(warehouse)
    ]
    stop_writing = asyncio.Event()
    tasks = [asyncio.create_task(watcher.run())]
    try:
        await watcher.wait_ready(cluster.processes)
        tasks += [asyncio.create_task(s.run()) for s in subscribers]
        writing = [asyncio.create_task(w.run(stop_writing)) for w in writers]
        tasks += writing
        yield Live(cluster, writers, subscribers, watcher, event_log, start, stop_writing, writing)
    finally:
        stop_writing.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for process in cluster.processes:
            await asyncio.to_thread(process.stop)


async def finish(world: Live, scenario: str, *, settle: float = 0.5) -> None:
    """Stop writing, wait for every subscriber to reach the log's end, compare, print."""
    world.stop_writing.set()
    await asyncio.gather(*world.writing)  # the calls in flight end, answered or not
    committed = await world.committed()
    cursors = [record.cursor.encode() for record in committed]
    assert cursors, "nothing was committed"
    try:
        for _ in range(3):  # again if a call the writer gave up on committed meanwhile
            last = cursors[-1]
            await until(
                lambda: all(last in s.received for s in world.subscribers),  # noqa: B023
                wait=20,
                what="every subscriber at the end of the log",
            )
            await asyncio.sleep(settle)  # a repeat would arrive now
            committed = await world.committed()
            if len(committed) == len(cursors):
                break
            cursors = [record.cursor.encode() for record in committed]
    finally:
        report(world, scenario, cursors)

    acknowledged = {
        int(GlobalID.from_id(device).node_id) for w in world.writers for device in w.acknowledged
    }
    received_devices = {r.entity_id for r in committed if r.type == "device.received"}
    assert acknowledged <= received_devices, "a commit the API acknowledged is not in the log"
    for subscriber in world.subscribers:
        result = tally(cursors, subscriber.received)
        assert (result.lost, result.duplicated) == (0, 0), (subscriber.name, result)
        assert result.in_order, f"{subscriber.name} received the events out of order"


def report(world: Live, scenario: str, cursors: list[str]) -> None:
    results = [tally(cursors, s.received) for s in world.subscribers]
    acknowledged = sum(len(w.acknowledged) for w in world.writers)
    errors = sum((w.errors for w in world.writers), start=Counter[str]())
    print(
        f"\n[{scenario}] committed={len(cursors)} subscribers={len(results)} "
        f"delivered={sum(r.delivered for r in results)} "
        f"lost={sum(r.lost for r in results)} duplicated={sum(r.duplicated for r in results)} "
        f"in_order={all(r.in_order for r in results)} "
        f"acknowledged={acknowledged} failed_writes={world.failed_writes()}"
    )
    for subscriber, result in zip(world.subscribers, results, strict=True):
        print(
            f"  {subscriber.name}: delivered={result.delivered} lost={result.lost} "
            f"duplicated={result.duplicated} connections={'>'.join(subscriber.connections)} "
            f"interruptions={dict(subscriber.interruptions)}"
        )
    if errors:
        print(f"  write errors: {dict(errors.most_common(4))}")
    for phase in ("before", "outage", "after"):
        print(f"  {world.watcher.summary(phase)}")


async def writing(world: Live, seconds: float) -> None:
    """Let the writers commit for ``seconds``, and until some commits got through."""

    def acknowledged() -> int:
        return sum(len(w.acknowledged) for w in world.writers)

    before = acknowledged()
    await asyncio.sleep(seconds)
    try:
        await until(lambda: acknowledged() > before + 5, wait=10, what="writes to get through")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {[dict(w.errors) for w in world.writers]}") from None


async def test_kill_9_of_one_of_two_processes(
    postgres: PrivatePostgres, engine: AsyncEngine, tmp_path: Path
) -> None:
    broadcast = asyncpg_dsn(postgres.database_url)
    async with live(engine, postgres.database_url, broadcast, tmp_path) as world:
        victim, survivor = world.cluster.processes
        await writing(world, BEFORE_AND_AFTER)

        world.watcher.phase = "outage"
        victim.kill()
        await writing(world, OUTAGE)
        world.watcher.phase = "after"
        await finish(world, "kill -9 one of two processes (postgres broadcast)")

    outage = world.watcher.during("outage", victim)
    assert outage, "/readyz was not polled during the outage"
    assert all(sample.status is None for sample in outage), outage[:3]
    assert all(s.status == 200 for s in world.watcher.samples if s.process == survivor.name)
    for subscriber in world.subscribers:
        assert subscriber.connections[-1] == survivor.name, subscriber.connections
        if subscriber.home is victim:
            assert len(subscriber.connections) >= 2, "did not resume on the other process"


async def test_redis_restart(
    postgres: PrivatePostgres, redis: PrivateRedis, engine: AsyncEngine, tmp_path: Path
) -> None:
    async with live(engine, postgres.database_url, redis.url, tmp_path) as world:
        processes = world.cluster.processes
        await writing(world, BEFORE_AND_AFTER)

        world.watcher.phase = "outage"
        await asyncio.to_thread(redis.stop)
        started = time.monotonic()
        await until(
            lambda: all(
                any("broadcast" in s.failing() for s in world.watcher.during("outage", p))
                for p in processes
            ),
            wait=10,
            what="/readyz to report the broadcast down",
        )
        # Delivery goes on without hints (the tails poll): every subscriber gets more.
        received = world.received()
        await writing(world, max(1.0, OUTAGE - (time.monotonic() - started)))
        await until(lambda: world.received() > received + 10, wait=5, what="delivery to go on")
        await asyncio.to_thread(redis.start)
        down = time.monotonic() - started
        world.watcher.phase = "after"
        await world.watcher.wait_ready(processes)
        ready = time.monotonic() - started - down
        await writing(world, BEFORE_AND_AFTER)
        await finish(world, "restart Redis (redis broadcast)")
        print(f"  Redis down {down:.1f} s; every process ready again {ready:.1f} s after")

    for process in processes:
        outage = world.watcher.during("outage", process)
        assert any(s.status == 503 and s.failing() == {"broadcast"} for s in outage), outage
        assert world.watcher.during("after", process)[-1].status == 200


@pytest.mark.parametrize(
    "shutdown",
    [
        pytest.param("fast", id="restart"),  # every session ended, a clean shutdown
        pytest.param("immediate", id="crash"),  # no shutdown: crash recovery at the start
    ],
)
async def test_postgresql_restart(
    postgres: PrivatePostgres, engine: AsyncEngine, tmp_path: Path, shutdown: str
) -> None:
    broadcast = asyncpg_dsn(postgres.database_url)
    async with live(engine, postgres.database_url, broadcast, tmp_path) as world:
        processes = world.cluster.processes
        await writing(world, BEFORE_AND_AFTER)

        world.watcher.phase = "outage"
        failed_before = world.failed_writes()
        await asyncio.to_thread(postgres.stop, shutdown)
        started = time.monotonic()
        await until(
            lambda: all(
                any("database" in s.failing() for s in world.watcher.during("outage", p))
                for p in processes
            ),
            wait=10,
            what="/readyz to report the database down",
        )
        # Half the subscribers lose their socket during the outage and must come back.
        for subscriber in world.subscribers[::2]:
            await subscriber.bounce()
        await asyncio.sleep(max(0.5, OUTAGE - (time.monotonic() - started)))
        failed_during = world.failed_writes() - failed_before
        await asyncio.to_thread(postgres.start)
        down = time.monotonic() - started
        world.watcher.phase = "after"
        await world.watcher.wait_ready(processes)
        ready = time.monotonic() - started - down
        await writing(world, BEFORE_AND_AFTER)
        await finish(world, f"PostgreSQL stop -m {shutdown} and start (postgres broadcast)")
        print(
            f"  PostgreSQL down {down:.1f} s; every process ready again {ready:.1f} s after; "
            f"writes refused during the outage: {failed_during}"
        )

    assert failed_during > 0, "no write failed while the database was down"
    # A write refused for the outage says so with a code (HTTP 503 before the token could be
    # read, or a field error once inside), or never reached a process; never a bare 500.
    refusals = sum((w.errors for w in world.writers), start=Counter[str]())
    unexplained = {
        reason: n
        for reason, n in refusals.items()
        if reason.startswith("HTTP ") and not reason.endswith(" UNAVAILABLE")
    }
    assert not unexplained, unexplained
    for process in processes:
        outage = world.watcher.during("outage", process)
        assert any(s.status == 503 and "database" in s.failing() for s in outage), outage
        assert world.watcher.during("after", process)[-1].status == 200
    for subscriber in world.subscribers[::2]:
        assert len(subscriber.connections) >= 2, f"{subscriber.name} did not reconnect"
