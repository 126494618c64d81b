"""Offer queries and the negotiation: make, counter, accept, reject, withdraw.

Who may act: a buyer needs MAKE_OFFERS and acts on its own negotiations only; the seller's side
needs ANSWER_OFFERS. Which party may do what with a given offer (the other party answers, the
maker withdraws) is checked by the service against the offer itself.
"""

from __future__ import annotations

import strawberry
from strawberry import relay

from app.auth.policy import Permission, require
from app.domain.actors import Actor
from app.domain.errors import DomainError, ErrorCode
from app.resolvers.ids import parse_id
from app.resolvers.listings import require_signed_in
from app.schema.errors import error_result, query_error
from app.schema.offers import (
    AcceptOfferInput,
    AcceptOfferPayload,
    AcceptOfferResult,
    CounterOfferInput,
    CounterOfferPayload,
    CounterOfferResult,
    MakeOfferInput,
    MakeOfferResult,
    Offer,
    OfferConnection,
    OfferEdge,
    OfferFilter,
    OfferPayload,
    RejectOfferInput,
    RejectOfferResult,
    WithdrawOfferInput,
    WithdrawOfferResult,
)
from app.schema.pagination import decode_cursor, encode_cursor, page_info, page_size
from app.services import offer_queries
from app.services import offers as offer_service


def require_negotiator(actor: Actor) -> None:
    """A buyer negotiates with MAKE_OFFERS; anyone else must answer offers for the seller."""
    require(actor, Permission.MAKE_OFFERS if actor.is_buyer else Permission.ANSWER_OFFERS)


def require_offer_reader(actor: Actor) -> None:
    require_signed_in(actor)
    if not (actor.is_operator or actor.is_buyer):
        raise DomainError(ErrorCode.FORBIDDEN, "Only buyers and the operator see offers.")


def _offer_id(raw: strawberry.ID) -> int:
    return parse_id(raw, "offerId", type_name="Offer") or 0


def _offer_filter(raw: OfferFilter | None) -> offer_queries.OfferFilter:
    if raw is None:
        return offer_queries.OfferFilter()
    return offer_queries.OfferFilter(
        listing_id=parse_id(raw.listing_id, "listingId", type_name="Listing"),
        statuses=tuple(raw.status or ()),
        from_party=raw.from_party,
        mine=bool(raw.mine),
    )


@strawberry.type
class OfferQueries:
    @strawberry.field(description="One offer: operators see any, a buyer only its own.")
    async def offer(self, info: strawberry.Info, id: strawberry.ID) -> Offer | None:
        try:
            require_offer_reader(info.context.actor)
            offer_id = _offer_id(id)
            async with info.context.reads() as session:
                row = await offer_queries.get_offer(session, offer_id, actor=info.context.actor)
        except DomainError as error:
            raise query_error(error) from error
        return Offer.from_row(row) if row is not None else None

    @strawberry.field(description="Offers, newest first: a buyer sees its own only.")
    async def offers(
        self,
        info: strawberry.Info,
        filter: OfferFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> OfferConnection:
        try:
            require_offer_reader(info.context.actor)
            limit = page_size(first, info.context.runtime.settings.page_size_max)
            async with info.context.reads() as session:
                page = await offer_queries.list_offers(
                    session,
                    _offer_filter(filter),
                    actor=info.context.actor,
                    after=decode_cursor(after),
                    limit=limit,
                )
        except DomainError as error:
            raise query_error(error) from error
        edges = [
            OfferEdge(cursor=encode_cursor(key), node=Offer.from_row(row))
            for row, key in zip(page.rows, page.keys, strict=True)
        ]
        return OfferConnection(
            edges=edges,
            page_info=page_info(
                [edge.cursor for edge in edges],
                has_next=page.has_next,
                has_previous=after is not None,
            ),
            total_count=page.total,
        )


@strawberry.type
class OfferMutations:
    @strawberry.mutation(description="A buyer's offer on an ACTIVE listing; expires in 48 hours.")
    async def make_offer(self, info: strawberry.Info, input: MakeOfferInput) -> MakeOfferResult:
        actor = info.context.actor
        try:
            require(actor, Permission.MAKE_OFFERS)
            row = await offer_service.make_offer(
                info.context.sessions,
                listing_id=parse_id(input.listing_id, "listingId", type_name="Listing") or 0,
                amount_minor=input.amount,
                actor=actor,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return OfferPayload(offer=Offer.from_row(row))

    @strawberry.mutation(description="Answer an offer with another amount, up to the list price.")
    async def counter_offer(
        self, info: strawberry.Info, input: CounterOfferInput
    ) -> CounterOfferResult:
        actor = info.context.actor
        try:
            require_negotiator(actor)
            result = await offer_service.counter_offer(
                info.context.sessions,
                offer_id=_offer_id(input.offer_id),
                amount_minor=input.amount,
                actor=actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return CounterOfferPayload(
            offer=Offer.from_row(result.offer), countered_offer=Offer.from_row(result.countered)
        )

    @strawberry.mutation(description="Accept an offer: an order reserves the device at its amount.")
    async def accept_offer(
        self, info: strawberry.Info, input: AcceptOfferInput
    ) -> AcceptOfferResult:
        actor = info.context.actor
        try:
            require_negotiator(actor)
            result = await offer_service.accept_offer(
                info.context.sessions,
                offer_id=_offer_id(input.offer_id),
                actor=actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return AcceptOfferPayload(
            offer=Offer.from_row(result.offer),
            order_id=relay.GlobalID("Order", str(result.order.id)),
        )

    @strawberry.mutation(description="Turn down an offer made by the other party.")
    async def reject_offer(
        self, info: strawberry.Info, input: RejectOfferInput
    ) -> RejectOfferResult:
        actor = info.context.actor
        try:
            require_negotiator(actor)
            row = await offer_service.reject_offer(
                info.context.sessions,
                offer_id=_offer_id(input.offer_id),
                actor=actor,
                expected_version=input.expected_version,
                reason=input.reason,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return OfferPayload(offer=Offer.from_row(row))

    @strawberry.mutation(description="Take back an offer you made.")
    async def withdraw_offer(
        self, info: strawberry.Info, input: WithdrawOfferInput
    ) -> WithdrawOfferResult:
        actor = info.context.actor
        try:
            require_negotiator(actor)
            row = await offer_service.withdraw_offer(
                info.context.sessions,
                offer_id=_offer_id(input.offer_id),
                actor=actor,
                expected_version=input.expected_version,
                idempotency_key=input.idempotency_key,
            )
        except DomainError as error:
            return error_result(error)
        return OfferPayload(offer=Offer.from_row(row))
