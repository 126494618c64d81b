"""Offer queries and mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class OfferQueries:
    pass


@strawberry.type
class OfferMutations:
    pass
