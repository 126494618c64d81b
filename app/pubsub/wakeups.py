"""A watched broadcaster connection that carries wake-up hints, never data.

broadcaster 0.3.1 never notices a dead backend connection: its listener just waits forever.
So the channel sends itself a heartbeat and expects it back; a heartbeat that does not return,
or a failed publish, marks the listener dead, and the watcher reconnects with backoff. /readyz
reports ``alive``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from app.pubsub.backends import close_broadcast, create_broadcast

log = logging.getLogger(__name__)

CHANNEL = "devicegraph_events"
_PING = "ping:"


class WakeUpChannel:
    def __init__(
        self,
        url: str,
        *,
        heartbeat_interval: float = 2.0,
        heartbeat_timeout: float = 3.0,
        max_backoff: float = 5.0,
    ) -> None:
        self.url = url
        self.heartbeat_interval = heartbeat_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.max_backoff = max_backoff
        self._listeners: list[Callable[[str], None]] = []
        self._broadcast: Any = None
        self._publish_lock = asyncio.Lock()
        self._alive = asyncio.Event()
        self._stopping = False
        self._watcher: asyncio.Task[None] | None = None
        self._pending_ping: tuple[str, asyncio.Future[None]] | None = None
        self.last_error: str | None = None
        self.reconnects = 0
        self.connections = 0
        """Times the listener came alive (the first heartbeat returned)."""

    @property
    def alive(self) -> bool:
        return self._alive.is_set()

    @property
    def scheme(self) -> str:
        return self.url.split(":", 1)[0]

    def add_listener(self, callback: Callable[[str], None]) -> None:
        """``callback(payload)`` runs for every hint from any process, this one included."""
        self._listeners.append(callback)

    async def start(self, ready_timeout: float = 10.0) -> None:
        self._watcher = asyncio.create_task(self._watch(), name="wakeup-channel")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._alive.wait(), ready_timeout)
        if not self.alive:
            log.warning("broadcast %s not reachable yet: %s", self.scheme, self.last_error)

    async def stop(self) -> None:
        self._stopping = True
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher

    async def publish(self, payload: str = "") -> None:
        """Send a hint; a failure marks the channel dead instead of failing the caller."""
        broadcast = self._broadcast
        if broadcast is None or not self.alive:
            return
        try:
            async with self._publish_lock:
                await broadcast.publish(CHANNEL, payload)
        except Exception as exc:  # any backend error means the connection is gone
            self._mark_dead(f"publish failed: {exc!r}")

    def _mark_dead(self, reason: str) -> None:
        if self.alive:
            log.warning("broadcast %s listener lost: %s", self.scheme, reason)
        self.last_error = reason
        self._alive.clear()

    async def _watch(self) -> None:
        backoff = 0.1
        while not self._stopping:
            connections = self.connections
            try:
                await self._run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._mark_dead(repr(exc))
            self._alive.clear()
            if self.connections != connections:
                backoff = 0.1  # it was connected: a new outage starts the backoff over
            if self._stopping:
                return
            self.reconnects += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _run_once(self) -> None:
        broadcast = create_broadcast(self.url)
        try:
            await broadcast.connect()
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(close_broadcast(broadcast), 2)
            raise
        self._broadcast = broadcast
        tasks: list[asyncio.Task[None]] = []
        try:
            async with broadcast.subscribe(CHANNEL) as subscriber:
                tasks.append(asyncio.create_task(self._read(subscriber)))
                # The first heartbeat proves the round trip before we call ourselves alive.
                await self._ping()
                tasks.append(asyncio.create_task(self._heartbeat()))
                self._alive.set()
                self.connections += 1
                self.last_error = None
                log.info("broadcast %s listener connected", self.scheme)
                done, _ = await asyncio.wait(
                    {*tasks, broadcast._listener_task}, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    if not task.cancelled() and (error := task.exception()) is not None:
                        raise error
                raise ConnectionError("the broadcast listener stopped")
        finally:
            self._broadcast = None
            self._alive.clear()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(close_broadcast(broadcast), 2)

    async def _read(self, subscriber: Any) -> None:
        async for event in subscriber:
            message: str = event.message
            if message.startswith(_PING):
                pending = self._pending_ping
                if pending and pending[0] == message and not pending[1].done():
                    pending[1].set_result(None)
                continue
            for callback in self._listeners:
                callback(message)

    async def _ping(self) -> None:
        broadcast = self._broadcast
        if broadcast is None:
            raise ConnectionError("the broadcast is not connected")
        token = f"{_PING}{uuid.uuid4().hex}"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending_ping = (token, future)
        async with self._publish_lock:
            await asyncio.wait_for(broadcast.publish(CHANNEL, token), self.heartbeat_timeout)
        try:
            await asyncio.wait_for(future, self.heartbeat_timeout)
        except TimeoutError as exc:
            raise ConnectionError("heartbeat did not come back through the broadcast") from exc

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            await self._ping()
