"""Subscribers in their own OS processes, so the client side never shares the server's event
loop (nor, as far as two cores allow, its CPU).

Each process opens ``sockets`` graphql-transport-ws connections (``per_socket`` subscriptions on
each) and records, for every event it receives, the wall-clock receive time under the event's
key ``<entityId>/<entityVersion>``. The parent drives it through a pipe:

    ("collect",)      -> {"records": {key: (occurredAt, [receive times])}, "lagged", "ended",
                          "open", "cpu_seconds"}, and forget the records
    ("resubscribe",)  -> start again every subscription that ended (LAGGED or closed)
    ("stop",)         -> close the sockets and exit

Before the first command it sends ``{"ready": ...}`` with how many subscriptions were sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import multiprocessing
import os
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

EVENTS_SUBSCRIPTION = (
    "subscription { events { cursor type entityType entityId entityVersion occurredAt actor "
    "changes } }"
)
BOARD_SUBSCRIPTION = (
    "subscription { listingBoard(first: 50) { kind cursor removedIds totalCount hasMore "
    "listings { id status version updatedAt price { amountMinor amount currency } "
    "device { id make model storageGb colour currentGrade { cosmetic batteryHealthPct } } } } }"
)
SUBSCRIPTIONS = {"events": EVENTS_SUBSCRIPTION, "listingBoard": BOARD_SUBSCRIPTION}
"""The keys are the root fields: a board update's changed listings are keyed by their id and
version, their ``updatedAt`` (set in the writing transaction) standing for ``occurredAt``."""
PROTOCOL = "graphql-transport-ws"


@dataclass
class Plan:
    url: str
    tokens: list[str]
    sockets: int
    per_socket: int
    query: str = EVENTS_SUBSCRIPTION
    field: str = "events"
    connect_concurrency: int = 50


@dataclass
class _State:
    records: dict[str, tuple[str, array[float]]] = field(default_factory=dict)
    lagged: int = 0
    ended: int = 0
    other_errors: list[str] = field(default_factory=list)
    open_ops: int = 0
    closed_ops: list[tuple[Any, str]] = field(default_factory=list)


def _keys(field_name: str, item: dict[str, Any]) -> list[tuple[str, str]]:
    """(entity id/version, the time it was written) of what one message carries."""
    if field_name == "listingBoard":
        if item["kind"] == "SNAPSHOT":
            return []
        return [(f"{row['id']}/{row['version']}", row["updatedAt"]) for row in item["listings"]]
    return [(f"{item['entityId']}/{item['entityVersion']}", item["occurredAt"])]


def start(plan: Plan) -> tuple[multiprocessing.process.BaseProcess, Connection]:
    """A subscriber process for ``plan``; returns it and the parent's end of its pipe."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_main, args=(child, plan), daemon=True)
    process.start()
    child.close()
    return process, parent


def _main(pipe: Connection, plan: Plan) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_run(pipe, plan))


