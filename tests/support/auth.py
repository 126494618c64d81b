"""People for tests: users and their bearer tokens inserted directly, sign-in through the API,
and actors for service tests.

Sign-in itself (password check, token issue) is tested through the signIn mutation; other
tests only need someone to act as: ``person = await sign_in_as(sessions, Role.WAREHOUSE)``,
then ``graphql.as_(person)``. Service tests need no user row at all: ``operator(Role.SALES)``,
``buyer_actor(buyer)`` and ``client_actor(client_id)`` are a new person of that side each call.
Every test user has the password PASSWORD.
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
from tests.support.graphql import GraphQLClient

Sessions = async_sessionmaker[AsyncSession]

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)
_subjects = itertools.count(10_000)
"""Subject ids of actors without a user row, apart from the ids users get."""


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


def new_user(organization: Organization, role: Role) -> User:
    """A user of ``organization`` with ``role`` and password PASSWORD, not added yet."""
    return User(
        organization_id=organization.id,
        email=f"{role.value.lower()}{next(_sequence)}@people.test",
        name=f"{role.value.title()} {organization.name}",
        role=role,
        password_hash=password_hash(),
    )


def new_session(user: User, *, ttl: timedelta | None = None) -> tuple[AuthSession, str]:
    """A live session for ``user`` (flushed already) as signIn would open it, and its token."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    now = utcnow()
    row = AuthSession(
        user_id=user.id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + (ttl or timedelta(hours=1)),
    )
    return row, token


async def create_user(sessions: Sessions, organization: Organization, role: Role) -> User:
    """A user who has not signed in (no session): for tests that sign in through the API."""
    user = new_user(organization, role)
    async with sessions.begin() as session:
        session.add(user)
    return user


async def create_person(
    sessions: Sessions, organization: Organization, role: Role, *, ttl: timedelta | None = None
) -> Person:
    """A user of ``organization`` with password PASSWORD and a live session token."""
    async with sessions.begin() as session:
        user = new_user(organization, role)
        session.add(user)
        await session.flush()
        row, token = new_session(user, ttl=ttl)
        session.add(row)
    return Person(user=user, organization=organization, token=token)


async def token_for(sessions: Sessions, person: Person) -> str:
    """Another live session for ``person``: a second device signed in."""
    async with sessions.begin() as session:
        row, token = new_session(person.user)
        session.add(row)
    return token


async def create_operator(sessions: Sessions, *, name: str | None = None) -> Organization:
    return await create_organization(sessions, kind=OrganizationKind.OPERATOR, name=name)


async def sign_in_as(
    sessions: Sessions, role: Role = Role.WAREHOUSE, organization: Organization | None = None
) -> Person:
    """Someone signed in with ``role``; of a new operator organisation unless one is given."""
    if organization is None:
        organization = await create_operator(sessions)
    return await create_person(sessions, organization, role)


# --- Signing in through the API ----------------------------------------------------------


SIGN_IN = """
mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) {
    __typename
    ... on SignInPayload { token }
    ... on Error { code message }
  }
}
"""


async def sign_in(graphql: GraphQLClient, user: User) -> GraphQLClient:
    """``user`` signed in with the signIn mutation: ``graphql`` sending the token it gave."""
    result = (await graphql.data(SIGN_IN, {"email": user.email, "password": PASSWORD}))["signIn"]
    assert result["__typename"] == "SignInPayload", result
    return graphql.as_(str(result["token"]))


# --- Actors for service tests (no user row) ----------------------------------------------


def operator(role: Role = Role.SALES) -> Actor:
    return Actor(
        ActorKind.USER,
        subject_id=next(_subjects),
        organization_id=1,
        organization_kind=OrganizationKind.OPERATOR,
        role=role,
    )


def buyer_actor(buyer: Organization, role: Role = Role.BUYER) -> Actor:
    return Actor(
        ActorKind.USER,
        subject_id=next(_subjects),
        organization_id=buyer.id,
        organization_kind=OrganizationKind.BUYER,
        role=role,
    )


def client_actor(client_id: int) -> Actor:
    return Actor(
        ActorKind.USER,
        subject_id=next(_subjects),
        organization_id=client_id,
        organization_kind=OrganizationKind.CLIENT,
        role=Role.VIEWER,
    )
