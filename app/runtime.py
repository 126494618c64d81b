"""What a running app process holds: settings, the database, the broadcast channel, and live
delivery (the event log reader, the tail task and the hub)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth.actor_cache import ActorCache
from app.db import create_engine, create_read_session_factory, is_sqlite
from app.pubsub.hints import make_hinting_session_class
from app.pubsub.hub import Hub
from app.pubsub.log import EventLog, create_log_engine
from app.pubsub.tail import EventTail
from app.pubsub.wakeups import WakeUpChannel
from app.settings import Settings


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    reads: async_sessionmaker[AsyncSession]
    wakeups: WakeUpChannel
    event_log: EventLog
    hub: Hub
    tail: EventTail
    actors: ActorCache
    """Bearer tokens resolved in the last ``auth_cache_seconds``."""
    change_listeners: list[Callable[[], None]]
    """Called when anything changed: this process committed events (before the mutation
    answers), or the tail handed events to the hub (e.g. to empty a cache of answers)."""

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings)
        wakeups = WakeUpChannel(settings.broadcast_url)
        event_log = EventLog(create_log_engine(settings, engine))
        hub = Hub(queue_max=settings.subscriber_queue_max)
        tail = EventTail(
            event_log,
            hub,
            poll_interval=settings.event_poll_interval,
            batch_size=settings.event_batch_size,
        )
        wakeups.add_listener(lambda _hint: tail.wake())
        change_listeners: list[Callable[[], None]] = []

        def changed(*_: object) -> None:
            for listener in change_listeners:
                listener()

        hub.listeners.append(changed)  # changes committed anywhere, as the tail reads them

        def committed_here() -> None:  # before the mutation answers: read your own writes
            changed()
            tail.wake()

        notify_in_transaction = not is_sqlite(settings.database_url) and wakeups.scheme in (
            "postgres",
            "postgresql",
        )
        session_class = make_hinting_session_class(
            wakeups, notify_in_transaction=notify_in_transaction, wake_local=committed_here
        )
        sessions = async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=session_class
        )
        return cls(
            actors=ActorCache(sessions, ttl=settings.auth_cache_seconds),
            change_listeners=change_listeners,
            settings=settings,
            engine=engine,
            sessions=sessions,
            reads=create_read_session_factory(engine),
            wakeups=wakeups,
            event_log=event_log,
            hub=hub,
            tail=tail,
        )

    async def start(self) -> None:
        self.actors.start()
        await self.tail.start()
        await self.wakeups.start(ready_timeout=self.settings.broadcast_ready_timeout)

    async def stop(self) -> None:
        self.actors.stop()
        await self.tail.stop()
        self.hub.close()
        await self.wakeups.stop()
        if self.event_log.engine is not self.engine:
            await self.event_log.engine.dispose()
        await self.engine.dispose()
