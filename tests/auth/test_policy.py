"""The policy table against DOMAIN.md, written out by hand (no database).

tests/api/test_permissions.py checks that the API does what ROOT_RULES says; this file checks
that ROOT_RULES says what DOMAIN.md's parties-and-roles table says, so that neither a looser
nor a stricter rule slips in unnoticed.
"""

from __future__ import annotations

import pytest

from app.auth.policy import (
    FIELD_VISIBILITY,
    ROOT_RULES,
    Permission,
    Scope,
    decide,
    permissions,
    require,
)
from app.domain.actors import ANONYMOUS, Actor, ActorKind, system
from app.domain.errors import DomainError, ErrorCode
from app.domain.statuses import OrganizationKind, Role

OPERATOR, CLIENT, BUYER = OrganizationKind.OPERATOR, OrganizationKind.CLIENT, OrganizationKind.BUYER


def user(kind: OrganizationKind, role: Role) -> Actor:
    return Actor(ActorKind.USER, 1, 10, kind, role)


def key(kind: OrganizationKind, *scopes: Scope) -> Actor:
    return Actor(ActorKind.API_KEY, 2, 20, kind, None, frozenset(s.value for s in scopes))


ALL_SCOPES = tuple(Scope)
ACTORS: dict[str, Actor] = {
    "anonymous": ANONYMOUS,
    "admin": user(OPERATOR, Role.ADMIN),
    "warehouse": user(OPERATOR, Role.WAREHOUSE),
    "sales": user(OPERATOR, Role.SALES),
    "finance": user(OPERATOR, Role.FINANCE),
    "operator_viewer": user(OPERATOR, Role.VIEWER),
    "client_viewer": user(CLIENT, Role.VIEWER),
    "buyer": user(BUYER, Role.BUYER),
    "buyer_viewer": user(BUYER, Role.VIEWER),
    "operator_key": key(OPERATOR, *ALL_SCOPES),
    "client_key": key(CLIENT, *ALL_SCOPES),
    "buyer_key": key(BUYER, *ALL_SCOPES),
    "buyer_key_read": key(BUYER, Scope.READ),
}

OPERATOR_READERS = {"admin", "warehouse", "sales", "finance", "operator_viewer", "operator_key"}
CLIENTS = {"client_viewer", "client_key"}
BUYERS = {"buyer", "buyer_viewer", "buyer_key", "buyer_key_read"}
SIGNED_IN = set(ACTORS) - {"anonymous"}

# Who may call each mutation (DOMAIN.md): warehouse receives, grades and ships; sales lists,
# prices and answers offers; finance settles; admin does all and manages keys; a buyer offers
# and buys; an organisation's key with WRITE does what its organisation does (no key admin).
WAREHOUSE_WORK = {"admin", "warehouse", "operator_key"}
SALES_WORK = {"admin", "sales", "operator_key"}
ORDER_WORK = {"admin", "sales", "finance", "operator_key"}
FINANCE_WORK = {"admin", "finance", "operator_key"}
BUYING = {"buyer", "buyer_key"}
EVERYONE = set(ACTORS)
# Webhooks: admins (and operator keys) for any organisation; a buyer's or a client's people and
# keys for their own (keys need the operation's scope).
WEBHOOK_READERS = {"admin", "operator_key"} | CLIENTS | BUYERS
WEBHOOK_MANAGERS = WEBHOOK_READERS - {"buyer_key_read"}

