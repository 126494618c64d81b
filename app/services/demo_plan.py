"""The demo's rows and their history, planned in memory with one seeded random generator.

Times count back from ``now`` so every chain holds: received < graded < listed < reserved <
sold < shipped < delivered, offers fall inside their listing's life, nothing lies in the future
and every device arrived within the last 60 days. The plan makes the rows that need no ids yet
(devices, lots, orders); app.services.demo_rows makes the rest, and app.services.demo writes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal

from app.domain.statuses import (
    BlacklistStatus,
    DeviceStatus,
    ListingStatus,
    LockStatus,
    LotStatus,
    OrderStatus,
)
from app.models import (
    Device,
    Grade,
    Listing,
    Lot,
    Offer,
    Order,
    OrderLine,
    Organization,
    Settlement,
    SettlementLine,
    Shipment,
)
from app.services.demo_data import (
    CATALOG,
    CURRENCY,
    STATUS_COUNTS,
    CatalogEntry,
    with_check_digit,
)

Outcome = Literal["pass", "fail", "hold"]
"""A test's result: listable, not yet listable, or locked/blacklisted (quarantine)."""

_SERIAL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
_ORDER_FOR = {
    DeviceStatus.RESERVED: OrderStatus.PENDING,
    DeviceStatus.SOLD: OrderStatus.CONFIRMED,
    DeviceStatus.SHIPPED: OrderStatus.SHIPPED,
    DeviceStatus.DELIVERED: OrderStatus.DELIVERED,
}
_SALE_PATH = tuple(_ORDER_FOR.values())
_AGE_DAYS = {  # how long ago an order reached its current status
    OrderStatus.PENDING: (0.05, 1.2),
    OrderStatus.CONFIRMED: (0.1, 3.0),
    OrderStatus.SHIPPED: (0.2, 3.0),
    OrderStatus.DELIVERED: (1.0, 35.0),
}
_GAP_DAYS = {  # how long an order took to reach each status from the one before
    OrderStatus.CONFIRMED: (0.02, 1.0),
    OrderStatus.SHIPPED: (0.2, 2.0),
    OrderStatus.DELIVERED: (1.0, 4.0),
}
# What each order moment does to its devices and listings (as app.services.inventory does it).
DEVICE_STEP = {
    OrderStatus.PENDING: ("device.reserved", DeviceStatus.RESERVED),
    OrderStatus.CONFIRMED: ("device.sold", DeviceStatus.SOLD),
    OrderStatus.SHIPPED: ("device.shipped", DeviceStatus.SHIPPED),
    OrderStatus.DELIVERED: ("device.delivered", DeviceStatus.DELIVERED),
    OrderStatus.CANCELLED: ("device.released", DeviceStatus.AVAILABLE),
}
LISTING_STEP = {
    OrderStatus.PENDING: ("listing.reserved", ListingStatus.RESERVED),
    OrderStatus.SHIPPED: ("listing.sold", ListingStatus.SOLD),
    OrderStatus.CANCELLED: ("listing.released", ListingStatus.ACTIVE),
}


@dataclass(eq=False, slots=True)
class Unit:
    """One device: its row, its planned tests, and its status changes after grading."""

    device: Device
    entry: CatalogEntry
    storage_gb: int
    lot: Lot | None = None
    sale: Sale | None = None
    tests: list[tuple[datetime, Outcome]] = field(default_factory=list)
    steps: list[tuple[datetime, str, DeviceStatus]] = field(default_factory=list)
    listing_steps: list[tuple[datetime, str, ListingStatus]] = field(default_factory=list)
    grades: list[Grade] = field(default_factory=list)
    listing: Listing | None = None
    agreed_price_minor: int | None = None
    """The accepted offer's amount, when the sale came from one."""
    line: OrderLine | None = None

    def listed(self) -> Listing:
        """The device's listing, for the devices that must have one."""
        if self.listing is None:
            raise LookupError(f"device {self.device.imei or self.device.serial} is not listed")
        return self.listing


