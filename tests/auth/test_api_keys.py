"""API keys in the service layer, on SQLite and PostgreSQL: the secret, the actor, the touch."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.api_keys import (
    API_KEY_PREFIX,
    actor_for_api_key,
    create_api_key,
    list_api_keys,
    revoke_api_key,
    split_key,
)
from app.auth.policy import Scope
from app.auth.sessions import actor_for_token
from app.domain.actors import ANONYMOUS, Actor, ActorKind, system
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import OrganizationKind, Role
from app.models import ApiKey, Event, Organization
from app.models.base import utcnow
from tests.support.factories import create_buyer, create_client, create_organization

Sessions = async_sessionmaker[AsyncSession]
ADMIN = Actor(ActorKind.USER, 1, 1, OrganizationKind.OPERATOR, Role.ADMIN)


def member(organization: Organization, role: Role = Role.VIEWER) -> Actor:
    return Actor(ActorKind.USER, 2, organization.id, organization.kind, role)


async def counts(sessions: Sessions) -> tuple[int, int]:
    async with sessions() as session:
        keys = await session.scalar(select(func.count()).select_from(ApiKey))
        events = await session.scalar(select(func.count()).select_from(Event))
    return int(keys or 0), int(events or 0)


async def test_a_key_is_shown_once_and_stored_as_a_prefix_and_a_hash(sessions: Sessions) -> None:
    client = await create_client(sessions)
    created = await create_api_key(
        sessions, organization_id=client.id, name=" ERP ", scopes=[Scope.READ], actor=ADMIN
    )
    parts = split_key(created.token)
    assert parts is not None
    prefix, secret = parts
    assert created.token == f"{API_KEY_PREFIX}{prefix}_{secret}"
    assert len(secret) >= 43  # 256 random bits
    async with sessions() as session:
        row = await session.get_one(ApiKey, created.key.id)
    assert (row.name, row.prefix, row.scopes) == ("ERP", prefix, ["read"])
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (row.name, row.prefix, row.secret_hash)
    assert (row.last_used_at, row.revoked_at) == (None, None)

    async with sessions() as session:
        [event] = (
            await session.scalars(select(Event).where(Event.type == "api_key.created"))
        ).all()
    assert (event.entity_type, event.entity_id, event.entity_version) == ("ApiKey", row.id, 1)
    assert sorted(event.audiences) == ["client:" + str(client.id), "operator"]
    assert secret not in str(event.changes)
    assert row.secret_hash not in str(event.changes)
    assert event.changes["scopes"] == ["read"]


async def test_the_key_stands_for_its_organisation(sessions: Sessions) -> None:
    buyer = await create_buyer(sessions)
    created = await create_api_key(
        sessions,
        organization_id=buyer.id,
        name="shop",
        scopes=[Scope.WRITE, Scope.READ, Scope.READ],
        actor=ADMIN,
    )
    actor = await actor_for_token(sessions, created.token)
    assert actor == Actor(
        ActorKind.API_KEY,
        subject_id=created.key.id,
        organization_id=buyer.id,
        organization_kind=OrganizationKind.BUYER,
        scopes=frozenset({"read", "write"}),
        name="shop",
    )
    assert actor.ref == f"apikey:{created.key.id}"
    prefix, secret = split_key(created.token) or ("", "")
    for wrong in (
        f"{API_KEY_PREFIX}{prefix}_{secret}x",
        f"{API_KEY_PREFIX}{'0' * 12}_{secret}",
        f"{API_KEY_PREFIX}{prefix}",
        f"{API_KEY_PREFIX}A{prefix[1:]}_{secret}",  # upper case is not the prefix
        API_KEY_PREFIX,
        "dgk_" + "x" * 500,
    ):
        assert await actor_for_api_key(sessions, wrong) == ANONYMOUS, wrong


async def test_last_use_is_written_at_most_once_a_minute(sessions: Sessions) -> None:
    client = await create_client(sessions)
    created = await create_api_key(
        sessions, organization_id=client.id, name="k", scopes=[Scope.READ], actor=ADMIN
    )

    async def last_used() -> datetime | None:
        async with sessions() as session:
            return (await session.get_one(ApiKey, created.key.id)).last_used_at

    await actor_for_api_key(sessions, created.token)
    first = await last_used()
    assert first is not None
    await actor_for_api_key(sessions, created.token)
    assert await last_used() == first  # within the minute: no write

    long_ago = utcnow() - timedelta(minutes=5)
    async with sessions.begin() as session:
        await session.execute(
            update(ApiKey).where(ApiKey.id == created.key.id).values(last_used_at=long_ago)
        )
    await actor_for_api_key(sessions, created.token)
    later = await last_used()
    assert later is not None
    assert later > long_ago + timedelta(minutes=4)


async def test_revoked_keys_stop_at_once_and_revoking_again_changes_nothing(
    sessions: Sessions,
) -> None:
    client = await create_client(sessions)
    created = await create_api_key(
        sessions, organization_id=client.id, name="k", scopes=[Scope.READ], actor=ADMIN
    )
    assert (await actor_for_token(sessions, created.token)).kind is ActorKind.API_KEY
    revoked = await revoke_api_key(sessions, created.key.id, actor=ADMIN)
    assert revoked.revoked_at is not None
    assert await actor_for_token(sessions, created.token) == ANONYMOUS
    before = await counts(sessions)
    again = await revoke_api_key(sessions, created.key.id, actor=ADMIN)
    assert again.revoked_at == revoked.revoked_at
    assert await counts(sessions) == before
    async with sessions() as session:
        types = (await session.scalars(select(Event.type).order_by(Event.id))).all()
    assert types == ["api_key.created", "api_key.revoked"]


@pytest.mark.parametrize(
    ("who", "code"),
    [
        pytest.param(ANONYMOUS, ErrorCode.UNAUTHENTICATED, id="anonymous"),
        pytest.param(
            Actor(ActorKind.USER, 3, 1, OrganizationKind.OPERATOR, Role.SALES),
            ErrorCode.FORBIDDEN,
            id="sales",
        ),
        pytest.param(
            Actor(
                ActorKind.API_KEY,
                4,
                1,
                OrganizationKind.OPERATOR,
                scopes=frozenset({"read", "write"}),
            ),
            ErrorCode.FORBIDDEN,
            id="operator-key",
        ),
    ],
)
async def test_only_admins_make_and_revoke_keys(
    sessions: Sessions, who: Actor, code: ErrorCode
) -> None:
    client = await create_client(sessions)
    created = await create_api_key(
        sessions, organization_id=client.id, name="k", scopes=[Scope.READ], actor=ADMIN
    )
    before = await counts(sessions)
    with pytest.raises(DomainError) as refused:
        await create_api_key(
            sessions, organization_id=client.id, name="k2", scopes=[Scope.READ], actor=who
        )
    assert refused.value.code is code
    with pytest.raises(DomainError) as refused:
        await revoke_api_key(sessions, created.key.id, actor=who)
    assert refused.value.code is code
    assert await counts(sessions) == before


@pytest.mark.parametrize(
    ("name", "scopes", "organization", "code", "field"),
    [
        pytest.param("  ", [Scope.READ], None, ErrorCode.INVALID_INPUT, "name", id="blank"),
        pytest.param("x" * 201, [Scope.READ], None, ErrorCode.INVALID_INPUT, "name", id="long"),
        pytest.param("k", [], None, ErrorCode.INVALID_INPUT, "scopes", id="no-scope"),
        pytest.param(
            "k", [Scope.READ], 999_999, ErrorCode.NOT_FOUND, "organizationId", id="no-org"
        ),
    ],
)
async def test_bad_input_writes_nothing(
    sessions: Sessions,
    name: str,
    scopes: list[Scope],
    organization: int | None,
    code: ErrorCode,
    field: str,
) -> None:
    client = await create_client(sessions)
    before = await counts(sessions)
    with pytest.raises(DomainError) as refused:
        await create_api_key(
            sessions,
            organization_id=organization or client.id,
            name=name,
            scopes=scopes,
            actor=ADMIN,
        )
    assert (refused.value.code, refused.value.facts["field"]) == (code, field)
    assert await counts(sessions) == before
    with pytest.raises(DomainError) as missing:
        await revoke_api_key(sessions, 999_999, actor=ADMIN)
    assert missing.value.code is ErrorCode.NOT_FOUND


async def test_who_sees_which_keys(sessions: Sessions) -> None:
    operator = await create_organization(sessions, kind=OrganizationKind.OPERATOR)
    client = await create_client(sessions)
    buyer = await create_buyer(sessions)
    made = system("test")
    ids = {}
    for organization in (operator, client, buyer):
        created = await create_api_key(
            sessions, organization_id=organization.id, name="k", scopes=[Scope.READ], actor=made
        )
        ids[organization.id] = created.key.id
    await revoke_api_key(sessions, ids[buyer.id], actor=made)

    async def seen(actor: Actor, **options: object) -> list[int]:
        async with sessions() as session:
            page = await list_api_keys(session, actor=actor, limit=10, **options)  # type: ignore[arg-type]
        return [row.id for row in page.rows]

    assert await seen(ADMIN) == [ids[client.id], ids[operator.id]]  # newest first, live only
    assert await seen(ADMIN, include_revoked=True) == sorted(ids.values(), reverse=True)
    assert await seen(ADMIN, organization_id=client.id) == [ids[client.id]]
    assert await seen(member(client)) == [ids[client.id]]
    assert await seen(member(client), organization_id=buyer.id) == []
    assert await seen(member(buyer, Role.BUYER), include_revoked=True) == [ids[buyer.id]]
    assert await seen(member(operator, Role.SALES)) == [ids[operator.id]]
    with pytest.raises(DomainError) as refused:
        await seen(ANONYMOUS)
    assert refused.value.code is ErrorCode.UNAUTHENTICATED
    a_key = Actor(ActorKind.API_KEY, 9, client.id, client.kind, scopes=frozenset({"read"}))
    with pytest.raises(DomainError) as refused:
        await seen(a_key)
    assert refused.value.code is ErrorCode.FORBIDDEN
