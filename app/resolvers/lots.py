"""Lot queries and mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class LotQueries:
    pass


@strawberry.type
class LotMutations:
    pass