MUTATIONS: dict[str, set[str]] = {
    "signIn": EVERYONE - {"buyer_key_read"},
    "signOut": EVERYONE - {"buyer_key_read"},
    "createApiKey": {"admin"},
    "revokeApiKey": {"admin"},
    "receiveDevice": WAREHOUSE_WORK,
    "recordGrade": WAREHOUSE_WORK,
    "quarantineDevice": WAREHOUSE_WORK,
    "clearQuarantine": WAREHOUSE_WORK,
    "createLot": WAREHOUSE_WORK,
    "receiveLot": WAREHOUSE_WORK,
    "reconcileLot": WAREHOUSE_WORK,
    "closeLot": WAREHOUSE_WORK,
    "shipOrder": WAREHOUSE_WORK,
    "markDelivered": WAREHOUSE_WORK,
    "reportShipmentException": WAREHOUSE_WORK,
    "createListing": SALES_WORK,
    "publishListing": SALES_WORK,
    "pauseListing": SALES_WORK,
    "repriceListing": SALES_WORK,
    "withdrawListing": SALES_WORK,
    "makeOffer": BUYING,
    "counterOffer": SALES_WORK | BUYING,
    "acceptOffer": SALES_WORK | BUYING,
    "rejectOffer": SALES_WORK | BUYING,
    "withdrawOffer": SALES_WORK | BUYING,
    "buyListings": BUYING,
    "confirmOrder": ORDER_WORK,
    "cancelOrder": ORDER_WORK | BUYING,
    "completeOrder": ORDER_WORK,
    "generateSettlement": FINANCE_WORK,
    "approveSettlement": FINANCE_WORK,
    "paySettlement": FINANCE_WORK,
    "voidSettlement": FINANCE_WORK,
    "registerWebhookEndpoint": WEBHOOK_MANAGERS,
    "updateWebhookEndpoint": WEBHOOK_MANAGERS,
    "disableWebhookEndpoint": WEBHOOK_MANAGERS,
    "enableWebhookEndpoint": WEBHOOK_MANAGERS,
    "replayWebhookEndpoint": WEBHOOK_MANAGERS,
    "rotateWebhookSecret": WEBHOOK_MANAGERS,
}

# Who may call each query at all (rows are narrowed further by the services).
QUERIES: dict[str, set[str]] = {
    "viewer": EVERYONE,
    "node": EVERYONE,
    "device": SIGNED_IN,
    "devices": OPERATOR_READERS | CLIENTS,
    "lot": OPERATOR_READERS | CLIENTS,
    "lots": OPERATOR_READERS | CLIENTS,
    "listing": SIGNED_IN,
    "listings": SIGNED_IN,
    "offer": OPERATOR_READERS | BUYERS,
    "offers": OPERATOR_READERS | BUYERS,
    "order": OPERATOR_READERS | BUYERS,
    "orders": OPERATOR_READERS | BUYERS,
    "shipment": OPERATOR_READERS | BUYERS,
    "shipments": OPERATOR_READERS | BUYERS,
    "settlement": OPERATOR_READERS | CLIENTS,
    "settlements": OPERATOR_READERS | CLIENTS,
    "events": SIGNED_IN,
    "apiKeys": SIGNED_IN - {"operator_key", "client_key", "buyer_key", "buyer_key_read"},
    "webhookEndpoints": WEBHOOK_READERS,
    "webhookDeliveries": WEBHOOK_READERS,
}
SUBSCRIBERS = SIGNED_IN - {"buyer_key_read"}
SUBSCRIPTIONS: dict[str, set[str]] = {
    "events": SUBSCRIBERS,
    "listingBoard": SUBSCRIBERS,
    "order": (OPERATOR_READERS | BUYERS) & SUBSCRIBERS,
    "device": (OPERATOR_READERS | CLIENTS) & SUBSCRIBERS,
    "offers": (OPERATOR_READERS | BUYERS) & SUBSCRIBERS,
    "settlements": (OPERATOR_READERS | CLIENTS) & SUBSCRIBERS,
}


def expected_table() -> dict[str, set[str]]:
    table = {f"Mutation.{name}": who for name, who in MUTATIONS.items()}
    table.update({f"Query.{name}": who for name, who in QUERIES.items()})
    table.update({f"Subscription.{name}": who for name, who in SUBSCRIPTIONS.items()})
    return table


