"""Sign-in results and the signed-in viewer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

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

strawberry.enum(Role)


@strawberry.type(description="A person who signs in.")
class User:
    id: strawberry.ID
    email: str
    name: str
    role: Role


@strawberry.type(description="Who is asking: the signed-in user and organisation, if any.")
class Viewer:
    user: User | None
    organization: Organization | None


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
