"""Listing queries and mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class ListingQueries:
    pass


@strawberry.type
class ListingMutations:
    pass
