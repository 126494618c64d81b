"""The one place that assembles Query, Mutation, Subscription and the Schema."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay
from strawberry.extensions import ValidationCache
from strawberry.schema.config import StrawberryConfig

from app.auth.guard import security_extensions
from app.observability.graphql import ObservedSchema, OperationObserver, observe_mutations
from app.resolvers.auth import AuthMutations, AuthQueries
from app.resolvers.devices import DeviceMutations, DeviceQueries
from app.resolvers.events import EventQueries, EventSubscriptions
from app.resolvers.listings import ListingMutations, ListingQueries
from app.resolvers.live_subscriptions import LiveSubscriptions
from app.resolvers.lots import LotMutations, LotQueries
from app.resolvers.masking import MaskUnexpectedErrors
from app.resolvers.offers import OfferMutations, OfferQueries
from app.resolvers.orders import OrderMutations, OrderQueries
from app.resolvers.render_scope import subscription_render_groups
from app.resolvers.settlements import SettlementMutations, SettlementQueries
from app.resolvers.webhooks import WebhookMutations, WebhookQueries
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
    WebhookQueries,
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
    WebhookMutations,
):
    pass


@strawberry.type
class Subscription(EventSubscriptions, LiveSubscriptions):
    pass


def build_schema() -> strawberry.Schema:
    # Factories: each operation gets fresh extensions (the caches are module-level).
    # security_extensions guards every root field with app.auth.policy.ROOT_RULES and returns
    # the limits (depth, aliases, tokens, cached parsing; production hardening), which are
    # read from the running app's settings.
    extensions: list[Any] = [
        *security_extensions(Query, Mutation, Subscription),
        lambda: ValidationCache(maxsize=256),
        MaskUnexpectedErrors,
        OperationObserver,
    ]
    # After the guard: mutations are timed and counted by result, refusals included.
    observe_mutations(Mutation)
    return ObservedSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(auto_camel_case=True, scalar_map={MinorUnits: MINOR_UNITS_SCALAR}),
        extensions=extensions,
        # Subscription values render once per group of alike subscribers (app.pubsub.render).
        execution_context_class=subscription_render_groups().executor_class,
    )


schema = build_schema()
