"""Liveness and readiness: JSON, and readiness names the check that fails."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.support.databases import redis_url, require_service, tcp_reachable
from tests.support.markers import only
from tests.support.server import RunningServer, make_app, serve_app

CLOSED_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:1/devicegraph"
CLOSED_REDIS = "redis://127.0.0.1:1"


async def test_healthz(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"status": "ok"}


async def test_readyz_when_everything_answers(http: httpx.AsyncClient) -> None:
    response = await http.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broadcast"]["ok"] is True
    assert body["checks"]["broadcast"]["backend"] == "memory"


async def test_healthz_does_not_touch_the_database(
    server: RunningServer, http: httpx.AsyncClient
) -> None:
    from tests.support.databases import count_statements

    # The offer expiry sweep shares the engine and may run at any moment: stop it first.
    await server.app.state.offer_expiry.stop()
    with count_statements(server.app.state.runtime.engine.sync_engine) as log:
        assert (await http.get("/healthz")).status_code == 200
    assert log.count == 0


async def _readyz(
    settings: Settings, *, broadcast_ready_timeout: float | None = None
) -> tuple[int, dict[str, Any]]:
    app = make_app(settings)
    if broadcast_ready_timeout is not None:
        # WakeUpChannel.start waits up to 10 s for the broadcast; there is no setting for it.
        wakeups = app.state.runtime.wakeups
        wakeups.start = partial(type(wakeups).start, wakeups, ready_timeout=broadcast_ready_timeout)
    async with (
        serve_app(app) as server,
        httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=10) as client,
    ):
        response = await client.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def test_readyz_is_503_when_the_database_is_unreachable() -> None:
    started = time.monotonic()
    status, body = await _readyz(
        Settings(database_url=CLOSED_POSTGRES, broadcast_url="memory://", db_pool_timeout=2)
    )
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"]  # names what went wrong, e.g. the exception
    assert body["checks"]["broadcast"]["ok"] is True
    assert time.monotonic() - started < 5, "readiness must answer quickly, not hang"


@pytest.fixture
async def redis_available() -> str:
    url = redis_url()
    require_service(await tcp_reachable(url, 6379), "Redis", url)
    return url


@only("sqlite")
async def test_readyz_with_redis_broadcast(settings: Settings, redis_available: str) -> None:
    status, body = await _readyz(
        settings.model_copy(update={"broadcast_url": redis_available}), broadcast_ready_timeout=2
    )
    assert status == 200, body
    assert body["checks"]["broadcast"] == {"ok": True, "backend": "redis", "reconnects": 0}
    assert body["checks"]["database"]["ok"] is True


@only("sqlite")
async def test_readyz_with_unreachable_redis(settings: Settings) -> None:
    status, body = await _readyz(
        settings.model_copy(update={"broadcast_url": CLOSED_REDIS}), broadcast_ready_timeout=0.5
    )
    assert status == 503
    assert body["status"] == "unavailable"
    broadcast = body["checks"]["broadcast"]
    assert broadcast["ok"] is False
    assert broadcast["backend"] == "redis"
    assert broadcast["error"]  # the last connection error
    assert body["checks"]["database"]["ok"] is True
