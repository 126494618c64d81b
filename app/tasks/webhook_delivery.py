"""The webhook delivery worker: every endpoint follows the event log from its own cursor.

One task per app process. Each pass (woken by a wake-up hint, else every poll interval):

1. read the log's head, and the ACTIVE endpoints that are behind it or whose retry is due;
2. for each (a few at a time), take its lease (a conditional UPDATE of ``leased_until``: of
   several processes one delivers to an endpoint at a time), then, in log order from its
   cursor, read the events its organisation may see and it subscribed to, and POST them one
   per request, signed (app.webhooks.signing);
3. a 2xx moves the cursor past the event. Anything else (an error status, a timeout, a
   refused address) records the failure and blocks the endpoint: the SAME event is retried
   after an exponential backoff, so events arrive in order, at least once. An endpoint that
   has failed without a success for ``webhook_disable_after_seconds`` is disabled, with an
   event that says so.

A failed pass is logged and the task carries on: an error never ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import replace
from datetime import timedelta

import httpx
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models.base import utcnow
from app.models.webhooks import WebhookEndpoint, WebhookEndpointStatus
from app.observability.metrics import WEBHOOK_DELIVERIES
from app.pubsub.cursors import Cursor
from app.pubsub.log import EventFilter, EventLog, EventRecord
from app.settings import Settings
from app.webhooks import attempts
from app.webhooks.addresses import AddressRefused, check_destination
from app.webhooks.attempts import Outcome, Target
from app.webhooks.payload import event_body, event_id
from app.webhooks.rules import endpoint_audiences, wants
from app.webhooks.signing import EVENT_ID_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

PAGE = 100
MIN_PASS_GAP = 0.2
"""Seconds between two passes: under a stream of commits each one wakes the task, and a pass
costs two queries even when nothing is due; events meanwhile wait for the next pass."""
USER_AGENT = "DeviceGraph-Webhooks/1"


class WebhookDeliveryTask:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        event_log: EventLog,
        settings: Settings,
        *,
        stop_timeout_seconds: float = 10.0,
    ) -> None:
        self._sessions = sessions
        # A reader of its own over the same engine: its reads are not the tail's.
        self._log = EventLog(event_log.engine)
        self.settings = settings
        self.owner = f"worker-{secrets.token_hex(6)}"
        """This process's name on the leases it takes."""
        self.lease = timedelta(seconds=max(30.0, settings.webhook_timeout_seconds * 3))
        self._stop_timeout = stop_timeout_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None
        self.passes = 0
        self.failures = 0
        """Passes that raised (each was logged)."""
        self.last_error: str | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Look for work now (a hint: something was committed)."""
        self._wake.set()

    async def start(self) -> None:
        if self.running:
            return
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            self._stopping.set()
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=self._stop_timeout)
            except TimeoutError:
                log.warning(
                    "webhook delivery did not stop in %.1fs: cancelling", self._stop_timeout
                )
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def _run(self) -> None:
        # Made here, not in start(): building its TLS context takes a while, and start-up
        # should not wait for it.
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.webhook_timeout_seconds),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )
        loop = asyncio.get_running_loop()
        last_pass = -MIN_PASS_GAP
        while not self._stopping.is_set():
            gap = last_pass + MIN_PASS_GAP - loop.time()
            if gap > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=gap)
                if self._stopping.is_set():
                    break
            self._wake.clear()
            last_pass = loop.time()
            try:
                await self.deliver_due()
                self.last_error = None
            except Exception as exc:  # a failed pass must never end the task
                self.failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("webhook delivery pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=self.settings.webhook_poll_interval
                )

    async def deliver_due(self) -> None:
        """One pass over the endpoints that have something to do."""
        head = await self._log.head()
        now = utcnow()
        # Through the log's engine: an idle worker costs the request pool nothing.
        async with self._log.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(
                        WebhookEndpoint.id,
                        WebhookEndpoint.cursor_txid,
                        WebhookEndpoint.cursor_id,
                        WebhookEndpoint.next_attempt_at,
                    ).where(
                        WebhookEndpoint.status == WebhookEndpointStatus.ACTIVE,
                        or_(
                            WebhookEndpoint.next_attempt_at.is_(None),
                            WebhookEndpoint.next_attempt_at <= now,
                        ),
                        or_(
                            WebhookEndpoint.leased_until.is_(None),
                            WebhookEndpoint.leased_until < now,
                        ),
                    )
                )
            ).all()
        due = [
            row.id
            for row in rows
            if row.next_attempt_at is not None or Cursor(row.cursor_txid, row.cursor_id) < head
        ]
        self.passes += 1
        if not due:
            return
        limit = asyncio.Semaphore(self.settings.webhook_concurrency)

        async def serve(endpoint_id: int) -> None:
            async with limit:
                try:
                    await self.serve(endpoint_id, head)
                except Exception:
                    log.exception("webhook delivery to endpoint %s failed", endpoint_id)

        await asyncio.gather(*(serve(endpoint_id) for endpoint_id in due))

    async def serve(self, endpoint_id: int, head: Cursor) -> None:
        """Deliver to one endpoint under its lease, until it is caught up or blocked."""
        if not await attempts.claim(self._sessions, endpoint_id, self.owner, self.lease):
            return
        try:
            target = await attempts.load_target(self._sessions, endpoint_id)
            while target is not None and not self._stopping.is_set():
                more = await self._serve_page(target, head)
                if not more:
                    break
                target = await attempts.load_target(self._sessions, endpoint_id)
        finally:
            await attempts.release(self._sessions, endpoint_id, self.owner)

    async def _serve_page(self, target: Target, head: Cursor) -> bool:
        """One page of events for the endpoint; True when more may follow at once."""
        event_filter = EventFilter(
            audiences=endpoint_audiences(target.organization_kind, target.organization_id),
            types=frozenset(target.event_types) if target.event_types else None,
        )
        page = await self._log.read(target.cursor, PAGE, event_filter)
        if page.records:
            # Sign with the secret as of now, after the read: a secret rotated before an event
            # was committed signs it, even when the rotation came in the middle of this pass.
            fresh = await attempts.load_target(self._sessions, target.id)
            if fresh is None:
                return False  # disabled or deleted meanwhile
            target = replace(target, url=fresh.url, secret=fresh.secret)
        position = target.cursor
        for record in page.records:
            if not wants(target.event_types, record.type):
                position = record.cursor
                continue
            delivered = await self._attempt(target, record, skipped_to=position)
            if not delivered:
                return False
            target = _moved(target, record.cursor)
            position = record.cursor
        if page.has_more:
            if position != target.cursor:
                return await attempts.advance(
                    self._sessions, target, self.owner, to=position, lease=self.lease
                )
            return True
        # Nothing else readable matches up to the head read before this page: skip to it.
        end = max(position, head)
        if end != target.cursor:
            await attempts.advance(self._sessions, target, self.owner, to=end, lease=self.lease)
        return False

    async def _attempt(self, target: Target, record: EventRecord, *, skipped_to: Cursor) -> bool:
        """POST one event; True when it was acknowledged and the cursor moved past it.

        ``skipped_to``: the position just before it (past the events the endpoint does not
        want), where a failure leaves the cursor."""
        delivery_id, tried = await attempts.pending_delivery(self._sessions, target, record)
        outcome = await self._post(target, record)
        if outcome.ok:
            WEBHOOK_DELIVERIES.labels("delivered").inc()
            return await attempts.advance(
                self._sessions,
                target,
                self.owner,
                to=record.cursor,
                lease=self.lease,
                delivered=(delivery_id, outcome),
            )
        settings = self.settings
        result = await attempts.fail(
            self._sessions,
            target,
            self.owner,
            record=record,
            skipped_to=skipped_to,
            delivery_id=delivery_id,
            attempts=tried + 1,
            outcome=outcome,
            delay=attempts.backoff(
                target.consecutive_failures + 1,
                initial=settings.webhook_retry_initial_seconds,
                maximum=settings.webhook_retry_max_seconds,
            ),
            disable_after=timedelta(seconds=settings.webhook_disable_after_seconds),
        )
        if result != "lost":
            WEBHOOK_DELIVERIES.labels("failed").inc()
        if result == "disabled":
            WEBHOOK_DELIVERIES.labels("disabled").inc()
            log.warning("webhook endpoint %s disabled: %s", target.id, outcome.describe())
        return False

    async def _post(self, target: Target, record: EventRecord) -> Outcome:
        client = self._client
        if client is None:
            return Outcome(None, "the delivery worker is stopping")
        body = event_body(record)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(target.secret, body),
            EVENT_ID_HEADER: event_id(record),
        }
        try:
            await check_destination(target.url, allow_private=self.settings.webhook_allow_private)
            async with client.stream("POST", target.url, content=body, headers=headers) as answer:
                return Outcome(answer.status_code, None)
        except AddressRefused as refused:
            return Outcome(None, f"Refused: {refused}")
        except httpx.HTTPError as exc:
            return Outcome(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)


def _moved(target: Target, cursor: Cursor) -> Target:
    """The target as it is after a delivery moved its cursor to ``cursor``."""
    return replace(target, cursor=cursor, consecutive_failures=0, failing_since=None)
