"""The request context: the process runtime, DataLoaders and who is asking."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from app.domain.actors import ANONYMOUS, Actor
from app.resolvers.loaders import Loaders
from app.runtime import Runtime


@dataclass
class Context:
    runtime: Runtime
    request: Request | WebSocket
    response: Response | WebSocket | None
    actor: Actor = ANONYMOUS
    token: str | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.runtime.reads)

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """For services that write: one transaction each."""
        return self.runtime.sessions

    @property
    def reads(self) -> async_sessionmaker[AsyncSession]:
        """For reading only (queries and loaders); never waits for SQLite's write lock."""
        return self.runtime.reads