@dataclass(eq=False, slots=True)
class Sale:
    """One order: its buyer, its devices and when it reached each status, in time order."""

    order: Order
    buyer: Organization
    units: list[Unit]
    moments: dict[OrderStatus, datetime]
    lines: list[OrderLine] = field(default_factory=list)
    shipment: Shipment | None = None

    @property
    def placed_at(self) -> datetime:
        return self.moments[OrderStatus.PENDING]


@dataclass(eq=False, slots=True)
class SettlementPlan:
    row: Settlement
    client: Organization
    units: list[Unit]
    approved_at: datetime
    lines: list[SettlementLine] = field(default_factory=list)


class DemoPlan:
    def __init__(self, *, seed: int, now: datetime, taken: set[str]) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.start = now - timedelta(days=65)
        """When the organisations and users were created: before every other moment."""
        self.taken = taken
        self.clients: list[Organization] = []
        self.buyers: list[Organization] = []
        self.units: list[Unit] = []
        self.sales: list[Sale] = []
        self.lots: list[tuple[Lot, list[tuple[datetime, LotStatus]]]] = []
        self.offers: list[tuple[Offer, datetime | None]] = []
        """Each offer and when it closed (None while pending)."""
        self.counters: list[tuple[Offer, int, datetime]] = []
        self.settlement: SettlementPlan | None = None

    # --- time ------------------------------------------------------------------------------

    def days(self, low: float, high: float) -> timedelta:
        return timedelta(seconds=round(self.rng.uniform(low, high) * 86400))

    def hours(self, low: float, high: float) -> timedelta:
        return self.days(low / 24, high / 24)

    def ago(self, low_days: float, high_days: float) -> datetime:
        return self.now - self.days(low_days, high_days)

    def between(self, start: datetime, end: datetime) -> datetime:
        fraction = self.rng.uniform(0.2, 0.8)
        return start + timedelta(seconds=round((end - start).total_seconds() * fraction))

    # --- devices, sales, timelines and lots (no ids needed) --------------------------------

    def lay_out(self, clients: list[Organization], buyers: list[Organization]) -> None:
        """Devices with their final status, the orders that took them there, every moment
        of their history, and the lots they arrived in."""
        self.clients, self.buyers = clients, buyers
        statuses = [status for status, count in STATUS_COUNTS.items() for _ in range(count)]
        self.rng.shuffle(statuses)
        self.units = [self._unit(status, self.rng.choice(clients)) for status in statuses]
        self.sales = self._sales()
        for unit in self.units:
            self._timeline(unit)
        self.sales += self._cancelled_sales()
        for client in clients:
            self._lots(client)
        self._open_lot(clients[0])
        by_age = sorted((lot for lot, _ in self.lots), key=lambda lot: lot.created_at)
        for number, lot in enumerate(by_age, 1):
            lot.reference = f"LOT-{lot.created_at.year}-{number:04d}"

    def _unit(self, status: DeviceStatus, client: Organization) -> Unit:
        entry = self.rng.choice(CATALOG)
        held = status is DeviceStatus.QUARANTINED
        locked = held and (entry.tac is None or self.rng.random() < 0.6)
        storage = self.rng.choice(entry.storages)
        device = Device(
            imei=self._imei(entry.tac) if entry.tac else None,
            serial=None if entry.tac else self._serial(entry.serial_prefix),
            make=entry.make,
            model=entry.model,
            storage_gb=storage,
            colour=self.rng.choice(entry.colours),
            client_id=client.id,
            location=self._location(held),
            lock_status=LockStatus.LOCKED if locked else LockStatus.UNLOCKED,
            blacklist_status=(
                BlacklistStatus.BLACKLISTED if held and not locked else BlacklistStatus.CLEAN
            ),
            status=status,
        )
        return Unit(device, entry, storage)

    def _fresh(self, draw: Callable[[], str]) -> str:
        value = draw()
        while value in self.taken:
            value = draw()
        self.taken.add(value)
        return value

    def _imei(self, tac: str) -> str:
        return self._fresh(lambda: with_check_digit(f"{tac}{self.rng.randrange(10**6):06d}"))

    def _serial(self, prefix: str) -> str:
        return self._fresh(
            lambda: prefix + "".join(self.rng.choices(_SERIAL_ALPHABET, k=12 - len(prefix)))
        )

    def _location(self, quarantine: bool) -> str:
        if quarantine:
            return f"Q-01-{self.rng.randint(1, 4)}"
        aisle = self.rng.choice("ABCD")
        return f"{aisle}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 5)}"

    def _sales(self) -> list[Sale]:
        """Devices past AVAILABLE, grouped by status into orders of one to three devices."""
        sales = []
        for device_status, order_status in _ORDER_FOR.items():
            waiting = [unit for unit in self.units if unit.device.status is device_status]
            while waiting:
                size = self.rng.choice((1, 1, 1, 2, 3))
                sales.append(self._sale(waiting[:size], self._order_moments(order_status)))
                del waiting[:size]
        return sales

    def _sale(self, units: list[Unit], moments: dict[OrderStatus, datetime]) -> Sale:
        buyer = self.rng.choice(self.buyers)
        status = next(reversed(moments))
        placed = moments[OrderStatus.PENDING]
        order = Order(buyer_id=buyer.id, currency=CURRENCY, status=status, created_at=placed)
        sale = Sale(order, buyer, units, moments)
        for unit in units:
            unit.sale = sale
        return sale

    def _order_moments(self, status: OrderStatus) -> dict[OrderStatus, datetime]:
        """Back from now: when the order reached ``status`` and each status before it."""
        path = _SALE_PATH[: _SALE_PATH.index(status) + 1]
        moment = self.ago(*_AGE_DAYS[status])
        moments = {status: moment}
        for earlier, later in reversed(list(pairwise(path))):
            moment -= self.days(*_GAP_DAYS[later])
            moments[earlier] = moment
        if status is OrderStatus.DELIVERED and self.rng.random() < 0.5:
            completed = moments[status] + self.days(1, 3)
            if completed < self.now:
                moments[OrderStatus.COMPLETED] = completed
        return dict(sorted(moments.items(), key=lambda item: item[1]))

    def _timeline(self, unit: Unit) -> None:
        status = unit.device.status
        listed: datetime | None = None
        if unit.sale is not None:
            listed = unit.sale.placed_at - self.days(0.3, 10)
        elif status is DeviceStatus.AVAILABLE:
            listed = self.ago(0.1, 30)
        graded: datetime | None = None
        if listed is not None:
            graded = listed - self.days(0.05, 3)
        elif status is not DeviceStatus.RECEIVED:
            graded = self.ago(0.05, 20)
        received = graded - self.days(0.1, 4) if graded else self.ago(0.02, 5)
        unit.device.received_at = unit.device.created_at = received
        if graded is None:
            return
        if status is DeviceStatus.QUARANTINED:
            unit.tests = [(graded, "hold")]
            unit.steps = [(graded + timedelta(minutes=15), "device.quarantined", status)]
        elif listed is not None:
            self._tests(unit, graded, until=listed, passes=True)
            self._list(unit, listed)
            self._after_listing(unit, listed)
        elif graded < self.now - timedelta(days=3) and self.rng.random() < 0.25:
            relisted = graded + self.days(0.2, 1)  # listed once, then taken off the board
            self._tests(unit, graded, until=relisted, passes=True)
            self._list(unit, relisted)
            delisted = relisted + self.days(0.5, 1.5)
            unit.steps.append((delisted, "device.delisted", DeviceStatus.GRADED))
            unit.listing_steps.append((delisted, "listing.withdrawn", ListingStatus.WITHDRAWN))
        else:
            self._tests(unit, graded, until=self.now, passes=self.rng.random() < 0.7)

    def _tests(self, unit: Unit, graded: datetime, *, until: datetime, passes: bool) -> None:
        """One test, or (sometimes) a failed one and a passed re-test before ``until``."""
        if passes and self.rng.random() < 0.15:
            unit.tests = [(graded, "fail"), (self.between(graded, until), "pass")]
        else:
            unit.tests = [(graded, "pass" if passes else "fail")]

    def _list(self, unit: Unit, at: datetime) -> None:
        unit.steps.append((at, "device.listed", DeviceStatus.AVAILABLE))
        unit.listing_steps.append((at, "listing.published", ListingStatus.ACTIVE))

    def _after_listing(self, unit: Unit, listed: datetime) -> None:
        if unit.sale is not None:
            self._sale_steps(unit, unit.sale)
        elif self.rng.random() < 0.1:
            paused = self.between(listed, self.now)
            unit.listing_steps.append((paused, "listing.paused", ListingStatus.PAUSED))

    def _sale_steps(self, unit: Unit, sale: Sale) -> None:
        for status, at in sale.moments.items():
            if status in DEVICE_STEP:
                event_type, device_status = DEVICE_STEP[status]
                unit.steps.append((at, event_type, device_status))
            if status in LISTING_STEP:
                event_type, listing_status = LISTING_STEP[status]
                unit.listing_steps.append((at, event_type, listing_status))

    def _cancelled_sales(self) -> list[Sale]:
        """Two orders placed and cancelled: their devices went back on sale."""
        cutoff = self.now - timedelta(days=3)
        candidates = [
            unit
            for unit in self.units
            if len(unit.listing_steps) == 1
            and unit.device.status is DeviceStatus.AVAILABLE
            and unit.listing_steps[0][0] < cutoff
        ]
        sales = []
        for unit in self.rng.sample(candidates, min(2, len(candidates))):
            placed = unit.listing_steps[0][0] + self.days(0.2, 1)
            moments = {
                OrderStatus.PENDING: placed,
                OrderStatus.CANCELLED: placed + self.days(0.1, 1),
            }
            sale = self._sale([unit], moments)
            self._sale_steps(unit, sale)
            sales.append(sale)
        return sales

    def _lots(self, client: Organization) -> None:
        """The client's devices in arrival order, in three lots: closed, reconciled, receiving."""
        own = [unit for unit in self.units if unit.device.client_id == client.id]
        own.sort(key=lambda unit: unit.device.received_at)
        cuts = [0, len(own) // 3, 2 * len(own) // 3, len(own)]
        targets = (LotStatus.CLOSED, LotStatus.RECONCILED, LotStatus.RECEIVING)
        for target, (start, end) in zip(targets, pairwise(cuts), strict=True):
            if end > start:
                self._lot(client, own[start:end], target)

    def _lot(self, client: Organization, units: list[Unit], target: LotStatus) -> None:
        first, last = units[0].device.received_at, units[-1].device.received_at
        moments = [(first - self.days(1, 3), LotStatus.OPEN), (first, LotStatus.RECEIVING)]
        reconciled = last + self.days(0.5, 2)
        closed = reconciled + self.days(1, 5)
        if target is not LotStatus.RECEIVING and reconciled < self.now:
            moments.append((reconciled, LotStatus.RECONCILED))
            if target is LotStatus.CLOSED and closed < self.now:
                moments.append((closed, LotStatus.CLOSED))
        status = moments[-1][1]
        missing = {LotStatus.RECEIVING: self.rng.randint(3, 8), LotStatus.RECONCILED: 1}
        lot = Lot(
            client_id=client.id,
            reference="",
            expected_count=len(units) + missing.get(status, 0),
            status=status,
            created_at=moments[0][0],
        )
        for unit in units:
            unit.lot = lot
        self.lots.append((lot, moments))

    def _open_lot(self, client: Organization) -> None:
        """A lot announced by the client, not arrived yet."""
        opened = self.ago(0.5, 2)
        lot = Lot(
            client_id=client.id,
            reference="",
            expected_count=24,
            status=LotStatus.OPEN,
            created_at=opened,
        )
        self.lots.append((lot, [(opened, LotStatus.OPEN)]))
