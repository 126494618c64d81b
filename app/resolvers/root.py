"""The one place that assembles Query, Mutation, Subscription and the Schema."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import MaskErrors, ValidationCache
from strawberry.schema.config import StrawberryConfig

from app.auth.guard import security_extensions
from app.resolvers.auth import AuthMutations, AuthQueries
from app.resolvers.devices import DeviceMutations, DeviceQueries
from app.resolvers.events import EventQueries, EventSubscriptions
from app.resolvers.listings import ListingMutations, ListingQueries
from app.resolvers.lots import LotMutations, LotQueries
from app.resolvers.offers import OfferMutations, OfferQueries
from app.resolvers.orders import OrderMutations, OrderQueries
from app.resolvers.settlements import SettlementMutations, SettlementQueries
from app.schema.errors import PublicError
from app.schema.money import MINOR_UNITS_SCALAR, MinorUnits


@strawberry.type
class Query(
    AuthQueries,
    DeviceQueries,
    LotQueries,
    ListingQueries,
    OfferQueries,
    OrderQueries,
    SettlementQueries,
    EventQueries,
):
    node: relay.Node | None = relay.node(description="Any object by its global id.")


@strawberry.type
class Mutation(
    AuthMutations,
    DeviceMutations,
    LotMutations,
    ListingMutations,
    OfferMutations,
    OrderMutations,
    SettlementMutations,
):
    pass


@strawberry.type
class Subscription(EventSubscriptions):
    pass


def _should_mask(error: GraphQLError) -> bool:
    """Parse and validation errors and PublicErrors are for clients; anything else is a bug."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return not isinstance(original, PublicError)


def build_schema() -> strawberry.Schema:
    # Factories: each operation gets fresh extensions (the caches are module-level).
    # security_extensions guards every root field with app.auth.policy.ROOT_RULES and returns
    # the limits (depth, aliases, tokens, cached parsing; production hardening), which are
    # read from the running app's settings.
    extensions: list[Any] = [
        *security_extensions(Query, Mutation, Subscription),
        lambda: ValidationCache(maxsize=256),
        lambda: MaskErrors(should_mask_error=_should_mask, error_message="Unexpected error."),
    ]
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True, scalar_map={MinorUnits: MINOR_UNITS_SCALAR}),
        extensions=extensions,
    )


schema = build_schema()
