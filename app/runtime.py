"""What a running app process holds: settings, the database and the broadcast channel."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import create_engine, is_sqlite
from app.pubsub.hints import make_hinting_session_class
from app.pubsub.wakeups import WakeUpChannel
from app.settings import Settings


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    wakeups: WakeUpChannel

    @classmethod
    def create(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings)
        wakeups = WakeUpChannel(settings.broadcast_url)
        notify_in_transaction = not is_sqlite(settings.database_url) and wakeups.scheme in (
            "postgres",
            "postgresql",
        )
        session_class = make_hinting_session_class(
            wakeups, notify_in_transaction=notify_in_transaction, wake_local=lambda: None
        )
        sessions = async_sessionmaker(
            engine, expire_on_commit=False, sync_session_class=session_class
        )
        return cls(settings=settings, engine=engine, sessions=sessions, wakeups=wakeups)

    async def start(self) -> None:
        await self.wakeups.start()

    async def stop(self) -> None:
        await self.wakeups.stop()
        await self.engine.dispose()
