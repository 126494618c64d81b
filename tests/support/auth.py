"""Signed-in people for API tests: a user with a live bearer token, inserted directly.

Sign-in itself (password check, token issue) is tested through the signIn mutation; other
tests only need someone to act as: ``person = await sign_in_as(sessions, Role.WAREHOUSE)``,
then ``graphql.as_(person)``.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.sessions import TOKEN_PREFIX, token_hash
from app.domain.actors import Actor, ActorKind
from app.domain.statuses import OrganizationKind, Role
from app.models import AuthSession, Organization, User
from app.models.base import utcnow
from tests.support.factories import create_organization

Sessions = async_sessionmaker[AsyncSession]

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


@cache
def password_hash() -> str:
    """One cheap argon2 hash for every test user (verify() reads its parameters from it)."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


@dataclass(frozen=True, slots=True)
class Person:
    user: User
    organization: Organization
    token: str

    @property
    def email(self) -> str:
        return self.user.email

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def actor(self) -> Actor:
        return Actor(
            ActorKind.USER,
            subject_id=self.user.id,
            organization_id=self.organization.id,
            organization_kind=self.organization.kind,
            role=self.user.role,
            name=self.user.name,
        )


async def create_person(
    sessions: Sessions, organization: Organization, role: Role, *, ttl: timedelta | None = None
) -> Person:
    """A user of ``organization`` with password PASSWORD and a live session token."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    now = utcnow()
    async with sessions.begin() as session:
        user = User(
            organization_id=organization.id,
            email=f"{role.value.lower()}{next(_sequence)}@people.test",
            name=f"{role.value.title()} {organization.name}",
            role=role,
            password_hash=password_hash(),
        )
        session.add(user)
        await session.flush()
        session.add(
            AuthSession(
                user_id=user.id,
                token_hash=token_hash(token),
                created_at=now,
                expires_at=now + (ttl or timedelta(hours=1)),
            )
        )
    return Person(user=user, organization=organization, token=token)


async def create_operator(sessions: Sessions, *, name: str | None = None) -> Organization:
    return await create_organization(sessions, kind=OrganizationKind.OPERATOR, name=name)


async def sign_in_as(
    sessions: Sessions, role: Role = Role.WAREHOUSE, organization: Organization | None = None
) -> Person:
    """Someone signed in with ``role``; of a new operator organisation unless one is given."""
    if organization is None:
        organization = await create_operator(sessions)
    return await create_person(sessions, organization, role)
