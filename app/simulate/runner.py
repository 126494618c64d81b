"""Run the simulation at a steady rate and report what happened.

Actions start on a fixed schedule (``rate`` a second); each runs as its own task, at most
``max_in_flight`` at once: when the server falls behind, the schedule waits and the report's
achieved rate shows it. Every action is counted by outcome: ok, or the error code the server
answered (typed error, ``extensions.code``, ``HTTP_<status>``, ``TRANSPORT``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import httpx

from app.domain.statuses import Role
from app.services.demo_data import BUYERS, CLIENTS, OPERATOR_DOMAIN
from app.simulate import operations as ops
from app.simulate.actions import NOTHING_TO_SETTLE, Action, Cast, Party, Simulation
from app.simulate.client import ActionFailed, GraphQLApi


@dataclass(slots=True)
class Report:
    rate: float
    seconds: float = 0.0
    ok: Counter[str] = field(default_factory=Counter)
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    busy_seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    first_errors: list[str] = field(default_factory=list)

    @property
    def actions(self) -> int:
        return sum(self.ok.values()) + sum(self.errors.values()) + sum(self.skipped.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def describe(self) -> str:
        achieved = self.actions / self.seconds if self.seconds else 0.0
        lines = [
            f"{self.actions} actions in {self.seconds:.1f} s: {achieved:.1f}/s "
            f"(asked {self.rate:g}/s), {self.error_count} errors",
            f"{'action':<22}{'ok':>8}{'errors':>8}{'mean ms':>10}",
        ]
        names = sorted(set(self.ok) | {name for name, _ in self.errors} | set(self.skipped))
        for name in names:
            failed = sum(n for (action, _), n in self.errors.items() if action == name)
            done = self.ok[name] + failed + self.skipped[name]
            mean = 1000 * self.busy_seconds[name] / done if done else 0.0
            lines.append(f"{name:<22}{self.ok[name]:>8}{failed:>8}{mean:>10.1f}")
        for (name, code), count in sorted(self.errors.items()):
            lines.append(f"error {name} {code}: {count}")
        for name, count in sorted(self.skipped.items()):
            lines.append(f"skipped {name} (nothing left to settle): {count}")
        lines.extend(f"  e.g. {example}" for example in self.first_errors)
        return "\n".join(lines)


def demo_email(local: str, domain: str, run: int = 1) -> str:
    """A demo login (app.services.demo): run 2 and later carry ``+run``."""
    return f"{local}@{domain}" if run == 1 else f"{local}+{run}@{domain}"


async def sign_in(api: GraphQLApi, email: str, password: str) -> tuple[str, str]:
    """(token, organisation id) of a demo user."""
    try:
        payload = await api.call(None, ops.SIGN_IN, {"email": email, "password": password})
    except ActionFailed as exc:
        raise RuntimeError(
            f"cannot sign in as {email} ({exc.code}): is the demo loaded "
            "(`devicegraph seed-demo`) and the password right?"
        ) from exc
    return str(payload["token"]), str(payload["organization"]["id"])


async def sign_in_cast(api: GraphQLApi, password: str, run: int = 1) -> Cast:
    staff: dict[Role, str] = {}
    for role in (Role.WAREHOUSE, Role.SALES, Role.FINANCE):
        email = demo_email(role.value.lower(), OPERATOR_DOMAIN, run)
        staff[role], _ = await sign_in(api, email, password)
    clients = [
        (await sign_in(api, demo_email("portal", f"{c.slug}.demo", run), password))[1]
        for c in CLIENTS
    ]
    buyers = [
        Party(*await sign_in(api, demo_email("buyer", f"{b.slug}.demo", run), password))
        for b in BUYERS
    ]
    return Cast(
        warehouse=staff[Role.WAREHOUSE],
        sales=staff[Role.SALES],
        finance=staff[Role.FINANCE],
        clients=tuple(clients),
        buyers=tuple(buyers),
    )


async def simulate(
    url: str,
    *,
    rate: float,
    duration: float | None = None,
    password: str,
    seed: int | None = None,
    max_in_flight: int = 64,
    stop: asyncio.Event | None = None,
    run: int = 1,
) -> Report:
    """Act against the server at ``url`` until ``duration`` passes or ``stop`` is set."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    report = Report(rate=rate)
    stop = stop or asyncio.Event()
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    async with httpx.AsyncClient(
        base_url=url.rstrip("/"), timeout=30, limits=limits, trust_env=False
    ) as http:
        api = GraphQLApi(http)
        cast = await sign_in_cast(api, password, run)
        simulation = Simulation(api, cast, random.Random(seed))
        slots = asyncio.Semaphore(max_in_flight)
        tasks: set[asyncio.Task[None]] = set()

        async def perform(name: str, action: Action) -> None:
            started = time.perf_counter()
            try:
                await action()
            except ActionFailed as exc:
                if exc.code == NOTHING_TO_SETTLE:
                    report.skipped[name] += 1
                else:
                    report.errors[(name, exc.code)] += 1
                    if len(report.first_errors) < 5:
                        report.first_errors.append(f"{name}: {exc}")
            else:
                report.ok[name] += 1
            finally:
                report.busy_seconds[name] += time.perf_counter() - started
                slots.release()

        started = time.monotonic()
        deadline = None if duration is None else started + duration
        count = 0
        while not stop.is_set():
            due = started + count / rate
            now = time.monotonic()
            if deadline is not None and due >= deadline:
                break
            if due > now:
                try:
                    await asyncio.wait_for(stop.wait(), due - now)
                    break
                except TimeoutError:
                    pass
            await slots.acquire()
            name, action = simulation.plan()
            task = asyncio.create_task(perform(name, action))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            count += 1
        if tasks:
            await asyncio.gather(*tasks)
        report.seconds = time.monotonic() - started
    return report
