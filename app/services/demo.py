"""`devicegraph seed-demo`: sixty days of a refurbisher's trade, consistent with every rule.

``random.Random(42)`` decides everything; only the dates move, counted back from now. Rows are
written in their final state in one transaction, and their history goes to the event log: one
event per change, in time order, with entity versions that end at each row's version.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.passwords import hash_password
from app.domain.statuses import DeviceStatus, OrganizationKind, Role
from app.models import Device, Listing, Lot, Offer, Order, Organization, Settlement, Shipment, User
from app.models.base import Base, utcnow
from app.services import demo_rows
from app.services.demo_data import BUYERS, CLIENTS, CURRENCY, OPERATOR_DOMAIN, OPERATOR_NAME, STAFF
from app.services.demo_history import Fact, history
from app.services.demo_plan import DemoPlan
from app.services.events import append_event

SEED = 42
DEMO_PASSWORD = "demo-password"
ACTOR = "system:seed"


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What one run loaded, and who can sign in (every demo user has ``DEMO_PASSWORD``)."""

    logins: list[tuple[str, str]]
    organizations: int
    lots: int
    devices_by_status: dict[str, int]
    listings: int
    offers: int
    orders: int
    shipments: int
    settlements: int
    settlement_lines: int
    events: int

    def describe(self) -> str:
        statuses = ", ".join(f"{name} {count}" for name, count in self.devices_by_status.items())
        devices = sum(self.devices_by_status.values())
        return "\n".join(
            [
                f"demo data loaded: {self.organizations} organisations, "
                f"{len(self.logins)} users, {self.lots} lots",
                f"devices: {devices} ({statuses})",
                f"listings: {self.listings}, offers: {self.offers}, orders: {self.orders}, "
                f"shipments: {self.shipments}",
                f"settlements: {self.settlements} ({self.settlement_lines} lines), "
                f"events: {self.events}",
            ]
        )


async def seed_demo(
    sessions: async_sessionmaker[AsyncSession], *, force: bool = False
) -> DemoSummary | None:
    """Load the demo in one transaction; None, writing nothing, if organisations exist.

    With ``force`` on a database that has data, another demo set is added beside it: its
    organisation names and e-mail addresses carry the first free run number
    ("DeviceGraph Refurb 2", ``admin+2@devicegraph.demo``), its random seed is 42 + run - 1,
    and IMEIs and serials already in the database are never drawn again, so no unique
    constraint can fail.
    """
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    async with sessions.begin() as session:
        run = 1
        if await session.scalar(select(Organization.id).limit(1)) is not None:
            if not force:
                return None
            run = await _free_run(session)
        taken = await _identifiers_in_use(session) if run > 1 else set()
        plan = DemoPlan(seed=SEED + run - 1, now=utcnow().replace(microsecond=0), taken=taken)
        return await _Loader(session, plan, run=run, password_hash=password_hash).load()


def _suffix(name: str, run: int) -> str:
    return name if run == 1 else f"{name} {run}"


def _email(local: str, domain: str, run: int) -> str:
    return f"{local}@{domain}" if run == 1 else f"{local}+{run}@{domain}"


def _logins(run: int) -> list[tuple[str, str, Role]]:
    """(email, person's name, role): operator staff, one viewer per client, one buyer each."""
    logins = [(_email(role.value.lower(), OPERATOR_DOMAIN, run), who, role) for role, who in STAFF]
    logins += [(_email("portal", f"{c.slug}.demo", run), c.contact, Role.VIEWER) for c in CLIENTS]
    logins += [(_email("buyer", f"{b.slug}.demo", run), b.contact, Role.BUYER) for b in BUYERS]
    return logins


async def _free_run(session: AsyncSession) -> int:
    """The first run number whose organisation names and e-mail addresses are all free."""
    run = 2
    while await _run_taken(session, run):
        run += 1
    return run


async def _run_taken(session: AsyncSession, run: int) -> bool:
    names = [_suffix(name, run) for name in (OPERATOR_NAME, *(p.name for p in CLIENTS + BUYERS))]
    emails = [email for email, _, _ in _logins(run)]
    organizations = await session.scalar(
        select(func.count()).select_from(Organization).where(Organization.name.in_(names))
    )
    users = await session.scalar(
        select(func.count()).select_from(User).where(User.email.in_(emails))
    )
    return bool(organizations or users)


async def _identifiers_in_use(session: AsyncSession) -> set[str]:
    rows = await session.execute(select(Device.imei, Device.serial))
    return {value for row in rows for value in row if value is not None}


