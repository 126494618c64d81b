"""Sign-in, sign-out, the viewer, and API keys."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from app.auth import api_keys
from app.auth import sessions as auth_sessions
from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError
from app.models import ApiKey as ApiKeyRow
from app.resolvers.ids import parse_id
from app.schema.auth import (
    ApiKey,
    ApiKeyConnection,
    ApiKeyEdge,
    CreateApiKeyInput,
    CreateApiKeyPayload,
    CreateApiKeyResult,
    RevokeApiKeyInput,
    RevokeApiKeyPayload,
    RevokeApiKeyResult,
    SignInPayload,
    SignInResult,
    User,
    Viewer,
)
from app.schema.errors import error_result, query_error
from app.schema.organizations import Organization
from app.schema.pagination import decode_cursor, encode_cursor, page_info, page_size


async def _viewer_api_key(info: strawberry.Info, actor: Actor) -> ApiKey | None:
    if actor.kind is not ActorKind.API_KEY or actor.subject_id is None:
        return None
    row = await info.context.loaders.by_id(ApiKeyRow).load(actor.subject_id)
    return ApiKey.from_row(row) if row is not None else None


@strawberry.type
class AuthQueries:
    @strawberry.field(description="Who the request is signed in as.")
    async def viewer(self, info: strawberry.Info) -> Viewer:
        actor = info.context.actor
        organization = None
        if actor.organization_id is not None:
            row = await info.context.loaders.organization.load(actor.organization_id)
            organization = Organization.from_row(row) if row is not None else None
        user = None
        if actor.kind is ActorKind.USER and actor.subject_id is not None:
            user_row = await info.context.loaders.user.load(actor.subject_id)
            if user_row is not None:
                user = User(
                    id=strawberry.ID(str(user_row.id)),
                    email=user_row.email,
                    name=user_row.name,
                    role=user_row.role,
                )
        return Viewer(
            user=user, organization=organization, api_key=await _viewer_api_key(info, actor)
        )

    @strawberry.field(
        description="API keys, newest first, never their secrets: admins see every "
        "organisation's, anyone else signed in its own organisation's."
    )
    async def api_keys(
        self,
        info: strawberry.Info,
        organization_id: strawberry.ID | None = None,
        include_revoked: bool = False,
        first: int | None = None,
        after: str | None = None,
    ) -> ApiKeyConnection:
        try:
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            organization = parse_id(organization_id, "organizationId", type_name="Organization")
            async with info.context.sessions() as session:
                page = await api_keys.list_api_keys(
                    session,
                    actor=info.context.actor,
                    organization_id=organization,
                    include_revoked=include_revoked,
                    after=decode_cursor(after),
                    limit=limit,
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            ApiKeyEdge(cursor=encode_cursor(key), node=ApiKey.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return ApiKeyConnection(
            edges=edges,
            page_info=page_info(
                [edge.cursor for edge in edges],
                has_next=page.has_next,
                has_previous=after is not None,
            ),
            total_count=page.total,
        )


@strawberry.type
class AuthMutations:
    @strawberry.mutation(description="Exchange an email and password for a bearer token.")
    async def sign_in(self, info: strawberry.Info, email: str, password: str) -> SignInResult:
        settings = info.context.runtime.settings
        try:
            signed_in = await auth_sessions.sign_in(
                info.context.sessions,
                email,
                password,
                ttl=timedelta(hours=settings.session_ttl_hours),
            )
        except DomainError as error:
            return error_result(error)
        user = signed_in.user
        organization = await info.context.loaders.organization.load(user.organization_id)
        return SignInPayload(
            token=signed_in.token,
            expires_at=signed_in.expires_at,
            user=User(
                id=strawberry.ID(str(user.id)), email=user.email, name=user.name, role=user.role
            ),
            organization=Organization.from_row(organization),
        )

    @strawberry.mutation(description="End the session of the token this request carries.")
    async def sign_out(self, info: strawberry.Info) -> bool:
        token = info.context.token
        if token is None:
            return False
        return await auth_sessions.sign_out(info.context.sessions, token)

    @strawberry.mutation(
        description="A new API key for an organisation (admins only). The result holds the "
        "whole key once: store it, it cannot be shown again. Not idempotent: a retry makes "
        "another key (revoke the spare one)."
    )
    async def create_api_key(
        self, info: strawberry.Info, input: CreateApiKeyInput
    ) -> CreateApiKeyResult:
        try:
            organization_id = parse_id(
                input.organization_id, "organizationId", type_name="Organization"
            )
            created = await api_keys.create_api_key(
                info.context.sessions,
                organization_id=organization_id or 0,
                name=input.name,
                scopes=list(input.scopes),
                actor=info.context.actor,
            )
        except DomainError as error:
            return error_result(error)
        return CreateApiKeyPayload(api_key=ApiKey.from_row(created.key), secret=created.token)

    @strawberry.mutation(
        description="Revoke an API key (admins only): its next request is refused."
    )
    async def revoke_api_key(
        self, info: strawberry.Info, input: RevokeApiKeyInput
    ) -> RevokeApiKeyResult:
        try:
            key_id = parse_id(input.id, "id", type_name="ApiKey") or 0
            row = await api_keys.revoke_api_key(
                info.context.sessions, key_id, actor=info.context.actor
            )
        except DomainError as error:
            return error_result(error)
        return RevokeApiKeyPayload(api_key=ApiKey.from_row(row))
