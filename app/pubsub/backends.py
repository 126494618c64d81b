"""broadcaster backends, with the fixes our use of them needs."""

from __future__ import annotations

import asyncio
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


async def close_broadcast(broadcast: Any) -> None:
    """Close ``broadcast`` and its backend, whatever state a failure left them in.

    broadcaster 0.3.1's ``Broadcast.disconnect`` re-raises a failed listener's error before it
    closes the backend (the connection would leak), and a ``connect`` that failed leaves the
    Redis backend's listener task waiting forever: here the backend is always closed.
    """
    listener: asyncio.Task[None] | None = getattr(broadcast, "_listener_task", None)
    if listener is not None and not listener.done():
        listener.cancel()
    await broadcast._backend.disconnect()
