"""Order queries and mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class OrderQueries:
    pass


@strawberry.type
class OrderMutations:
    pass
