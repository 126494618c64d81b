"""Sign-in, sign-out and the viewer."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from app.auth import sessions as auth_sessions
from app.domain.errors import DomainError
from app.schema.auth import SignInPayload, SignInResult, User, Viewer
from app.schema.errors import error_result
from app.schema.organizations import Organization


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
        if actor.kind.value == "user" and actor.subject_id is not None:
            user_row = await info.context.loaders.user.load(actor.subject_id)
            if user_row is not None:
                user = User(
                    id=strawberry.ID(str(user_row.id)),
                    email=user_row.email,
                    name=user_row.name,
                    role=user_row.role,
                )
        return Viewer(user=user, organization=organization)


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
