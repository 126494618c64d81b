"""The wake-up channel through repeated Redis outages: it notices each one, and comes back
as fast after the third as after the first (its reconnect backoff starts over once connected).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from app.pubsub.wakeups import WakeUpChannel
from tests.faults.harness import until
from tests.support.databases import require_service
from tests.support.services import PrivateRedis, private_redis, redis_available


@pytest.fixture(scope="module")
def redis() -> Iterator[PrivateRedis]:
    require_service(redis_available() is None, "redis-server (private)", "PATH")
    with private_redis() as server:
        yield server


async def test_the_channel_recovers_from_each_of_several_redis_outages(
    redis: PrivateRedis,
) -> None:
    channel = WakeUpChannel(redis.url, heartbeat_interval=0.5, heartbeat_timeout=1.0)
    hints: list[str] = []
    channel.add_listener(hints.append)
    await channel.start(ready_timeout=5)
    recoveries = []
    try:
        assert channel.alive
        for outage in range(3):
            await asyncio.to_thread(redis.stop)
            await until(lambda: not channel.alive, wait=5, what="the outage to be noticed")
            await asyncio.sleep(0.5)
            await asyncio.to_thread(redis.start)
            back = time.monotonic()
            await until(lambda: channel.alive, wait=15, what="the channel to reconnect")
            recoveries.append(time.monotonic() - back)

            await channel.publish(f"after outage {outage}")
            await until(lambda: f"after outage {outage}" in hints, wait=2, what="the hint")  # noqa: B023
    finally:
        await channel.stop()
    print(f"\nreconnected after each Redis outage in: {[round(r, 2) for r in recoveries]} s")
    assert channel.reconnects >= 3
    # Each outage costs at most the first few steps of the backoff (0.1, 0.2, 0.4, 0.8 s).
    assert max(recoveries) < 2.5, recoveries
