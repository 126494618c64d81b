"""API keys: an organisation's partner integration, with scopes (read, write, subscribe).

A key is ``dgk_<prefix>_<secret>``: the prefix (12 hex digits) finds the row, the secret (256
random bits) proves possession. Only the prefix and the SHA-256 of the secret are stored, and
the whole key is shown once, by createApiKey. A fast hash is enough here, unlike for
passwords: nobody can guess 256 random bits, so there is nothing for a slow hash to slow
down, and argon2 on every request would cost ~50 ms of CPU each (see docs/security.md).

A key acts as its organisation (app.auth.policy: ``permissions`` and ``decide``), appears in
the event log as ``apikey:<id>``, and stops working at the next request once revoked.
``last_used_at`` is written at most once a minute per key, not on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.policy import Permission, Scope, permissions, require
from app.auth.revocation import KEY_REVOKED, Revoked, announce, key_actor
from app.domain.actors import ANONYMOUS, Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import OrganizationKind
from app.models import ApiKey, Organization
from app.models.base import utcnow
from app.services.events import append_event, buyer_audience, client_audience
from app.services.paging import Page, paginate

log = logging.getLogger(__name__)

API_KEY_PREFIX = "dgk_"
PREFIX_HEX_DIGITS = 12
MAX_NAME = 200
TOUCH_INTERVAL = timedelta(minutes=1)
"""``last_used_at`` is at most this stale: one write per key per interval, not per request."""


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(token: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else None."""
    if not token.startswith(API_KEY_PREFIX):
        return None
    prefix, separator, secret = token[len(API_KEY_PREFIX) :].partition("_")
    if not separator or len(prefix) != PREFIX_HEX_DIGITS or not secret or len(secret) > 100:
        return None
    if any(char not in "0123456789abcdef" for char in prefix):
        return None
    return prefix, secret


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ApiKey
    token: str
    """The whole key, ``dgk_<prefix>_<secret>``: shown once, never stored."""


def _audiences(organization: Organization) -> list[str]:
    match organization.kind:
        case OrganizationKind.BUYER:
            return [buyer_audience(organization.id)]
        case OrganizationKind.CLIENT:
            return [client_audience(organization.id)]
        case _:
            return []


def _record(
    session: AsyncSession, key: ApiKey, organization: Organization, kind: str, *, actor: Actor
) -> None:
    """The key's event. Keys have no version column: created is version 1, revoked 2."""
    changes: dict[str, object] = {
        "organizationId": key.organization_id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
    }
    if key.revoked_at is not None:
        changes["revokedAt"] = key.revoked_at
    append_event(
        session,
        type=f"api_key.{kind}",
        entity_type="ApiKey",
        entity_id=key.id,
        entity_version=1 if kind == "created" else 2,
        changes=changes,
        audiences=_audiences(organization),
        actor=actor.ref,
    )


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= MAX_NAME:
        raise DomainError(
            ErrorCode.INVALID_INPUT, f"A key's name has 1 to {MAX_NAME} characters.", field="name"
        )
    return cleaned


def _clean_scopes(scopes: list[Scope]) -> list[str]:
    if not scopes:
        raise DomainError(
            ErrorCode.INVALID_INPUT, "A key needs at least one scope.", field="scopes"
        )
    return sorted({Scope(scope).value for scope in scopes})


