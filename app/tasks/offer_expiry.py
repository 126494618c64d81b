"""The offer expiry sweep (rule 4): PENDING offers past ``expires_at`` become EXPIRED.

One task per app process; several processes sweeping at once is safe (each offer is expired
under its row lock, once). A failed sweep is logged and retried on the next tick: an error never
ends the task. Start it from the lifespan and stop it before the engine is disposed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models.base import utcnow
from app.services.offers import expire_due_offers

log = logging.getLogger(__name__)


class OfferExpiryTask:
    """Run ``expire_due_offers`` at once and then every ``interval_seconds`` until stopped."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        interval_seconds: float = 30.0,
        *,
        batch_size: int = 500,
        stop_timeout_seconds: float = 10.0,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        self._sessions = sessions
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self._stop_timeout = stop_timeout_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.sweeps = 0
        """Sweeps that completed."""
        self.failures = 0
        """Sweeps that raised (each was logged)."""
        self.expired = 0
        """Offers expired by this task since it started."""
        self.last_error: str | None = None
        self.last_success_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        if self.running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="offer-expiry")

    async def stop(self) -> None:
        """Let a sweep in progress finish (up to the stop timeout), then end the loop."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=self._stop_timeout)
        except TimeoutError:
            log.warning("offer expiry sweep did not stop in %.1fs: cancelling", self._stop_timeout)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def sweep(self) -> int:
        """One sweep now; errors propagate (the loop logs them)."""
        count = await expire_due_offers(self._sessions, limit=self.batch_size)
        self.sweeps += 1
        self.expired += count
        self.last_error = None
        self.last_success_at = utcnow()
        if count:
            log.info("expired %d offer(s)", count)
        return count

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.sweep()
            except Exception as exc:  # a failed sweep must never end the task
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("offer expiry sweep failed; retrying in %.1fs", self.interval_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval_seconds)
