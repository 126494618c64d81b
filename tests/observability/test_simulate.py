"""`devicegraph simulate` against the real server: real changes, no errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cli import main
from app.models import Event
from app.services.demo import DEMO_PASSWORD, seed_demo
from app.simulate.runner import simulate
from tests.observability.support import scrape
from tests.support.markers import only
from tests.support.server import RunningServer

Sessions = async_sessionmaker[AsyncSession]


async def count_events(sessions: Sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Event)) or 0)


async def test_simulate_makes_real_changes_without_errors(
    server: RunningServer, sessions: Sessions, http: httpx.AsyncClient
) -> None:
    assert await seed_demo(sessions) is not None
    events_before = await count_events(sessions)
    metrics_before = await scrape(http)

    report = await simulate(server.url, rate=12, duration=3, password=DEMO_PASSWORD, seed=7)

    print(report.describe())
    assert report.error_count == 0, report.describe()
    assert report.actions >= 30, report.describe()
    # The day moved on: devices came in and were graded and listed.
    for action in ("receive_device", "record_grade", "create_listing"):
        assert report.ok[action] > 0, report.describe()
    changes = sum(report.ok.values()) - report.ok["browse_board"]
    assert await count_events(sessions) - events_before >= changes
    metrics_after = await scrape(http)
    mutations = metrics_after.total("devicegraph_mutations_total", result="ok") - (
        metrics_before.total("devicegraph_mutations_total", result="ok")
    )
    assert mutations >= changes + 11  # every action, and each demo user's signIn


@only("sqlite")
async def test_the_command_prints_its_report(
    server: RunningServer, sessions: Sessions, capfd: pytest.CaptureFixture[str]
) -> None:
    await seed_demo(sessions)
    argv = ["simulate", "--url", server.url, "--rate", "6", "--duration", "1.5", "--seed", "2"]
    status = await asyncio.to_thread(main, argv)
    out = capfd.readouterr().out
    assert status == 0, out
    assert f"simulating 6 actions/s against {server.url} for 1.5 s" in out
    assert ", 0 errors" in out
    assert "receive_device" in out


def test_the_command_refuses_a_rate_of_zero(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--rate", "0"]) == 2
    assert "--rate must be positive" in capfd.readouterr().err


@only("sqlite")
async def test_without_the_demo_it_says_what_to_do(
    server: RunningServer, capfd: pytest.CaptureFixture[str]
) -> None:
    status = await asyncio.to_thread(main, ["simulate", "--url", server.url, "--duration", "1"])
    assert status == 1
    assert "devicegraph seed-demo" in capfd.readouterr().err
