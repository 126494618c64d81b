"""Who may do what: DOMAIN.md's table of parties and roles, as data."""

from __future__ import annotations

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


def permissions(actor: Actor) -> frozenset[Permission]:
    if actor.kind is ActorKind.SYSTEM:
        return frozenset(Permission)
    if actor.kind is ActorKind.ANONYMOUS or actor.role is None:
        return frozenset()
    match actor.organization_kind:
        case OrganizationKind.OPERATOR:
            return _OPERATOR_ROLES.get(actor.role, frozenset()) & _OPERATOR_ONLY
        case OrganizationKind.BUYER:
            return _BUYER if actor.role is Role.BUYER else frozenset()
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
