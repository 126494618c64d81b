"""Webhook tests: the real app (with its delivery worker) and a real receiving HTTP server.

Retries are made short through settings (tens of milliseconds instead of seconds), and
private addresses are allowed so the worker may reach the receiver on 127.0.0.1; tests of the
refusal turn that off.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.settings import Settings
from tests.support.trade import World, create_world
from tests.webhooks.receiver import ReceiverServer, TestReceiver

Sessions = async_sessionmaker[AsyncSession]

FAST = {
    "webhook_allow_private": True,
    "webhook_poll_interval": 0.05,
    "webhook_retry_initial_seconds": 0.05,
    "webhook_retry_max_seconds": 0.2,
    "webhook_timeout_seconds": 3.0,
}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, broadcast_url="memory://", **FAST)


@pytest.fixture
def receiver() -> Iterator[ReceiverServer]:
    server = ReceiverServer(TestReceiver())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def world(sessions: Sessions) -> World:
    return await create_world(sessions)
