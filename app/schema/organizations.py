"""Organisations as the API shows them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Self

import strawberry
from strawberry import relay

from app.schema.enums import OrganizationKind

if TYPE_CHECKING:
    from app.models import Organization as OrganizationRow


@strawberry.type(description="The refurbisher, a client that consigns devices, or a buyer.")
class Organization(relay.Node):
    id: relay.NodeID[int]
    name: str
    kind: OrganizationKind
    currency: str

    @classmethod
    def from_row(cls, row: OrganizationRow) -> Self:
        return cls(id=row.id, name=row.name, kind=OrganizationKind(row.kind), currency=row.currency)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls,
        *,
        info: strawberry.Info,
        node_ids: Iterable[str],
        required: bool = False,
    ) -> Iterable[Self | None]:
        actor = info.context.actor
        rows = await info.context.loaders.organization.load_many([int(i) for i in node_ids])
        # Operators see every organisation; anyone else only their own (a buyer never learns
        # a client's name, nor one buyer another's).
        return [
            cls.from_row(row)
            if row is not None and (actor.is_operator or actor.organization_id == row.id)
            else None
            for row in rows
        ]