def test_the_hand_written_table_covers_every_rule() -> None:
    assert set(expected_table()) == set(ROOT_RULES)


@pytest.mark.parametrize("coordinate", sorted(ROOT_RULES))
def test_rule_matches_the_domain(coordinate: str) -> None:
    allowed = {name for name, actor in ACTORS.items() if decide(actor, coordinate) is None}
    assert allowed == expected_table()[coordinate]


@pytest.mark.parametrize("coordinate", sorted(ROOT_RULES))
def test_nobody_signed_in_is_told_to_sign_in(coordinate: str) -> None:
    refusal = decide(ANONYMOUS, coordinate)
    if ROOT_RULES[coordinate].public:
        assert refusal is None
    else:
        assert refusal is not None
        assert refusal.code is ErrorCode.UNAUTHENTICATED


def test_a_field_without_a_rule_is_refused() -> None:
    refusal = decide(ACTORS["admin"], "Query.somethingNew")
    assert refusal is not None
    assert refusal.code is ErrorCode.FORBIDDEN
    assert "no permission rule" in refusal.message


def test_scopes_gate_each_operation_type() -> None:
    read_only = key(BUYER, Scope.READ)
    write_only = key(BUYER, Scope.WRITE)
    subscribe_only = key(BUYER, Scope.SUBSCRIBE)
    assert decide(read_only, "Query.listings") is None
    assert decide(read_only, "Mutation.buyListings") is not None
    assert decide(read_only, "Subscription.events") is not None
    assert decide(write_only, "Mutation.buyListings") is None
    assert decide(write_only, "Query.listings") is not None
    assert decide(subscribe_only, "Subscription.events") is None
    assert decide(subscribe_only, "Query.viewer") is not None  # public, but not for this key
    refusal = decide(read_only, "Mutation.makeOffer")
    assert refusal is not None
    assert (refusal.code, refusal.facts["scope"]) == (ErrorCode.FORBIDDEN, "WRITE")


def test_api_key_permissions_follow_the_organisation_and_need_write() -> None:
    assert permissions(key(OPERATOR, Scope.READ, Scope.SUBSCRIBE)) == frozenset()
    assert permissions(key(CLIENT, *ALL_SCOPES)) == frozenset()
    assert permissions(key(BUYER, Scope.WRITE)) == {Permission.MAKE_OFFERS, Permission.BUY}
    operator_key = permissions(key(OPERATOR, Scope.WRITE))
    assert Permission.MANAGE_API_KEYS not in operator_key
    assert operator_key == permissions(ACTORS["admin"]) - {Permission.MANAGE_API_KEYS}


def test_people_and_the_system() -> None:
    assert Permission.MANAGE_API_KEYS in permissions(ACTORS["admin"])
    assert permissions(ACTORS["client_viewer"]) == frozenset()
    assert permissions(ACTORS["buyer_viewer"]) == frozenset()
    assert permissions(system("task")) == frozenset(Permission)
    assert all(decide(system("task"), coordinate) is None for coordinate in ROOT_RULES)
    with pytest.raises(DomainError) as refused:
        require(ACTORS["sales"], Permission.MANAGE_API_KEYS)
    assert refused.value.code is ErrorCode.FORBIDDEN


def test_every_permission_guards_some_root_field() -> None:
    used = {permission for rule in ROOT_RULES.values() for permission in rule.any_of}
    assert used == set(Permission)


def test_rules_describe_themselves() -> None:
    assert ROOT_RULES["Query.viewer"].describe() == "anyone"
    assert ROOT_RULES["Mutation.createApiKey"].describe() == (
        "signed in, manage_api_keys, no API keys"
    )
    assert all(rule.describe() for rule in ROOT_RULES.values())


def test_the_sensitive_field_list_names_fields_as_coordinates() -> None:
    assert all(coordinate.count(".") == 1 for coordinate in FIELD_VISIBILITY)
