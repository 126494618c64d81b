"""The demo's rows that need the ids of rows written before them, made from a DemoPlan.

Each function returns one level of rows for app.services.demo to add and flush, in this order:
devices (into their lots), grades, listings, offers, counter offers, orders, order lines and
shipments, the settlement, its lines.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.domain.offers import DEFAULT_OFFER_TTL
from app.domain.settlements import line_amounts
from app.domain.statuses import (
    DeviceStatus,
    ListingStatus,
    LockStatus,
    OfferParty,
    OfferStatus,
    OrderStatus,
    SettlementStatus,
    ShipmentStatus,
)
from app.models import (
    Device,
    Grade,
    Listing,
    Offer,
    Order,
    OrderLine,
    Settlement,
    SettlementLine,
    Shipment,
)
from app.models.base import Base
from app.services.demo_data import (
    CARRIERS,
    COSMETIC_WEIGHTS,
    CURRENCY,
    FAILED_CHECKS,
    list_price_minor,
)
from app.services.demo_plan import DemoPlan, Outcome, Sale, SettlementPlan, Unit

_BOARD_OFFERS = {"pending": 4, "counter": 2, "rejected": 1, "expired": 1, "withdrawn": 1}


def devices(plan: DemoPlan) -> list[Device]:
    for unit in plan.units:
        unit.device.lot_id = unit.lot.id if unit.lot else None
    return [unit.device for unit in plan.units]


def grades(plan: DemoPlan, grader_id: int) -> list[Grade]:
    for unit in plan.units:
        unit.grades = [_grade(plan, unit, at, outcome, grader_id) for at, outcome in unit.tests]
    return [grade for unit in plan.units for grade in unit.grades]


def _grade(plan: DemoPlan, unit: Unit, at: datetime, outcome: Outcome, grader_id: int) -> Grade:
    rng = plan.rng
    grade = Grade(
        device_id=unit.device.id,
        cosmetic=rng.choices(list(COSMETIC_WEIGHTS), weights=list(COSMETIC_WEIGHTS.values()))[0],
        functional_pass=True,
        failed_checks=[],
        battery_health_pct=rng.randint(80, 100),
        data_wiped=True,
        graded_by_id=grader_id,
        graded_at=at,
    )
    if outcome == "hold":
        grade.data_wiped = False
        grade.notes = (
            "Activation lock on: the client must release it."
            if unit.device.lock_status is LockStatus.LOCKED
            else "IMEI reported lost or stolen: held for the client."
        )
    elif outcome == "fail" and rng.random() < 0.5:
        grade.functional_pass = False
        grade.failed_checks = rng.sample(FAILED_CHECKS, rng.randint(1, 2))
        if "battery" in grade.failed_checks:
            grade.battery_health_pct = rng.randint(60, 79)
        grade.notes = "Sent for repair."
    elif outcome == "fail":
        grade.data_wiped = False
        grade.notes = "Wipe pending: the device still holds user data."
    return grade


def current_grades(plan: DemoPlan) -> None:
    """Point each device at its newest grade (written with the next flush)."""
    for unit in plan.units:
        if unit.grades:
            unit.device.current_grade_id = unit.grades[-1].id


def listings(plan: DemoPlan) -> list[Listing]:
    """One listing per device that was ever listed, priced from its model and current grade."""
    for unit in plan.units:
        if unit.listing_steps:
            unit.listing = Listing(
                device_id=unit.device.id,
                price_minor=list_price_minor(unit.entry, unit.storage_gb, unit.grades[-1].cosmetic),
                currency=CURRENCY,
                status=unit.listing_steps[-1][2],
                created_at=unit.listing_steps[0][0],
            )
    return [unit.listing for unit in plan.units if unit.listing is not None]


def offers(plan: DemoPlan) -> list[Offer]:
    """Bids on the board, plus the offers that ended when a listing was reserved."""
    board_since = plan.now - timedelta(days=3)
    board = [
        listing
        for unit in plan.units
        if unit.sale is None
        and (listing := unit.listing) is not None
        and listing.status is ListingStatus.ACTIVE
        and listing.created_at < board_since
    ]
    for listing in plan.rng.sample(board, min(18, len(board))):
        for buyer_id in plan.rng.sample(
            [buyer.id for buyer in plan.buyers], plan.rng.randint(1, 3)
        ):
            kind = plan.rng.choices(list(_BOARD_OFFERS), weights=list(_BOARD_OFFERS.values()))[0]
            _board_offer(plan, listing, buyer_id, kind)
    for sale in plan.sales:
        if OrderStatus.CANCELLED not in sale.moments:
            for unit in sale.units:
                _offers_before_sale(plan, sale, unit)
    return [offer for offer, _ in plan.offers]


def _board_offer(plan: DemoPlan, listing: Listing, buyer_id: int, kind: str) -> None:
    price, amount = listing.price_minor, _bid(plan, listing.price_minor, 80, 95)
    if kind == "pending":
        _offer(plan, listing.id, buyer_id, amount, plan.now - plan.hours(1, 40))
    elif kind == "counter":  # the seller answered with a price between the bid and the list price
        at = plan.now - plan.hours(20, 44)
        countered = at + plan.hours(1, 12)
        parent = _offer(plan, listing.id, buyer_id, amount, at, OfferStatus.COUNTERED, countered)
        counter = (amount + (price - amount) * plan.rng.randint(40, 70) // 100) // 100 * 100
        plan.counters.append((parent, counter, countered))
    else:  # closed before the last two days
        at = plan.between(listing.created_at, plan.now - DEFAULT_OFFER_TTL - timedelta(hours=2))
        closed = at + (DEFAULT_OFFER_TTL if kind == "expired" else plan.hours(1, 24))
        _offer(plan, listing.id, buyer_id, amount, at, OfferStatus(kind.upper()), closed)


def _offers_before_sale(plan: DemoPlan, sale: Sale, unit: Unit) -> None:
    """An accepted offer that made a one-device order, and a rival's offer that the
    reservation ended (rule 3); both made while the listing was on the board."""
    listing = unit.listed()
    window = min(sale.placed_at - listing.created_at, DEFAULT_OFFER_TTL - timedelta(hours=2))
    if len(sale.units) == 1 and plan.rng.random() < 0.35:
        amount = _bid(plan, listing.price_minor, 90, 97)
        at = plan.between(sale.placed_at - window, sale.placed_at)
        _offer(plan, listing.id, sale.buyer.id, amount, at, OfferStatus.ACCEPTED, sale.placed_at)
        unit.agreed_price_minor = amount
    if plan.rng.random() < 0.3:
        rival = plan.rng.choice([buyer for buyer in plan.buyers if buyer is not sale.buyer])
        amount = _bid(plan, listing.price_minor, 80, 95)
        at = plan.between(sale.placed_at - window, sale.placed_at)
        _offer(plan, listing.id, rival.id, amount, at, OfferStatus.INVALIDATED, sale.placed_at)


def _bid(plan: DemoPlan, price_minor: int, low_percent: int, high_percent: int) -> int:
    """A share of the list price, in whole euros."""
    return price_minor * plan.rng.randint(low_percent, high_percent) // 100 // 100 * 100


def _offer(
    plan: DemoPlan,
    listing_id: int,
    buyer_id: int,
    amount_minor: int,
    at: datetime,
    status: OfferStatus = OfferStatus.PENDING,
    closed_at: datetime | None = None,
    *,
    parent_offer_id: int | None = None,
    from_party: OfferParty = OfferParty.BUYER,
) -> Offer:
    offer = Offer(
        listing_id=listing_id,
        buyer_id=buyer_id,
        amount_minor=amount_minor,
        currency=CURRENCY,
        status=status,
        parent_offer_id=parent_offer_id,
        from_party=from_party,
        expires_at=at + DEFAULT_OFFER_TTL,
        created_at=at,
    )
    plan.offers.append((offer, closed_at))
    return offer


def counter_offers(plan: DemoPlan) -> list[Offer]:
    """The seller's pending answers to countered bids (they need their parent's id)."""
    return [
        _offer(
            plan,
            parent.listing_id,
            parent.buyer_id,
            amount,
            at,
            parent_offer_id=parent.id,
            from_party=OfferParty.SELLER,
        )
        for parent, amount, at in plan.counters
    ]


def orders(plan: DemoPlan) -> list[Order]:
    return [sale.order for sale in plan.sales]


def order_lines_and_shipments(plan: DemoPlan) -> list[Base]:
    """A line per device (released when the order was cancelled) and a parcel once shipped."""
    rows: list[Base] = []
    for sale in plan.sales:
        cancelled = OrderStatus.CANCELLED in sale.moments
        for unit in sale.units:
            listing = unit.listed()
            line = OrderLine(
                order_id=sale.order.id,
                listing_id=listing.id,
                device_id=unit.device.id,
                price_minor=unit.agreed_price_minor or listing.price_minor,
                released=cancelled,
            )
            sale.lines.append(line)
            if not cancelled:
                unit.line = line
        rows += sale.lines
        if OrderStatus.SHIPPED in sale.moments:
            sale.shipment = _shipment(plan, sale.order, sale.moments)
            rows.append(sale.shipment)
    return rows


def _shipment(plan: DemoPlan, order: Order, moments: dict[OrderStatus, datetime]) -> Shipment:
    carrier = plan.rng.choice(CARRIERS)
    number = carrier.prefix + "".join(plan.rng.choices("0123456789", k=carrier.digits))
    delivered = moments.get(OrderStatus.DELIVERED)
    return Shipment(
        order_id=order.id,
        carrier=carrier.name,
        tracking_number=number,
        tracking_url=carrier.tracking_url.format(number),
        status=ShipmentStatus.DELIVERED if delivered else ShipmentStatus.IN_TRANSIT,
        shipped_at=moments[OrderStatus.SHIPPED],
        delivered_at=delivered,
        created_at=moments[OrderStatus.SHIPPED],
    )


def settlement(plan: DemoPlan) -> list[Settlement]:
    """An approved settlement for the client with the most devices delivered over a week ago."""
    cutoff = plan.now - timedelta(days=7)
    due = {
        client.id: [
            unit
            for unit in plan.units
            if unit.device.client_id == client.id
            and unit.device.status is DeviceStatus.DELIVERED
            and unit.sale is not None
            and unit.sale.moments[OrderStatus.DELIVERED] <= cutoff
        ]
        for client in plan.clients
    }
    client = max(plan.clients, key=lambda client: len(due[client.id]))
    if not due[client.id]:
        return []
    generated = cutoff + plan.days(1, 2)
    row = Settlement(
        client_id=client.id,
        period_start=(plan.now - timedelta(days=60)).date(),
        period_end=cutoff.date(),
        currency=CURRENCY,
        status=SettlementStatus.APPROVED,
        created_at=generated,
    )
    plan.settlement = SettlementPlan(row, client, due[client.id], generated + plan.hours(2, 30))
    return [row]


def settlement_lines(plan: DemoPlan) -> list[SettlementLine]:
    """Rule 7, by app.domain.settlements: one line per device, amounts from the sale price."""
    if plan.settlement is None:
        return []
    client = plan.settlement.client
    for unit in plan.settlement.units:
        if unit.line is None:
            raise LookupError("a delivered device without an order line")
        amounts = line_amounts(
            unit.line.price_minor, client.commission_bps or 0, client.fee_per_device_minor or 0
        )
        plan.settlement.lines.append(
            SettlementLine(
                settlement_id=plan.settlement.row.id,
                device_id=unit.device.id,
                order_line_id=unit.line.id,
                gross_minor=amounts.gross,
                commission_minor=amounts.commission,
                fees_minor=amounts.fees,
                net_minor=amounts.net,
            )
        )
    return plan.settlement.lines
