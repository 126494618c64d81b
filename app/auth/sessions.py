"""Sign-in with email and password: opaque bearer tokens, stored hashed, with an expiry.

``actor_for_token`` is the one door for every bearer token: a session token (``dgs_...``)
stands for its user, an API key (``dgk_...``, app.auth.api_keys) for its organisation.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.api_keys import API_KEY_PREFIX, actor_for_api_key
from app.auth.passwords import verify_password
from app.auth.revocation import SIGNED_OUT, Revoked, announce, user_actor
from app.domain.actors import ANONYMOUS, Actor
from app.domain.errors import DomainError, ErrorCode
from app.models import AuthSession, Organization, User
from app.models.base import utcnow

TOKEN_PREFIX = "dgs_"
MAX_TOKEN_LENGTH = 100


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    expires_at: datetime
    user: User


async def sign_in(
    sessions: async_sessionmaker[AsyncSession], email: str, password: str, *, ttl: timedelta
) -> SignedIn:
    """Check the password and open a session; the same refusal whatever was wrong."""
    async with sessions.begin() as session:
        user = await session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.active or not verify_password(user.password_hash, password):
            raise DomainError(ErrorCode.INVALID_CREDENTIALS, "Wrong email or password.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        session.add(
            AuthSession(
                user_id=user.id,
                token_hash=token_hash(token),
                created_at=now,
                expires_at=now + ttl,
            )
        )
    return SignedIn(token=token, expires_at=now + ttl, user=user)


async def sign_out(sessions: async_sessionmaker[AsyncSession], token: str) -> bool:
    """Revoke a session token: its next request is anonymous. An API key is not a session."""
    if not token.startswith(TOKEN_PREFIX):
        return False
    async with sessions.begin() as session:
        result = await session.execute(
            update(AuthSession)
            .where(AuthSession.token_hash == token_hash(token), AuthSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    revoked = bool(getattr(result, "rowcount", 0))
    if revoked:  # this process's websockets on the token close now, the others' at a re-check
        announce(Revoked(sessions, SIGNED_OUT, token_hash=token_hash(token)))
    return revoked


async def actor_for_token(sessions: async_sessionmaker[AsyncSession], token: str | None) -> Actor:
    """The actor a bearer token stands for, or ANONYMOUS for none, expired or revoked."""
    if token and token.startswith(API_KEY_PREFIX):
        return await actor_for_api_key(sessions, token)
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return ANONYMOUS
    async with sessions() as session:
        row = (
            await session.execute(
                select(User, Organization)
                .join(AuthSession, AuthSession.user_id == User.id)
                .join(Organization, Organization.id == User.organization_id)
                .where(
                    AuthSession.token_hash == token_hash(token),
                    AuthSession.revoked_at.is_(None),
                    AuthSession.expires_at > utcnow(),
                    User.active.is_(True),
                )
            )
        ).first()
    if row is None:
        return ANONYMOUS
    user, organization = row
    return user_actor(user, organization)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
