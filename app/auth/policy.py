"""Who may do what: DOMAIN.md's table of parties and roles, as data.

Two layers, both here:

- ``permissions(actor)``: what a signed-in role (or an organisation's API key) may do, as
  Permission values. Services and resolvers call ``require(actor, Permission.X)``.
- ``ROOT_RULES``: one rule for EVERY root field of Query, Mutation and Subscription, keyed by
  its schema coordinate (``"Mutation.buyListings"``). app.auth.guard enforces it before any
  resolver runs; tests/api/test_permissions.py fails for a root field without a rule, and
  calls every field as every role to check the table against what the API does.

``FIELD_VISIBILITY`` documents the fields of types that are nulled (or filtered) for those who
may not see them; their resolvers apply it, and the matrix test checks it per role.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.actors import Actor, ActorKind
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import OrganizationKind, Role


class Permission(StrEnum):
    RECEIVE_DEVICES = "receive_devices"
    GRADE_DEVICES = "grade_devices"
    MANAGE_LOTS = "manage_lots"
    SHIP_ORDERS = "ship_orders"
    MANAGE_LISTINGS = "manage_listings"
    ANSWER_OFFERS = "answer_offers"
    MANAGE_ORDERS = "manage_orders"
    SETTLE = "settle"
    MAKE_OFFERS = "make_offers"
    BUY = "buy"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_WEBHOOKS = "manage_webhooks"


class Scope(StrEnum):
    """What an API key may be used for; stored in lower case on the key."""

    READ = "read"
    WRITE = "write"
    SUBSCRIBE = "subscribe"


_OPERATOR_ROLES: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.WAREHOUSE: frozenset(
        {
            Permission.RECEIVE_DEVICES,
            Permission.GRADE_DEVICES,
            Permission.MANAGE_LOTS,
            Permission.SHIP_ORDERS,
        }
    ),
    Role.SALES: frozenset(
        {Permission.MANAGE_LISTINGS, Permission.ANSWER_OFFERS, Permission.MANAGE_ORDERS}
    ),
    Role.FINANCE: frozenset({Permission.SETTLE, Permission.MANAGE_ORDERS}),
    Role.VIEWER: frozenset(),
}
_BUYER = frozenset({Permission.MAKE_OFFERS, Permission.BUY})
_OPERATOR_ONLY = frozenset(Permission) - _BUYER
_PEOPLE_ONLY = frozenset({Permission.MANAGE_API_KEYS})
"""Never granted to an API key: keys do not manage keys (or, later, users)."""


def permissions(actor: Actor) -> frozenset[Permission]:
    if actor.kind is ActorKind.SYSTEM:
        return frozenset(Permission)
    if actor.kind is ActorKind.API_KEY:
        return _api_key_permissions(actor)
    if actor.kind is ActorKind.ANONYMOUS or actor.role is None:
        return frozenset()
    match actor.organization_kind:
        case OrganizationKind.OPERATOR:
            return _OPERATOR_ROLES.get(actor.role, frozenset()) & _OPERATOR_ONLY
        case OrganizationKind.BUYER:
            return _BUYER if actor.role is Role.BUYER else frozenset()
        case _:
            return frozenset()


def _api_key_permissions(actor: Actor) -> frozenset[Permission]:
    """A key acts for its organisation: what an admin (operator) or a buyer may do, if WRITE.

    An operator's key is an integration of the refurbisher's own systems: it may do what an
    admin does except manage keys. A buyer's key may offer and buy. A client's key only reads.
    """
    if Scope.WRITE.value not in actor.scopes:
        return frozenset()
    match actor.organization_kind:
        case OrganizationKind.OPERATOR:
            return _OPERATOR_ONLY - _PEOPLE_ONLY
        case OrganizationKind.BUYER:
            return _BUYER
        case _:
            return frozenset()


def require(actor: Actor, permission: Permission) -> None:
    """Refuse with UNAUTHENTICATED when nobody signed in, FORBIDDEN when the role lacks it."""
    if actor.kind is ActorKind.ANONYMOUS:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to do this.")
    if permission not in permissions(actor):
        raise DomainError(
            ErrorCode.FORBIDDEN, "Your role does not allow this.", permission=permission.value
        )


# --- Root fields ---------------------------------------------------------------------------


OPERATORS = frozenset({OrganizationKind.OPERATOR})
OPERATORS_AND_CLIENTS = frozenset({OrganizationKind.OPERATOR, OrganizationKind.CLIENT})
OPERATORS_AND_BUYERS = frozenset({OrganizationKind.OPERATOR, OrganizationKind.BUYER})

SCOPE_OF_OPERATION = {"Query": Scope.READ, "Mutation": Scope.WRITE, "Subscription": Scope.SUBSCRIBE}
"""The scope an API key needs for a root field, by the type the field is on."""


@dataclass(frozen=True, slots=True)
class Rule:
    """Who may call one root field; rows are then narrowed by the services (visibility).

    - an API key always needs the scope of the operation type (READ for a Query field,
      WRITE for a Mutation, SUBSCRIBE for a Subscription);
    - ``public``: anyone, signed in or not; otherwise someone signed in;
    - ``organizations``: only members (and keys) of these organisation kinds;
    - ``any_of``: at least one of these permissions (a buyer's or the operator's side);
    - ``people_only``: API keys are refused;
    - ``partners``: members (and keys) of these organisation kinds pass without ``any_of``
      (what they act on is then their own organisation's).
    """

    public: bool = False
    organizations: frozenset[OrganizationKind] | None = None
    any_of: frozenset[Permission] = frozenset()
    people_only: bool = False
    partners: frozenset[OrganizationKind] = frozenset()

    def describe(self) -> str:
        if self.public:
            return "anyone"
        parts = ["signed in"]
        if self.organizations is not None:
            parts.append(" or ".join(sorted(kind.value.lower() for kind in self.organizations)))
        if self.any_of:
            partners = sorted(f"a {kind.value.lower()}" for kind in self.partners)
            parts.append(" or ".join([*sorted(p.value for p in self.any_of), *partners]))
        if self.people_only:
            parts.append("no API keys")
        return ", ".join(parts)


PUBLIC = Rule(public=True)
SIGNED_IN = Rule()


def needs(*permissions: Permission, people_only: bool = False) -> Rule:
    return Rule(any_of=frozenset(permissions), people_only=people_only)


def members_of(organizations: frozenset[OrganizationKind]) -> Rule:
    return Rule(organizations=organizations)


WEBHOOKS = Rule(
    any_of=frozenset({Permission.MANAGE_WEBHOOKS}),
    partners=frozenset({OrganizationKind.BUYER, OrganizationKind.CLIENT}),
)
"""Admins (and operator keys) for any organisation; a buyer or client for its own."""

NEGOTIATE = needs(Permission.MAKE_OFFERS, Permission.ANSWER_OFFERS)
"""A buyer with MAKE_OFFERS, or the seller's side with ANSWER_OFFERS."""

ROOT_RULES: dict[str, Rule] = {
    # --- Query: row visibility narrows further in the services ---
    "Query.viewer": PUBLIC,
    "Query.node": PUBLIC,  # each type's resolve_nodes applies its visibility (null if hidden)
    "Query.device": SIGNED_IN,  # a buyer's look-up is null: buyers see devices via listings
    "Query.devices": members_of(OPERATORS_AND_CLIENTS),
    "Query.lot": members_of(OPERATORS_AND_CLIENTS),
    "Query.lots": members_of(OPERATORS_AND_CLIENTS),
    "Query.listing": SIGNED_IN,
    "Query.listings": SIGNED_IN,
    "Query.offer": members_of(OPERATORS_AND_BUYERS),
    "Query.offers": members_of(OPERATORS_AND_BUYERS),
    "Query.order": members_of(OPERATORS_AND_BUYERS),
    "Query.orders": members_of(OPERATORS_AND_BUYERS),
    "Query.shipment": members_of(OPERATORS_AND_BUYERS),
    "Query.shipments": members_of(OPERATORS_AND_BUYERS),
    "Query.settlement": members_of(OPERATORS_AND_CLIENTS),
    "Query.settlements": members_of(OPERATORS_AND_CLIENTS),
    "Query.events": SIGNED_IN,
    "Query.apiKeys": Rule(people_only=True),  # admins: every key; others: their organisation's
    "Query.webhookEndpoints": WEBHOOKS,  # admins: every endpoint; partners: their own
    "Query.webhookDeliveries": WEBHOOKS,
    # --- Mutation ---
    "Mutation.signIn": PUBLIC,
    "Mutation.signOut": PUBLIC,  # false when the request carries no session token
    "Mutation.createApiKey": needs(Permission.MANAGE_API_KEYS, people_only=True),
    "Mutation.revokeApiKey": needs(Permission.MANAGE_API_KEYS, people_only=True),
    "Mutation.receiveDevice": needs(Permission.RECEIVE_DEVICES),
    "Mutation.recordGrade": needs(Permission.GRADE_DEVICES),
    "Mutation.quarantineDevice": needs(Permission.GRADE_DEVICES),
    "Mutation.clearQuarantine": needs(Permission.GRADE_DEVICES),
    "Mutation.createLot": needs(Permission.MANAGE_LOTS),
    "Mutation.receiveLot": needs(Permission.RECEIVE_DEVICES),
    "Mutation.reconcileLot": needs(Permission.MANAGE_LOTS),
    "Mutation.closeLot": needs(Permission.MANAGE_LOTS),
    "Mutation.createListing": needs(Permission.MANAGE_LISTINGS),
    "Mutation.publishListing": needs(Permission.MANAGE_LISTINGS),
    "Mutation.pauseListing": needs(Permission.MANAGE_LISTINGS),
    "Mutation.repriceListing": needs(Permission.MANAGE_LISTINGS),
    "Mutation.withdrawListing": needs(Permission.MANAGE_LISTINGS),
    "Mutation.makeOffer": needs(Permission.MAKE_OFFERS),
    "Mutation.counterOffer": NEGOTIATE,
    "Mutation.acceptOffer": NEGOTIATE,
    "Mutation.rejectOffer": NEGOTIATE,
    "Mutation.withdrawOffer": NEGOTIATE,
    "Mutation.buyListings": needs(Permission.BUY),
    "Mutation.confirmOrder": needs(Permission.MANAGE_ORDERS),
    "Mutation.cancelOrder": needs(Permission.BUY, Permission.MANAGE_ORDERS),  # buyer: own only
    "Mutation.shipOrder": needs(Permission.SHIP_ORDERS),
    "Mutation.markDelivered": needs(Permission.SHIP_ORDERS),
    "Mutation.reportShipmentException": needs(Permission.SHIP_ORDERS),
    "Mutation.completeOrder": needs(Permission.MANAGE_ORDERS),
    "Mutation.generateSettlement": needs(Permission.SETTLE),
    "Mutation.approveSettlement": needs(Permission.SETTLE),
    "Mutation.paySettlement": needs(Permission.SETTLE),
    "Mutation.voidSettlement": needs(Permission.SETTLE),
    "Mutation.registerWebhookEndpoint": WEBHOOKS,
    "Mutation.updateWebhookEndpoint": WEBHOOKS,
    "Mutation.disableWebhookEndpoint": WEBHOOKS,
    "Mutation.enableWebhookEndpoint": WEBHOOKS,
    "Mutation.replayWebhookEndpoint": WEBHOOKS,
    "Mutation.rotateWebhookSecret": WEBHOOKS,
    # --- Subscription: the hub checks each event's audiences again ---
    "Subscription.events": SIGNED_IN,
    "Subscription.listingBoard": SIGNED_IN,  # buyers and clients: ACTIVE listings only
    "Subscription.order": members_of(OPERATORS_AND_BUYERS),  # a buyer: its own
    "Subscription.device": members_of(OPERATORS_AND_CLIENTS),  # a client: its own
    "Subscription.offers": members_of(OPERATORS_AND_BUYERS),  # a buyer: its own negotiations
    "Subscription.settlements": members_of(OPERATORS_AND_CLIENTS),  # a client: its own
}


def decide(actor: Actor, coordinate: str) -> DomainError | None:
    """None when ``actor`` may call the root field ``coordinate``; else the refusal.

    A field without a rule is refused: a new field is closed until it is given one.
    """
    rule = ROOT_RULES.get(coordinate)
    if rule is None:
        return DomainError(
            ErrorCode.FORBIDDEN,
            f"{coordinate} has no permission rule yet.",
            coordinate=coordinate,
        )
    if actor.kind is ActorKind.SYSTEM:
        return None
    if actor.kind is ActorKind.API_KEY:
        if rule.people_only:
            return DomainError(ErrorCode.FORBIDDEN, "API keys may not do this: sign in instead.")
        scope = SCOPE_OF_OPERATION[coordinate.partition(".")[0]]
        if scope.value not in actor.scopes:
            return DomainError(
                ErrorCode.FORBIDDEN,
                f"This API key does not have the {scope.name} scope.",
                scope=scope.name,
            )
    if rule.public:
        return None
    if actor.kind is ActorKind.ANONYMOUS:
        return DomainError(ErrorCode.UNAUTHENTICATED, "Sign in to do this.")
    if rule.organizations is not None and actor.organization_kind not in rule.organizations:
        return DomainError(ErrorCode.FORBIDDEN, "Your organisation may not see this.")
    partner = actor.organization_kind in rule.partners
    if rule.any_of and not rule.any_of & permissions(actor) and not partner:
        needed = sorted(permission.value for permission in rule.any_of)
        return DomainError(
            ErrorCode.FORBIDDEN, "Your role does not allow this.", permission=" or ".join(needed)
        )
    return None


# --- Fields of types: who sees them (applied by their resolvers) ---------------------------


class Sees(StrEnum):
    """Who sees a sensitive field; others get null (or, for lists, only their own rows)."""

    OPERATORS = "operators only"
    OPERATORS_AND_OWN_CLIENT = "operators and the client it belongs to"
    OPERATORS_AND_OWN_BUYER = "operators and the buyer it belongs to"


FIELD_VISIBILITY: dict[str, Sees] = {
    "Device.client": Sees.OPERATORS_AND_OWN_CLIENT,
    "Device.lot": Sees.OPERATORS_AND_OWN_CLIENT,
    "Lot.client": Sees.OPERATORS_AND_OWN_CLIENT,
    "Listing.offers": Sees.OPERATORS_AND_OWN_BUYER,  # a buyer sees its own offers only
    "Offer.buyer": Sees.OPERATORS_AND_OWN_BUYER,
    "Order.buyer": Sees.OPERATORS_AND_OWN_BUYER,
    "OrderLine.device": Sees.OPERATORS,  # others see the specs through the listing
    "Shipment.order": Sees.OPERATORS_AND_OWN_BUYER,
    "Event.actor": Sees.OPERATORS,
}
"""Sensitive fields of types. Never in the schema at all: a device's cost, an API key's
secret (shown once, by createApiKey), a buyer's identity anywhere a client can read."""
