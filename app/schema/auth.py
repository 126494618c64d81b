"""Sign-in results, the signed-in viewer, and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay

from app.auth.policy import Scope
from app.domain.statuses import Role
from app.schema.errors import (
    DuplicateDeviceError,
    ForbiddenError,
    InvalidInputError,
    InvalidTransitionError,
    NotAvailableError,
    NotFoundError,
    StaleError,
)
from app.schema.organizations import Organization

if TYPE_CHECKING:
    from app.models import ApiKey as ApiKeyRow

strawberry.enum(Role)


@strawberry.type(description="A person who signs in.")
class User:
    id: strawberry.ID
    email: str
    name: str
    role: Role


@strawberry.type(
    description="Who is asking: the signed-in user, or the API key, and its organisation."
)
class Viewer:
    user: User | None
    organization: Organization | None
    api_key: ApiKey | None = strawberry.field(
        default=None, description="The API key the request is made with, if it is one."
    )


@strawberry.type
class SignInPayload:
    token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: datetime
    user: User
    organization: Organization


SignInResult = Annotated[
    SignInPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("SignInResult"),
]


# --- API keys ------------------------------------------------------------------------------

strawberry.enum(
    Scope,
    name="ApiKeyScope",
    description="READ: queries; WRITE: mutations; SUBSCRIBE: subscriptions.",
)


@strawberry.type(
    description="An organisation's key for its own systems: send `Authorization: Bearer "
    "dgk_...`. It acts as its organisation, within its scopes. Its secret is shown once, by "
    "createApiKey, and never again."
)
class ApiKey:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(
        description="How the key starts (`dgk_<prefix>_`): to tell keys apart."
    )
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="The last request made with it, at most a minute stale."
    )
    revoked_at: datetime | None
    organization_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> Self:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            prefix=row.prefix,
            scopes=[Scope(scope) for scope in row.scopes],
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
            organization_id=row.organization_id,
        )

    @strawberry.field(description="The organisation the key acts for.")
    async def organization(self, info: strawberry.Info) -> Organization | None:
        row = await info.context.loaders.organization.load(self.organization_id)
        return Organization.from_row(row) if row is not None else None


@strawberry.type
class ApiKeyEdge:
    cursor: str
    node: ApiKey


@strawberry.type(description="API keys, newest first.")
class ApiKeyConnection:
    edges: list[ApiKeyEdge]
    page_info: relay.PageInfo
    total_count: int = strawberry.field(description="How many keys match.")


@strawberry.input(description="A new key for an organisation (admins only).")
class CreateApiKeyInput:
    organization_id: strawberry.ID
    name: str = strawberry.field(description="What the key is for, e.g. the partner's system.")
    scopes: list[Scope] = strawberry.field(description="At least one.")


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey
    secret: str = strawberry.field(
        description="The whole key, `dgk_<prefix>_<secret>`: shown this once, never again."
    )


@strawberry.input(description="Revoke a key: its next request is refused. Revoking twice is fine.")
class RevokeApiKeyInput:
    id: strawberry.ID


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey


CreateApiKeyResult = Annotated[
    CreateApiKeyPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("CreateApiKeyResult"),
]
RevokeApiKeyResult = Annotated[
    RevokeApiKeyPayload
    | InvalidInputError
    | DuplicateDeviceError
    | NotFoundError
    | InvalidTransitionError
    | NotAvailableError
    | StaleError
    | ForbiddenError,
    strawberry.union("RevokeApiKeyResult"),
]
