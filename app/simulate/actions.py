"""The business actions and what the simulator remembers between them.

Each action is planned synchronously (``plan``): it picks a kind of action the current state
allows, weighted to look like a trading day, and takes the items it will act on out of the
shared state at once, so that concurrent actions never act on the same device, listing, offer
or order. The returned coroutine performs it through the API and puts the results back.
"""

from __future__ import annotations

import random
import secrets
import string
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.domain.statuses import CosmeticGrade
from app.services.demo_data import (
    CARRIERS,
    CATALOG,
    CatalogEntry,
    list_price_minor,
    with_check_digit,
)
from app.simulate import operations as ops
from app.simulate.client import ActionFailed, GraphQLApi

NOTHING_TO_SETTLE = "NOTHING_TO_SETTLE"
"""A settlement found no delivered device left (a concurrent one took them): not an error."""

_COSMETIC = (CosmeticGrade.A, CosmeticGrade.B, CosmeticGrade.C, CosmeticGrade.D)
_COSMETIC_WEIGHTS = (35, 40, 20, 5)


@dataclass(frozen=True, slots=True)
class Party:
    token: str
    organization_id: str


@dataclass(frozen=True, slots=True)
class Cast:
    """Who acts: the operator's staff, the clients whose devices come in, the buyers."""

    warehouse: str
    sales: str
    finance: str
    clients: tuple[str, ...]
    buyers: tuple[Party, ...]


@dataclass(slots=True)
class Item:
    """A device on its way: received, then graded, listed, offered on, sold."""

    device_id: str
    client_id: str
    entry: CatalogEntry
    storage_gb: int | None
    cosmetic: CosmeticGrade | None = None
    listing_id: str | None = None
    price_minor: int = 0


@dataclass(slots=True)
class Offer:
    id: str
    item: Item
    buyer: Party
    amount_minor: int


@dataclass(slots=True)
class Lot:
    id: str
    client_id: str
    expected: int


@dataclass(slots=True)
class State:
    received: deque[Item] = field(default_factory=deque)
    graded: deque[Item] = field(default_factory=deque)
    drafts: deque[Item] = field(default_factory=deque)
    board: deque[Item] = field(default_factory=deque)
    buyer_offers: deque[Offer] = field(default_factory=deque)
    seller_counters: deque[Offer] = field(default_factory=deque)
    pending: deque[tuple[str, list[Item]]] = field(default_factory=deque)
    confirmed: deque[tuple[str, list[Item]]] = field(default_factory=deque)
    shipped: deque[tuple[str, list[Item]]] = field(default_factory=deque)
    delivered: deque[str] = field(default_factory=deque)
    open_lots: deque[Lot] = field(default_factory=deque)
    receiving_lots: deque[Lot] = field(default_factory=deque)
    reconciled_lots: deque[Lot] = field(default_factory=deque)
    to_settle: Counter[str] = field(default_factory=Counter)
    """Devices delivered today per client id, not yet in a settlement."""
    settlement_drafts: deque[str] = field(default_factory=deque)
    settlements_approved: deque[str] = field(default_factory=deque)


Action = Callable[[], Awaitable[None]]