async def create_api_key(
    sessions: async_sessionmaker[AsyncSession],
    *,
    organization_id: int,
    name: str,
    scopes: list[Scope],
    actor: Actor,
) -> CreatedKey:
    """A new key for an organisation (admins only); its secret is in the result, once."""
    require(actor, Permission.MANAGE_API_KEYS)
    cleaned_name = _clean_name(name)
    cleaned_scopes = _clean_scopes(scopes)
    prefix = secrets.token_hex(PREFIX_HEX_DIGITS // 2)
    secret = secrets.token_urlsafe(32)
    async with sessions.begin() as session:
        organization = await session.get(Organization, organization_id)
        if organization is None:
            raise DomainError(
                ErrorCode.NOT_FOUND, "No organisation has that id.", field="organizationId"
            )
        key = ApiKey(
            organization_id=organization.id,
            name=cleaned_name,
            prefix=prefix,
            secret_hash=secret_hash(secret),
            scopes=cleaned_scopes,
            created_at=utcnow(),
        )
        session.add(key)
        await session.flush()
        _record(session, key, organization, "created", actor=actor)
    return CreatedKey(key=key, token=f"{API_KEY_PREFIX}{prefix}_{secret}")


async def revoke_api_key(
    sessions: async_sessionmaker[AsyncSession], key_id: int, *, actor: Actor
) -> ApiKey:
    """Revoke a key (admins only): its next request is anonymous. Revoking again is a no-op."""
    require(actor, Permission.MANAGE_API_KEYS)
    async with sessions.begin() as session:
        key = await session.get(ApiKey, key_id, with_for_update=True, populate_existing=True)
        if key is None:
            raise DomainError(ErrorCode.NOT_FOUND, "No API key has that id.", field="id")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            await session.flush()
            organization = await session.get_one(Organization, key.organization_id)
            _record(session, key, organization, "revoked", actor=actor)
    # This process's websockets on the key close now, the other processes' at a re-check.
    announce(Revoked(sessions, KEY_REVOKED, api_key_id=key.id))
    return key


def visible_keys(actor: Actor) -> Select[ApiKey]:
    """Admins see every key; anyone else signed in, its own organisation's; keys see none."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to do this.")
    if actor.kind is ActorKind.API_KEY:
        raise DomainError(ErrorCode.FORBIDDEN, "API keys may not do this: sign in instead.")
    statement = select(ApiKey)
    if Permission.MANAGE_API_KEYS in permissions(actor):
        return statement
    return statement.where(ApiKey.organization_id == (actor.organization_id or 0))


async def list_api_keys(
    session: AsyncSession,
    *,
    actor: Actor,
    organization_id: int | None = None,
    include_revoked: bool = False,
    after: list[object] | None = None,
    limit: int,
) -> Page[ApiKey]:
    """Keys the actor may see, newest first; never their secrets (only hashes are stored)."""
    statement = visible_keys(actor)
    if organization_id is not None:
        statement = statement.where(ApiKey.organization_id == organization_id)
    if not include_revoked:
        statement = statement.where(ApiKey.revoked_at.is_(None))
    return await paginate(
        session, statement, id_column=ApiKey.id, descending=True, after=after, limit=limit
    )


async def actor_for_api_key(sessions: async_sessionmaker[AsyncSession], token: str) -> Actor:
    """The organisation's actor for a live key, else ANONYMOUS (unknown, wrong or revoked)."""
    parts = split_key(token)
    if parts is None:
        return ANONYMOUS
    prefix, secret = parts
    async with sessions() as session:
        row = (
            await session.execute(
                select(ApiKey, Organization)
                .join(Organization, Organization.id == ApiKey.organization_id)
                .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
            )
        ).first()
    if row is None:
        return ANONYMOUS
    key, organization = row
    if not hmac.compare_digest(key.secret_hash, secret_hash(secret)):
        return ANONYMOUS
    await _touch(sessions, key.id, key.last_used_at)
    return key_actor(key, organization)


async def _touch(
    sessions: async_sessionmaker[AsyncSession], key_id: int, last_used_at: datetime | None
) -> None:
    """Record the use, unless it was recorded less than TOUCH_INTERVAL ago (by any process)."""
    now = utcnow()
    cutoff = now - TOUCH_INTERVAL
    if last_used_at is not None and last_used_at > cutoff:
        return
    try:
        async with sessions.begin() as session:
            await session.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == key_id,
                    or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= cutoff),
                )
                .values(last_used_at=now)
            )
    except SQLAlchemyError:
        # Bookkeeping: a busy database must not turn a valid key away. The next use retries.
        log.warning("could not record the use of API key %s", key_id, exc_info=True)