async def _run(pipe: Connection, plan: Plan) -> None:
    from websockets.asyncio.client import connect

    state = _State()
    ids = itertools.count(1)
    connections: list[Any] = []
    readers: list[asyncio.Task[None]] = []
    gate = asyncio.Semaphore(plan.connect_concurrency)
    failures: list[str] = []
    field_name = plan.field

    def subscribe_message() -> str:
        return json.dumps(
            {"id": str(next(ids)), "type": "subscribe", "payload": {"query": plan.query}}
        )

    async def reader(connection: Any) -> None:
        records = state.records
        try:
            async for raw in connection:
                now = time.time()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    payload = message["payload"]
                    data = payload.get("data")
                    if data and data.get(field_name):
                        for key, at in _keys(field_name, data[field_name]):
                            record = records.get(key)
                            if record is None:
                                record = records[key] = (at, array("d"))
                            record[1].append(now)
                    elif payload.get("errors"):
                        codes = {
                            (error.get("extensions") or {}).get("code")
                            for error in payload["errors"]
                        }
                        if "LAGGED" in codes:
                            state.lagged += 1
                        else:
                            state.other_errors.append(json.dumps(payload["errors"])[:300])
                elif kind in ("complete", "error"):
                    state.ended += 1
                    state.open_ops -= 1
                    state.closed_ops.append((connection, message.get("id", "")))
                    if kind == "error":
                        state.other_errors.append(json.dumps(message)[:300])
                elif kind == "ping":
                    await connection.send('{"type":"pong"}')
        except Exception as exc:  # a closed socket ends its subscriptions
            failures.append(f"socket: {type(exc).__name__}: {exc}"[:300])

    async def open_socket(index: int) -> None:
        token = plan.tokens[index % len(plan.tokens)]
        async with gate:
            try:
                connection = await connect(
                    plan.url,
                    subprotocols=[PROTOCOL],  # type: ignore[list-item]
                    compression=None,
                    open_timeout=60,
                    max_size=None,
                    proxy=None,
                    ping_interval=None,
                )
                await connection.send(
                    json.dumps(
                        {
                            "type": "connection_init",
                            "payload": {"Authorization": f"Bearer {token}"},
                        }
                    )
                )
                ack = json.loads(await asyncio.wait_for(connection.recv(), 60))
                if ack.get("type") != "connection_ack":
                    raise RuntimeError(f"expected connection_ack, got {ack}")
                for _ in range(plan.per_socket):
                    await connection.send(subscribe_message())
                    state.open_ops += 1
                if plan.field == "listingBoard" and plan.per_socket:
                    # the board starts with a snapshot query: wait for it before the next
                    # socket, so that start-up is a ramp and not a storm on the pool
                    for _ in range(plan.per_socket):
                        first = json.loads(await asyncio.wait_for(connection.recv(), 120))
                        if first.get("type") != "next":
                            state.other_errors.append(json.dumps(first)[:300])
                        if first.get("type") in ("error", "complete"):
                            state.open_ops -= 1
                            state.ended += 1
                            state.closed_ops.append((connection, first.get("id", "")))
            except Exception as exc:
                failures.append(f"connect: {type(exc).__name__}: {exc}"[:300])
                return
        connections.append(connection)
        readers.append(asyncio.create_task(reader(connection)))

    started = time.monotonic()
    await asyncio.gather(*(open_socket(index) for index in range(plan.sockets)))
    pipe.send(
        {
            "ready": len(connections),
            "subscriptions": state.open_ops,
            "failures": failures[:5],
            "failed": len(failures),
            "seconds": time.monotonic() - started,
            "pid": os.getpid(),
        }
    )

    while True:
        command = await asyncio.to_thread(pipe.recv)
        if command[0] == "collect":
            records = dict(state.records)
            state.records.clear()  # the readers hold this dict
            pipe.send(
                {
                    "records": {key: (at, list(times)) for key, (at, times) in records.items()},
                    "lagged": state.lagged,
                    "ended": state.ended,
                    "open": state.open_ops,
                    "errors": state.other_errors[:5],
                    "failures": failures[-5:],
                    "cpu_seconds": sum(os.times()[:2]),
                }
            )
            state.lagged = 0
            state.ended = 0
            state.other_errors.clear()
        elif command[0] == "resubscribe":
            closed, state.closed_ops = state.closed_ops, []
            for connection, _ in closed:
                with contextlib.suppress(Exception):
                    await connection.send(subscribe_message())
                    state.open_ops += 1
            pipe.send({"resubscribed": len(closed)})
        elif command[0] == "stop":
            break
    for task in readers:
        task.cancel()
    await asyncio.gather(
        *(connection.close() for connection in connections), return_exceptions=True
    )
    pipe.send({"stopped": True})


class Fleet:
    """Several subscriber processes, spoken to together."""

    def __init__(self, plans: list[Plan]) -> None:
        self.members = [start(plan) for plan in plans]
        self.ready = [self._recv(pipe, 600) for _, pipe in self.members]

    @staticmethod
    def _recv(pipe: Connection, timeout: float) -> dict[str, Any]:
        if not pipe.poll(timeout):
            raise TimeoutError("a subscriber process did not answer")
        answer: dict[str, Any] = pipe.recv()
        return answer

    @property
    def subscriptions(self) -> int:
        return sum(answer["subscriptions"] for answer in self.ready)

    @property
    def pids(self) -> list[int]:
        return [answer["pid"] for answer in self.ready]

    def ask(self, *command: str, timeout: float = 300) -> list[dict[str, Any]]:
        for _, pipe in self.members:
            pipe.send(command)
        return [self._recv(pipe, timeout) for _, pipe in self.members]

    def collect(self) -> list[dict[str, Any]]:
        return self.ask("collect")

    def close(self) -> None:
        for process, pipe in self.members:
            with contextlib.suppress(Exception):
                pipe.send(("stop",))
                self._recv(pipe, 60)
            process.join(10)
            if process.is_alive():
                process.terminate()
                process.join(5)


def spread(
    urls: list[str],
    tokens: list[str],
    subscriptions: int,
    processes: int,
    per_socket: int = 1,
    field: str = "events",
) -> list[Plan]:
    """Plans for ``subscriptions`` over ``processes`` processes, the sockets split evenly over
    the servers at ``urls`` (process i talks to server i mod len(urls))."""
    sockets = -(-subscriptions // per_socket)
    plans = []
    for index in range(processes):
        share = sockets // processes + (1 if index < sockets % processes else 0)
        if share:
            url = urls[index % len(urls)]
            plans.append(
                Plan(
                    url=url,
                    tokens=tokens,
                    sockets=share,
                    per_socket=per_socket,
                    query=SUBSCRIPTIONS[field],
                    field=field,
                )
            )
    return plans
