"""Who is acting: a signed-in user, an organisation's API key, the system, or nobody."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.statuses import OrganizationKind, Role


class ActorKind(StrEnum):
    USER = "user"
    API_KEY = "apikey"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    subject_id: int | None = None
    organization_id: int | None = None
    organization_kind: OrganizationKind | None = None
    role: Role | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None

    @property
    def ref(self) -> str:
        """How the event log names this actor, e.g. ``user:12`` or ``system:expiry``."""
        if self.kind is ActorKind.SYSTEM:
            return f"system:{self.name or 'task'}"
        if self.subject_id is None:
            return self.kind.value
        return f"{self.kind.value}:{self.subject_id}"

    @property
    def is_operator(self) -> bool:
        return self.kind is ActorKind.SYSTEM or self.organization_kind is OrganizationKind.OPERATOR

    @property
    def is_buyer(self) -> bool:
        return self.organization_kind is OrganizationKind.BUYER

    @property
    def is_client(self) -> bool:
        return self.organization_kind is OrganizationKind.CLIENT


ANONYMOUS = Actor(ActorKind.ANONYMOUS)


def system(name: str) -> Actor:
    return Actor(ActorKind.SYSTEM, name=name)