class Simulation:
    def __init__(self, api: GraphQLApi, cast: Cast, rng: random.Random) -> None:
        self.api = api
        self.cast = cast
        self.rng = rng
        self.state = State()

    # --- planning --------------------------------------------------------------------------

    def plan(self) -> tuple[str, Action]:
        """The next action's name and its coroutine function (items already claimed)."""
        s = self.state
        weights: dict[str, float] = {
            "receive_device": 3,
            "browse_board": 1.5,
            "create_lot": 0.4 if len(s.open_lots) + len(s.receiving_lots) < 2 else 0,
            "receive_lot": 1.5 if s.open_lots else 0,
            "reconcile_lot": 1 if s.receiving_lots else 0,
            "close_lot": 1 if s.reconciled_lots else 0,
            "record_grade": 5 if s.received else 0,
            "create_listing": 4 if s.graded else 0,
            "publish_listing": 4 if s.drafts else 0,
            "make_offer": 2 if s.board else 0,
            "buy_listing": 2 if s.board else 0,
            "answer_offer": 3 if s.buyer_offers else 0,
            "answer_counter": 3 if s.seller_counters else 0,
            "confirm_order": 3 if s.pending else 0,
            "ship_order": 3 if s.confirmed else 0,
            "mark_delivered": 3 if s.shipped else 0,
            "complete_order": 2 if s.delivered else 0,
            "generate_settlement": 0.3 if s.to_settle else 0,
            "approve_settlement": 1 if s.settlement_drafts else 0,
            "pay_settlement": 1 if s.settlements_approved else 0,
        }
        names = [name for name, weight in weights.items() if weight > 0]
        name = self.rng.choices(names, [weights[n] for n in names])[0]
        planner: Callable[[], Action] = getattr(self, f"_plan_{name}")
        return name, planner()

    # --- intake ----------------------------------------------------------------------------

    def _device_input(self) -> tuple[dict[str, object], CatalogEntry, int | None]:
        entry = self.rng.choice(CATALOG)
        storage = self.rng.choice(entry.storages)
        device: dict[str, object] = {
            "make": entry.make,
            "model": entry.model,
            "storageGb": storage,
            "colour": self.rng.choice(entry.colours),
            "location": f"{self.rng.choice('ABCD')}-{self.rng.randint(1, 40):02d}",
        }
        if entry.tac is not None:
            device["imei"] = with_check_digit(entry.tac + f"{self.rng.randrange(10**6):06d}")
        else:
            alphabet = string.ascii_uppercase + string.digits
            device["serial"] = entry.serial_prefix + "".join(self.rng.choices(alphabet, k=9))
        return device, entry, storage

    def _plan_receive_device(self) -> Action:
        client_id = self.rng.choice(self.cast.clients)

        async def run() -> None:
            for attempt in range(3):  # a drawn IMEI may exist already: draw another
                device, entry, storage = self._device_input()
                try:
                    payload = await self.api.mutate(
                        self.cast.warehouse,
                        ops.RECEIVE_DEVICE,
                        {"clientId": client_id, **device},
                    )
                except ActionFailed as exc:
                    if exc.code in ("DUPLICATE_IMEI", "DUPLICATE_SERIAL") and attempt < 2:
                        continue
                    raise
                device_id = payload["device"]["id"]
                self.state.received.append(Item(device_id, client_id, entry, storage))
                return

        return run

    def _plan_create_lot(self) -> Action:
        client_id = self.rng.choice(self.cast.clients)
        expected = self.rng.randint(2, 6)

        async def run() -> None:
            reference = f"SIM-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3).upper()}"
            payload = await self.api.mutate(
                self.cast.warehouse,
                ops.CREATE_LOT,
                {"clientId": client_id, "reference": reference, "expectedCount": expected},
            )
            self.state.open_lots.append(Lot(payload["lot"]["id"], client_id, expected))

        return run

    def _plan_receive_lot(self) -> Action:
        lot = self.state.open_lots.popleft()

        async def run() -> None:
            drawn = [self._device_input() for _ in range(lot.expected)]
            payload = await self.api.mutate(
                self.cast.warehouse,
                ops.RECEIVE_LOT,
                {"lotId": lot.id, "devices": [device for device, _, _ in drawn]},
            )
            for received, (_, entry, storage) in zip(payload["devices"], drawn, strict=True):
                self.state.received.append(Item(received["id"], lot.client_id, entry, storage))
            self.state.receiving_lots.append(lot)

        return run

    def _plan_reconcile_lot(self) -> Action:
        lot = self.state.receiving_lots.popleft()

        async def run() -> None:
            await self.api.mutate(self.cast.warehouse, ops.RECONCILE_LOT, {"lotId": lot.id})
            self.state.reconciled_lots.append(lot)

        return run

    def _plan_close_lot(self) -> Action:
        lot = self.state.reconciled_lots.popleft()

        async def run() -> None:
            await self.api.mutate(self.cast.warehouse, ops.CLOSE_LOT, {"lotId": lot.id})

        return run

    def _plan_record_grade(self) -> Action:
        item = self.state.received.popleft()
        cosmetic = self.rng.choices(_COSMETIC, _COSMETIC_WEIGHTS)[0]
        functional = self.rng.random() < 0.9

        async def run() -> None:
            await self.api.mutate(
                self.cast.warehouse,
                ops.RECORD_GRADE,
                {
                    "deviceId": item.device_id,
                    "cosmetic": cosmetic.value,
                    "functionalPass": functional,
                    "dataWiped": True,
                    "failedChecks": [] if functional else ["battery"],
                    "batteryHealthPct": self.rng.randint(78, 100),
                    "lockStatus": "UNLOCKED",
                    "blacklistStatus": "CLEAN",
                },
            )
            item.cosmetic = cosmetic
            if functional:  # the rest go to parts: they are not listed
                self.state.graded.append(item)

        return run

    # --- the board -------------------------------------------------------------------------

    def _plan_create_listing(self) -> Action:
        item = self.state.graded.popleft()

        async def run() -> None:
            assert item.cosmetic is not None
            storage = item.storage_gb or item.entry.storages[0]
            price = list_price_minor(item.entry, storage, item.cosmetic)
            payload = await self.api.mutate(
                self.cast.sales,
                ops.CREATE_LISTING,
                {"deviceId": item.device_id, "price": str(price)},
            )
            item.listing_id = payload["listing"]["id"]
            item.price_minor = price
            self.state.drafts.append(item)

        return run

    def _plan_publish_listing(self) -> Action:
        item = self.state.drafts.popleft()

        async def run() -> None:
            await self.api.mutate(
                self.cast.sales, ops.PUBLISH_LISTING, {"listingId": item.listing_id}
            )
            self.state.board.append(item)

        return run

    def _plan_browse_board(self) -> Action:
        buyer = self.rng.choice(self.cast.buyers)

        async def run() -> None:
            await self.api.call(buyer.token, ops.BOARD)

        return run

    # --- offers ----------------------------------------------------------------------------

    def _take_from_board(self) -> Item:
        board = self.state.board
        index = self.rng.randrange(len(board))
        item = board[index]
        del board[index]
        return item

    def _plan_make_offer(self) -> Action:
        item = self._take_from_board()
        buyer = self.rng.choice(self.cast.buyers)
        amount = item.price_minor * self.rng.randint(78, 95) // 100 // 100 * 100

        async def run() -> None:
            try:
                payload = await self.api.mutate(
                    buyer.token,
                    ops.MAKE_OFFER,
                    {"listingId": item.listing_id, "amount": str(amount)},
                )
            except ActionFailed:
                self.state.board.append(item)
                raise
            self.state.buyer_offers.append(Offer(payload["offer"]["id"], item, buyer, amount))

        return run

    def _plan_answer_offer(self) -> Action:
        offer = self.state.buyer_offers.popleft()
        roll = self.rng.random()

        async def run() -> None:
            if roll < 0.4:
                payload = await self.api.mutate(
                    self.cast.sales, ops.ACCEPT_OFFER, {"offerId": offer.id}
                )
                self._order_pending(payload["orderId"], [offer.item])
            elif roll < 0.8:
                counter = (offer.amount_minor + offer.item.price_minor) // 2 // 100 * 100
                counter = max(counter, offer.amount_minor + 100)
                counter = min(counter, offer.item.price_minor)
                payload = await self.api.mutate(
                    self.cast.sales,
                    ops.COUNTER_OFFER,
                    {"offerId": offer.id, "amount": str(counter)},
                )
                self.state.seller_counters.append(
                    Offer(payload["offer"]["id"], offer.item, offer.buyer, counter)
                )
            else:
                await self.api.mutate(
                    self.cast.sales,
                    ops.REJECT_OFFER,
                    {"offerId": offer.id, "reason": "Below what the grade fetches."},
                )
                self.state.board.append(offer.item)

        return run

    def _plan_answer_counter(self) -> Action:
        offer = self.state.seller_counters.popleft()
        accept = self.rng.random() < 0.6

        async def run() -> None:
            if accept:
                payload = await self.api.mutate(
                    offer.buyer.token, ops.ACCEPT_OFFER, {"offerId": offer.id}
                )
                self._order_pending(payload["orderId"], [offer.item])
            else:
                await self.api.mutate(offer.buyer.token, ops.REJECT_OFFER, {"offerId": offer.id})
                self.state.board.append(offer.item)

        return run

    def _plan_buy_listing(self) -> Action:
        items = [self._take_from_board()]
        if self.state.board and self.rng.random() < 0.25:
            items.append(self._take_from_board())  # now and then two in one order
        buyer = self.rng.choice(self.cast.buyers)

        async def run() -> None:
            try:
                payload = await self.api.mutate(
                    buyer.token,
                    ops.BUY_LISTINGS,
                    {"listingIds": [item.listing_id for item in items]},
                )
            except ActionFailed:
                self.state.board.extend(items)
                raise
            self._order_pending(payload["order"]["id"], items)

        return run

    # --- orders ----------------------------------------------------------------------------

    def _order_pending(self, order_id: str, items: list[Item]) -> None:
        self.state.pending.append((order_id, items))

    def _plan_confirm_order(self) -> Action:
        order_id, items = self.state.pending.popleft()

        async def run() -> None:
            await self.api.mutate(self.cast.sales, ops.CONFIRM_ORDER, {"orderId": order_id})
            self.state.confirmed.append((order_id, items))

        return run

    def _plan_ship_order(self) -> Action:
        order_id, items = self.state.confirmed.popleft()
        carrier = self.rng.choice(CARRIERS)
        digits = "".join(self.rng.choices(string.digits, k=carrier.digits))
        tracking = carrier.prefix + digits

        async def run() -> None:
            await self.api.mutate(
                self.cast.warehouse,
                ops.SHIP_ORDER,
                {
                    "orderId": order_id,
                    "carrier": carrier.name,
                    "trackingNumber": tracking,
                    "trackingUrl": carrier.tracking_url.format(tracking),
                },
            )
            self.state.shipped.append((order_id, items))

        return run

    def _plan_mark_delivered(self) -> Action:
        order_id, items = self.state.shipped.popleft()

        async def run() -> None:
            await self.api.mutate(self.cast.warehouse, ops.MARK_DELIVERED, {"orderId": order_id})
            for item in items:
                self.state.to_settle[item.client_id] += 1
            self.state.delivered.append(order_id)

        return run

    def _plan_complete_order(self) -> Action:
        order_id = self.state.delivered.popleft()

        async def run() -> None:
            await self.api.mutate(self.cast.sales, ops.COMPLETE_ORDER, {"orderId": order_id})

        return run

    # --- settlement ------------------------------------------------------------------------

    def _plan_generate_settlement(self) -> Action:
        client_id = self.rng.choice(sorted(self.state.to_settle))
        del self.state.to_settle[client_id]
        today = datetime.now(UTC).date().isoformat()

        async def run() -> None:
            try:
                payload = await self.api.mutate(
                    self.cast.finance,
                    ops.GENERATE_SETTLEMENT,
                    {"clientId": client_id, "periodStart": today, "periodEnd": today},
                )
            except ActionFailed as exc:
                if exc.code == "INVALID_INPUT" and "Nothing to settle" in exc.message:
                    raise ActionFailed(NOTHING_TO_SETTLE, exc.message) from exc
                raise
            self.state.settlement_drafts.append(payload["settlement"]["id"])

        return run

    def _plan_approve_settlement(self) -> Action:
        settlement_id = self.state.settlement_drafts.popleft()

        async def run() -> None:
            await self.api.mutate(self.cast.finance, ops.APPROVE_SETTLEMENT, {"id": settlement_id})
            self.state.settlements_approved.append(settlement_id)

        return run

    def _plan_pay_settlement(self) -> Action:
        settlement_id = self.state.settlements_approved.popleft()

        async def run() -> None:
            await self.api.mutate(self.cast.finance, ops.PAY_SETTLEMENT, {"id": settlement_id})

        return run
