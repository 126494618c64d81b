"""Send a wake-up hint when a transaction that appended events commits.

On PostgreSQL with the postgres broadcast, ``pg_notify`` is issued inside the transaction, so
PostgreSQL delivers it only at commit and never for a rollback. Otherwise the hint is published
after commit. The local process is always woken at once, without a round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from app.pubsub.wakeups import CHANNEL, WakeUpChannel
from app.services.events import EVENTS_APPENDED


def make_hinting_session_class(
    channel: WakeUpChannel, *, notify_in_transaction: bool, wake_local: Callable[[], None]
) -> type[Session]:
    """A Session subclass of this app's own, so that two apps in one process stay apart."""
    session_class: type[Session] = type("HintingSession", (Session,), {})
    background: set[asyncio.Task[None]] = set()

    @event.listens_for(session_class, "before_commit")
    def _before_commit(session: Session) -> None:
        if notify_in_transaction and session.info.get(EVENTS_APPENDED):
            session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})

    @event.listens_for(session_class, "after_commit")
    def _after_commit(session: Session) -> None:
        if not session.info.pop(EVENTS_APPENDED, False):
            return
        wake_local()
        if not notify_in_transaction:
            task = asyncio.get_running_loop().create_task(channel.publish())
            background.add(task)
            task.add_done_callback(background.discard)

    @event.listens_for(session_class, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(EVENTS_APPENDED, None)

    return session_class