class _Loader:
    """Writes a DemoPlan level by level, flushing for ids, then its events and row versions."""

    def __init__(self, session: AsyncSession, plan: DemoPlan, *, run: int, password_hash: str):
        self.session = session
        self.plan = plan
        self.run = run
        self.password_hash = password_hash
        self.facts: list[Fact] = []

    async def load(self) -> DemoSummary:
        plan = self.plan
        operator, clients, buyers = await self._organizations()
        users = await self._users(operator, clients, buyers)
        grader = next(user for user in users if user.role is Role.WAREHOUSE)
        plan.lay_out(clients, buyers)
        await self._add([lot for lot, _ in plan.lots])
        await self._add(demo_rows.devices(plan))
        await self._add(demo_rows.grades(plan, grader.id))
        demo_rows.current_grades(plan)
        for level in _LEVELS:
            await self._add(level(plan))
        events = await self._write_events([*self.facts, *history(plan)])
        return _summary(plan, users, organizations=1 + len(clients) + len(buyers), events=events)

    async def _add(self, rows: Sequence[object]) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def _organizations(self) -> tuple[Organization, list[Organization], list[Organization]]:
        operator = self._organization(OPERATOR_NAME, OrganizationKind.OPERATOR)
        clients = [self._organization(party.name, OrganizationKind.CLIENT) for party in CLIENTS]
        for client, party in zip(clients, CLIENTS, strict=True):
            client.commission_bps = party.commission_bps
            client.fee_per_device_minor = party.fee_per_device_minor
        buyers = [self._organization(party.name, OrganizationKind.BUYER) for party in BUYERS]
        await self._add([operator, *clients, *buyers])
        for organization in (operator, *clients, *buyers):
            changes = {"name": organization.name, "kind": organization.kind}
            self.facts.append(
                Fact(self.plan.start, "organization.created", organization, changes, [])
            )
        return operator, clients, buyers

    def _organization(self, name: str, kind: OrganizationKind) -> Organization:
        return Organization(
            name=_suffix(name, self.run), kind=kind, currency=CURRENCY, created_at=self.plan.start
        )

    async def _users(
        self, operator: Organization, clients: list[Organization], buyers: list[Organization]
    ) -> list[User]:
        homes = [operator] * len(STAFF) + clients + buyers
        users = [
            User(
                organization_id=home.id,
                email=email,
                name=name,
                role=role,
                password_hash=self.password_hash,
                active=True,
                created_at=self.plan.start,
            )
            for home, (email, name, role) in zip(homes, _logins(self.run), strict=True)
        ]
        await self._add(users)
        for user in users:
            changes = {
                "email": user.email,
                "role": user.role,
                "organizationId": user.organization_id,
            }
            self.facts.append(Fact(self.plan.start, "user.created", user, changes, []))
        return users

    async def _write_events(self, facts: list[Fact]) -> int:
        """Append the facts as events in time order; then give each row the version (and
        update time) of its last event, as if every change had been made one by one."""
        latest: dict[tuple[str, int], tuple[int, datetime]] = {}
        for fact in sorted(facts, key=lambda fact: fact.at):
            key = (type(fact.entity).__name__, fact.entity.id)
            version = latest[key][0] + 1 if key in latest else 1
            latest[key] = (version, fact.at)
            event = append_event(
                self.session,
                type=fact.type,
                entity_type=key[0],
                entity_id=key[1],
                entity_version=version,
                changes=fact.changes,
                audiences=fact.audiences,
                actor=ACTOR,
            )
            event.occurred_at = fact.at
        await self.session.flush()
        for model in _VERSIONED:
            table = Base.metadata.tables[model.__tablename__]
            rows = [
                {"row_id": entity_id, "row_version": version, "row_updated": at}
                for (name, entity_id), (version, at) in latest.items()
                if name == model.__name__
            ]
            statement = (
                update(table)
                .where(table.c.id == bindparam("row_id"))
                .values(version=bindparam("row_version"), updated_at=bindparam("row_updated"))
            )
            await self.session.execute(statement, rows)
        return len(facts)


_LEVELS: tuple[Callable[[DemoPlan], Sequence[object]], ...] = (
    demo_rows.listings,
    demo_rows.offers,
    demo_rows.counter_offers,
    demo_rows.orders,
    demo_rows.order_lines_and_shipments,
    demo_rows.settlement,
    demo_rows.settlement_lines,
)
"""Rows that need the ids of the level before them, in the order they are written."""

_VERSIONED = (Organization, User, Lot, Device, Listing, Offer, Order, Shipment, Settlement)


def _summary(plan: DemoPlan, users: list[User], *, organizations: int, events: int) -> DemoSummary:
    statuses = Counter(unit.device.status for unit in plan.units)
    settlement = plan.settlement
    return DemoSummary(
        logins=[(user.email, user.role.value) for user in users],
        organizations=organizations,
        lots=len(plan.lots),
        devices_by_status={status.value: statuses[status] for status in DeviceStatus},
        listings=sum(unit.listing is not None for unit in plan.units),
        offers=len(plan.offers),
        orders=len(plan.sales),
        shipments=sum(sale.shipment is not None for sale in plan.sales),
        settlements=0 if settlement is None else 1,
        settlement_lines=0 if settlement is None else len(settlement.lines),
        events=events,
    )
