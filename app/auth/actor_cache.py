"""Bearer tokens resolved a moment ago, so a busy client is not looked up on every request.

``actor_for_token`` costs a database query; a client polling the board sends the same token
many times a second. The cache keeps a token's actor (or ANONYMOUS for a token that stands
for no one) for ``ttl`` seconds, keyed by the token's SHA-256, never the token itself.

What that costs in freshness, and what bounds it:

- a sign-out or key revocation in this process empties the cache at once
  (app.auth.revocation), so this process refuses the token on its next request;
- in another process, a revocation, an expiry, a deactivation or a new role is seen within
  ``ttl`` (``DEVICEGRAPH_AUTH_CACHE_SECONDS``, 2 s by default: the same bound open websockets
  have, app.web.sockets). ``0`` turns the cache off: every request asks the database.

The cache holds at most ``size`` tokens (least recently used out first).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth import revocation
from app.auth.sessions import actor_for_token, token_hash
from app.domain.actors import ANONYMOUS, Actor

DEFAULT_SIZE = 10_000


class ActorCache:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, ttl: float, size: int = DEFAULT_SIZE
    ) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[str, tuple[Actor, float]] = OrderedDict()
        self._remove_listener: Callable[[], None] | None = None
        self.lookups = 0
        """Tokens looked up in the database (for tests and benchmarks)."""

    async def actor(self, token: str | None) -> Actor:
        """The actor ``token`` stands for now (at most ``ttl`` seconds ago)."""
        if not token:
            return ANONYMOUS
        if self.ttl <= 0:
            self.lookups += 1
            return await actor_for_token(self.sessions, token)
        key = token_hash(token)
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and entry[1] > now:
            self._entries.move_to_end(key)
            return entry[0]
        self.lookups += 1
        actor = await actor_for_token(self.sessions, token)
        self._entries[key] = (actor, now + self.ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return actor

    def clear(self) -> None:
        self._entries.clear()

    # --- revocations in this process --------------------------------------------------------

    def start(self) -> None:
        if self._remove_listener is None:
            self._remove_listener = revocation.add_listener(self._on_revoked)

    def stop(self) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None

    def _on_revoked(self, revoked: revocation.Revoked) -> None:
        if revoked.sessions is self.sessions:
            self.clear()  # rare: forgetting every token is simpler than finding one
