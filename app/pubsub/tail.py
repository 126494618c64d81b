"""One tail task per process: reads new events from the log in order and hands them to the hub.

Woken by wake-up hints (any process, through WakeUpChannel), by this process's own commits
(the session's after-commit hook), and by a poll timer as a safety net for lost hints. Each
wake-up costs one query, whatever the number of subscribers. It starts from the log's current
head (subscribers backfill history themselves), keeps its cursor across database errors (logs,
backs off, retries) and reports its state for /readyz.

On PostgreSQL, committed events can be held back behind an older open transaction (see
app.pubsub.log); the tail then looks again after a short delay, growing to the poll interval,
since the commit that releases them may send no hint (it may have written no event).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from app.observability.metrics import DELIVERY_LATENCY
from app.pubsub.cursors import Cursor
from app.pubsub.hub import Hub
from app.pubsub.log import EventLog, lag_seconds

log = logging.getLogger(__name__)


class EventTail:
    def __init__(
        self,
        event_log: EventLog,
        hub: Hub,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 500,
        max_backoff: float = 5.0,
        stale_after: float = 5.0,
        start_timeout: float = 2.0,
    ) -> None:
        self.log = event_log
        self.hub = hub
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.max_backoff = max_backoff
        self.stale_after = max(stale_after, 3 * poll_interval)
        self.start_timeout = start_timeout
        self.cursor: Cursor | None = None
        self.last_read_at: float | None = None
        """time.monotonic() of the last successful read."""
        self.last_error: str | None = None
        self.errors = 0
        self.reads = 0
        self.delivered = 0
        self.lag_seconds = 0.0
        self.lag_events = 0
        self.backlog_seconds = 0.0
        """Age of the newest event read while more remained to read (0 when caught up)."""
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._first_attempt = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # --- control -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the task and wait (briefly) for its first look at the head of the log.

        A database that does not answer does not hold up the app's start: the tail keeps
        trying, subscriptions wait for it (app.pubsub.stream) and /readyz reports it.
        """
        if self._task is not None:
            return
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="event-tail")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), self.start_timeout)
        if not self.ready:
            log.warning("event tail not ready yet: %s", self.last_error)

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Read now (safe to call from any callback on the event loop, as often as wanted)."""
        self._wake.set()

    @property
    def ready(self) -> bool:
        """The tail knows where it is: everything dispatched from now on follows its cursor."""
        return self._ready.is_set()

    async def wait_ready(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), seconds)
        return self.ready

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # --- state ---------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        """Running, its last attempt succeeded, and it read recently."""
        if not self.running or self.last_error is not None or self.last_read_at is None:
            return False
        return time.monotonic() - self.last_read_at <= self.stale_after

    def status(self) -> dict[str, Any]:
        since = None if self.last_read_at is None else time.monotonic() - self.last_read_at
        state: dict[str, Any] = {
            "ok": self.ok,
            "cursor": None if self.cursor is None else self.cursor.encode(),
            "last_read_seconds_ago": None if since is None else round(since, 3),
            "lag_seconds": round(self.lag_seconds, 3),
            "lag_events": self.lag_events,
            "delivered": self.delivered,
            "subscribers": self.hub.subscriber_count,
        }
        if self.last_error is not None:
            state["error"] = self.last_error
        return state

    def readiness_problem(self, max_lag_seconds: float) -> str | None:
        """Why this process should not take traffic because of its tail, or None.

        The tail lags when it has not read the log successfully for ``max_lag_seconds`` (it
        stopped, hangs or keeps failing), or when it is working through a backlog whose newest
        event is older than that. Events held back behind another transaction do not count.
        """
        if not self.running:
            return "the tail is not running"
        if self.last_read_at is None:
            return "the tail has not read the log yet"
        since = time.monotonic() - self.last_read_at
        if since > max_lag_seconds:
            return f"no successful read of the log for {since:.1f} s"
        if self.backlog_seconds > max_lag_seconds:
            return f"{self.backlog_seconds:.1f} s behind the log"
        return None

    # --- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.1
        held_delay = 0.02
        while not self._stopping:
            self._wake.clear()
            delay = self.poll_interval
            try:
                if self.cursor is None:
                    self.cursor = await self.log.head()
                    self._ready.set()
                    self._first_attempt.set()
                    self._read_ok()
                again, held = await self._read_once()
                backoff = 0.1
                if again:
                    await asyncio.sleep(0)  # a full batch: read on at once, but let others run
                    continue
                if held:
                    delay = min(held_delay, self.poll_interval)
                    held_delay = min(held_delay * 2, self.poll_interval)
                else:
                    held_delay = 0.02
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.errors += 1
                if self.last_error is None:
                    log.warning("event tail: read failed, retrying: %r", exc)
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                self._first_attempt.set()
                delay = backoff
                backoff = min(backoff * 2, self.max_backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _read_once(self) -> tuple[bool, bool]:
        """One read and dispatch; returns (read again at once, events are held back)."""
        assert self.cursor is not None
        page = await self.log.read(self.cursor, self.batch_size)
        self.reads += 1
        self._read_ok()
        if page.records:
            now = time.time()
            for record in page.records:
                DELIVERY_LATENCY.observe(max(0.0, now - record.occurred_at.timestamp()))
            await self.hub.dispatch(page.records)
            self.cursor = page.records[-1].cursor
            self.delivered += len(page.records)
        if page.held_back and page.oldest_held_back_at is not None:
            self.lag_seconds = max(0.0, time.time() - page.oldest_held_back_at.timestamp())
        elif page.records:
            self.lag_seconds = lag_seconds(page.records[-1:])
        else:
            self.lag_seconds = 0.0
        self.lag_events = page.held_back + (self.batch_size if page.has_more else 0)
        self.backlog_seconds = lag_seconds(page.records[-1:]) if page.has_more else 0.0
        return page.has_more, page.held_back > 0

    def _read_ok(self) -> None:
        if self.last_error is not None:
            log.info("event tail: reading again after %s", self.last_error)
        self.last_error = None
        self.last_read_at = time.monotonic()
