"""/readyz fails (503, naming the check) for each cause, and comes back when the cause goes:
the database does not answer, the broadcast listener is dead, the event tail lags."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

import app.pubsub.wakeups
from app.pubsub.cursors import Cursor
from app.pubsub.log import EventLog
from app.settings import Settings
from tests.pubsub.support import append, eventually
from tests.support.server import RunningServer, make_app, serve_app

DEAD_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:1/devicegraph"
MAX_LAG = 2.0
"""The tail's readiness threshold here: short for quick tests, long enough that a busy machine
delaying the tail's 0.2 s poll does not make the other checks' tests see it fail."""


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        broadcast_url="memory://",
        ready_max_lag_seconds=MAX_LAG,
        event_poll_interval=0.2,
        db_pool_timeout=2,
    )


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[RunningServer]:
    async with serve_app(make_app(settings)) as running:
        yield running


async def ready(http: httpx.AsyncClient) -> tuple[int, set[str], dict[str, Any]]:
    """The status, the names of the failing checks, and the body."""
    response = await http.get("/readyz")
    body: dict[str, Any] = response.json()
    failing = {name for name, check in body["checks"].items() if not check["ok"]}
    return response.status_code, failing, body


async def until_status(http: httpx.AsyncClient, status: int, wait: float = 10.0) -> dict[str, Any]:
    async with asyncio.timeout(wait):
        while True:
            code, _, body = await ready(http)
            if code == status:
                return body
            await asyncio.sleep(0.05)


async def test_ready_when_everything_answers(http: httpx.AsyncClient) -> None:
    status, failing, body = await ready(http)
    assert (status, failing) == (200, set()), body
    assert body["checks"]["tail"]["max_lag_seconds"] == MAX_LAG


async def test_unready_while_the_database_does_not_answer(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    runtime = server.runtime
    healthy = runtime.engine
    dead = create_async_engine(DEAD_POSTGRES, pool_timeout=2)
    runtime.engine = dead
    try:
        status, failing, body = await ready(http)
        assert (status, failing) == (503, {"database"}), body
        assert body["status"] == "unavailable"
        assert body["checks"]["database"]["error"]
    finally:
        runtime.engine = healthy
        await dead.dispose()
    status, failing, body = await ready(http)
    assert (status, failing) == (200, set()), body


async def test_unready_while_the_broadcast_listener_is_dead(
    server: RunningServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    wakeups = server.runtime.wakeups
    assert wakeups.alive
    reconnects = wakeups.reconnects

    def unreachable(url: str) -> Any:
        raise ConnectionError("the broadcast does not answer")

    # The listener dies and cannot reconnect while the backend is unreachable.
    monkeypatch.setattr(app.pubsub.wakeups, "create_broadcast", unreachable)
    wakeups._broadcast._listener_task.cancel()
    await eventually(lambda: wakeups.reconnects > reconnects + 1, what="reconnect attempts")
    status, failing, body = await ready(http)
    assert (status, failing) == (503, {"broadcast"}), body
    assert "does not answer" in body["checks"]["broadcast"]["error"]

    monkeypatch.undo()
    body = await until_status(http, 200)
    assert body["checks"]["broadcast"]["reconnects"] > reconnects


async def test_unready_while_the_tail_is_stalled(
    server: RunningServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    event_log = server.runtime.event_log
    tail = server.runtime.tail
    release = asyncio.Event()
    stalled = asyncio.Event()
    original = EventLog.read

    async def hanging_read(self: EventLog, cursor: Cursor, limit: int) -> Any:
        if self is event_log and not release.is_set():
            stalled.set()
            await release.wait()  # a read that hangs (a wedged connection, a lock)
        return await original(self, cursor, limit)

    monkeypatch.setattr(EventLog, "read", hanging_read)
    tail.wake()
    await asyncio.wait_for(stalled.wait(), 5)
    assert tail.running
    body = await until_status(http, 503, wait=MAX_LAG + 5)
    checks = body["checks"]
    assert {name for name, check in checks.items() if not check["ok"]} == {"tail"}, body
    assert "no successful read" in checks["tail"]["problem"]
    assert checks["tail"]["last_read_seconds_ago"] > MAX_LAG

    release.set()
    body = await until_status(http, 200, wait=5)
    assert "problem" not in body["checks"]["tail"]


async def test_unready_while_the_tail_works_through_an_old_backlog(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(settings.model_copy(update={"event_batch_size": 1}))
    async with (
        serve_app(app) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False) as http,
    ):
        event_log = server.runtime.event_log
        permits = asyncio.Semaphore(0)
        gated = True
        original = EventLog.read

        async def gated_read(self: EventLog, cursor: Cursor, limit: int) -> Any:
            if self is event_log and gated:
                await permits.acquire()  # one read per permit
            return await original(self, cursor, limit)

        monkeypatch.setattr(EventLog, "read", gated_read)
        server.runtime.tail.wake()
        await append(server.runtime.sessions, 3)
        await asyncio.sleep(MAX_LAG + 0.3)  # the events are now older than the threshold
        permits.release()  # one read: one event of three, more to read
        await eventually(lambda: server.runtime.tail.backlog_seconds > 0, what="a backlog")
        status, failing, body = await ready(http)
        assert (status, failing) == (503, {"tail"}), body
        assert "behind the log" in body["checks"]["tail"]["problem"]
        assert body["checks"]["tail"]["last_read_seconds_ago"] < MAX_LAG

        gated = False
        for _ in range(3):
            permits.release()
        body = await until_status(http, 200)
        assert body["checks"]["tail"]["delivered"] == 3


async def test_unready_when_the_tail_stopped(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    await server.runtime.tail.stop()
    try:
        status, failing, body = await ready(http)
        assert (status, failing) == (503, {"tail"}), body
        assert body["checks"]["tail"]["problem"] == "the tail is not running"
    finally:
        await server.runtime.tail.start()
    assert (await until_status(http, 200))["status"] == "ready"
