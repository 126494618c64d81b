"""broadcaster backends, with the one fix our use of Redis needs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from broadcaster import Broadcast


def create_broadcast(url: str) -> Any:
    """A Broadcast for ``url``; Redis gets a backend that subscribes before it listens.

    broadcaster 0.3.1's RedisBackend marks itself ready before its SUBSCRIBE completes; its
    listener then finds no subscription, stops, and never delivers a message.
    """
    if urlparse(url).scheme in ("redis", "rediss"):
        from broadcaster._backends.redis import RedisBackend

        class SubscribedRedisBackend(RedisBackend):
            async def subscribe(self, channel: str) -> None:
                await self._pubsub.subscribe(channel)
                self._ready.set()

        return Broadcast(backend=SubscribedRedisBackend(url))
    return Broadcast(url)
