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
        rows = await info.context.loaders.organization.load_many([int(i) for i in node_ids])
        return [cls.from_row(row) if row is not None else None for row in rows]
