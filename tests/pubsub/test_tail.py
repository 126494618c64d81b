"""The tail task: starts at the head, reads on hints and on its poll timer, survives errors;
and one subscriber's stream across the backfill/live boundary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import create_engine
from app.pubsub.cursors import START, Cursor
from app.pubsub.hub import Hub
from app.pubsub.log import EVERYTHING, EventFilter, EventLog, EventRecord, LogPage
from app.pubsub.stream import event_stream
from app.pubsub.tail import EventTail
from app.settings import Settings
from tests.pubsub.support import append, eventually
from tests.support.markers import only

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def log_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=database_url))
    try:
        yield engine
    finally:
        await engine.dispose()


class Recorder:
    """A hub that also keeps everything dispatched to it."""

    def __init__(self) -> None:
        self.hub = Hub()
        self.records: list[EventRecord] = []
        original = self.hub.dispatch

        async def dispatch(records: Sequence[EventRecord]) -> None:
            self.records.extend(records)
            await original(records)

        self.hub.dispatch = dispatch  # type: ignore[method-assign]

    def types(self) -> list[str]:
        return [record.type for record in self.records]


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def running_tail(
    log_engine: AsyncEngine, recorder: Recorder, request: pytest.FixtureRequest
) -> AsyncIterator[EventTail]:
    poll = getattr(request, "param", 30.0)
    tail = EventTail(EventLog(log_engine), recorder.hub, poll_interval=poll, batch_size=4)
    await tail.start()
    try:
        yield tail
    finally:
        await tail.stop()


async def test_it_starts_at_the_head_and_reads_on_a_wake_up(
    sessions: Sessions, log_engine: AsyncEngine, recorder: Recorder
) -> None:
    await append(sessions, 3, type="history")
    tail = EventTail(EventLog(log_engine), recorder.hub, poll_interval=30, batch_size=4)
    await tail.start()
    try:
        assert tail.ready
        assert tail.ok
        assert tail.cursor == await EventLog(log_engine).head() != START
        await append(sessions, 10, type="new")  # more than a batch
        tail.wake()
        await eventually(lambda: len(recorder.records) == 10, wait=2)
        assert recorder.types() == ["new"] * 10
        assert [r.changes["n"] for r in recorder.records] == list(range(10))
        assert tail.cursor == recorder.records[-1].cursor
        assert tail.status()["lag_events"] == 0
    finally:
        await tail.stop()
    assert not tail.running


@pytest.mark.parametrize("running_tail", [0.1], indirect=True)
async def test_the_poll_timer_catches_what_no_hint_announced(
    sessions: Sessions, running_tail: EventTail, recorder: Recorder
) -> None:
    await append(sessions, 2, type="unannounced")  # the test's sessions send no hint
    await eventually(lambda: len(recorder.records) == 2, wait=2)
    assert recorder.types() == ["unannounced"] * 2


class FlakyLog(EventLog):
    """Fails ``failures`` reads in a row, as a database that went away would."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine)
        self.failures = 0

    async def read(
        self, after: Cursor, limit: int, event_filter: EventFilter = EVERYTHING
    ) -> LogPage:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the database went away")
        return await super().read(after, limit, event_filter)


async def test_it_survives_database_errors_and_keeps_its_cursor(
    sessions: Sessions, log_engine: AsyncEngine, recorder: Recorder
) -> None:
    flaky = FlakyLog(log_engine)
    tail = EventTail(flaky, recorder.hub, poll_interval=0.05, max_backoff=0.1)
    await tail.start()
    try:
        await append(sessions, 1, type="before")
        await eventually(lambda: len(recorder.records) == 1, wait=2)
        cursor = tail.cursor
        flaky.failures = 4
        await append(sessions, 2, type="during")
        await eventually(lambda: tail.last_error is not None, wait=2)
        status = tail.status()
        assert status["ok"] is False
        assert status["error"] == "ConnectionError: the database went away"
        assert tail.cursor == cursor
        await eventually(lambda: len(recorder.records) == 3, wait=3)
        assert recorder.types() == ["before", "during", "during"]
        assert tail.errors == 4
        assert tail.ok
        assert "error" not in tail.status()
    finally:
        await tail.stop()


@only("postgresql")
async def test_held_back_events_are_reported_and_read_soon_after_release(
    sessions: Sessions, running_tail: EventTail, recorder: Recorder
) -> None:
    async with sessions() as blocker, blocker.begin():
        await blocker.execute(text("SELECT pg_current_xact_id()"))
        await append(sessions, 2, type="waiting")
        running_tail.wake()
        await eventually(lambda: running_tail.lag_events == 2, wait=2)
        assert recorder.records == []
        assert running_tail.status()["lag_seconds"] >= 0
    # The blocker wrote no event, so no hint; the tail looks again on its own, soon
    # (its poll interval here is 30 s).
    await eventually(lambda: len(recorder.records) == 2, wait=2)
    assert running_tail.lag_events == 0


async def test_a_stream_backfills_then_goes_live_without_gaps_or_repeats(
    sessions: Sessions, running_tail: EventTail, recorder: Recorder, log_engine: AsyncEngine
) -> None:
    """Events keep arriving while a subscriber backfills a long history in small pages."""
    await append(sessions, 30, type="history")
    stream = event_stream(
        hub=recorder.hub,
        event_log=EventLog(log_engine),
        tail=running_tail,
        event_filter=EventFilter(),
        after=START,
        page_size=4,
    )
    received: list[EventRecord] = []

    async def writer() -> None:
        for _ in range(10):
            await append(sessions, 2, type="live")
            running_tail.wake()
            await asyncio.sleep(0.005)

    writing = asyncio.create_task(writer())
    async with asyncio.timeout(5):
        async for record in stream:
            received.append(record)
            if len(received) == 50:
                break
    await writing
    await stream.aclose()
    cursors = [record.cursor for record in received]
    assert cursors == sorted(set(cursors))
    assert [record.type for record in received] == ["history"] * 30 + ["live"] * 20
    assert recorder.hub.subscriber_count == 0


async def test_a_stream_that_overflows_while_backfilling_catches_up_from_the_log(
    sessions: Sessions, log_engine: AsyncEngine, recorder: Recorder
) -> None:
    recorder.hub.queue_max = 2
    await append(sessions, 5, type="history")
    tail = EventTail(EventLog(log_engine), recorder.hub, poll_interval=30)
    await tail.start()
    try:
        stream = event_stream(
            hub=recorder.hub,
            event_log=EventLog(log_engine),
            tail=tail,
            event_filter=EventFilter(),
            after=START,
            page_size=2,
        )
        first = await anext(stream)  # registered, backfilling
        await append(sessions, 6, type="burst")
        tail.wake()
        await eventually(lambda: len(recorder.records) == 6, wait=2)
        rest = [await anext(stream) for _ in range(10)]
        await stream.aclose()
    finally:
        await tail.stop()
    assert [r.type for r in [first, *rest]] == ["history"] * 5 + ["burst"] * 6
    assert recorder.hub.stats()["overflows"] == 1
