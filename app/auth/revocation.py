"""When a signed-in identity ends, and what it is now: for connections that outlive a request.

A websocket authenticates once, in ``connection_init``, and may stay open for hours. Two
things keep it honest (app.web.sockets does the closing):

- ``announce(Revoked(...))``: ``sign_out`` and ``revoke_api_key`` tell the listeners of this
  process at once, so sockets in the process that did the revoking close immediately.
- ``session_standing`` and ``key_standing``: what a set of session tokens (by hash) or API
  keys (by id) stands for now, in one query each whatever the number of sockets. Every process
  re-checks its open sockets with them every few seconds: that is how a revocation made in
  another process, an expiry, a deactivated user or a changed role reaches a socket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.domain.actors import Actor, ActorKind
from app.models import ApiKey, AuthSession, Organization, User
from app.models.base import utcnow

log = logging.getLogger(__name__)

SIGNED_OUT = "Signed out"
SESSION_EXPIRED = "Session expired"
ACCOUNT_DEACTIVATED = "Account deactivated"
KEY_REVOKED = "API key revoked"

CHUNK = 500
"""Identities per query: keeps the IN list well inside every database's parameter limit."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Revoked:
    """A session token (by hash) or an API key (by id) that has just stopped working."""

    sessions: object
    """The session factory it was revoked through: listeners ignore other databases'."""
    reason: str
    token_hash: str | None = None
    api_key_id: int | None = None


Listener = Callable[[Revoked], None]
_listeners: list[Listener] = []


def add_listener(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` for every revocation in this process; returns the remover."""
    _listeners.append(listener)

    def remove() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return remove


def announce(revoked: Revoked) -> None:
    """Tell this process's listeners (after the revocation has committed)."""
    for listener in list(_listeners):
        try:
            listener(revoked)
        except Exception:
            log.exception("a revocation listener failed")


@dataclass(frozen=True, slots=True)
class Standing:
    """What an identity is now: its actor, or None and why it ended."""

    actor: Actor | None
    reason: str = ""


def user_actor(user: User, organization: Organization) -> Actor:
    return Actor(
        ActorKind.USER,
        subject_id=user.id,
        organization_id=organization.id,
        organization_kind=organization.kind,
        role=user.role,
        name=user.name,
    )


def key_actor(key: ApiKey, organization: Organization) -> Actor:
    return Actor(
        ActorKind.API_KEY,
        subject_id=key.id,
        organization_id=organization.id,
        organization_kind=organization.kind,
        scopes=frozenset(key.scopes),
        name=key.name,
    )


def _chunks(items: Collection[T]) -> Iterator[Sequence[T]]:
    ordered = sorted(items)  # type: ignore[type-var]
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


async def session_standing(
    sessions: async_sessionmaker[AsyncSession], token_hashes: Collection[str]
) -> dict[str, Standing]:
    """Each session token's actor now, or why it no longer signs anyone in."""
    now = utcnow()
    standing = {token_hash: Standing(None, SIGNED_OUT) for token_hash in token_hashes}
    async with sessions() as session:
        for chunk in _chunks(token_hashes):
            rows = await session.execute(
                select(AuthSession, User, Organization)
                .join(User, User.id == AuthSession.user_id)
                .join(Organization, Organization.id == User.organization_id)
                .where(AuthSession.token_hash.in_(chunk))
            )
            for auth, user, organization in rows:
                if auth.revoked_at is not None:
                    continue  # SIGNED_OUT
                if auth.expires_at <= now:
                    standing[auth.token_hash] = Standing(None, SESSION_EXPIRED)
                elif not user.active:
                    standing[auth.token_hash] = Standing(None, ACCOUNT_DEACTIVATED)
                else:
                    standing[auth.token_hash] = Standing(user_actor(user, organization))
    return standing


async def key_standing(
    sessions: async_sessionmaker[AsyncSession], key_ids: Collection[int]
) -> dict[int, Standing]:
    """Each API key's actor now, or KEY_REVOKED."""
    standing = {key_id: Standing(None, KEY_REVOKED) for key_id in key_ids}
    async with sessions() as session:
        for chunk in _chunks(key_ids):
            rows = await session.execute(
                select(ApiKey, Organization)
                .join(Organization, Organization.id == ApiKey.organization_id)
                .where(ApiKey.id.in_(chunk), ApiKey.revoked_at.is_(None))
            )
            for key, organization in rows:
                standing[key.id] = Standing(key_actor(key, organization))
    return standing
