"""Fan-out: the time to deliver one committed event to N websocket subscribers, and the
server's CPU per delivered message, by delivery path.

    .venv/bin/python -m bench.fanout --subscribers 100 1000 --events 30

The app runs in this process (uvicorn on a free port, on a fresh migrated SQLite file, or on
``--database-url postgresql+asyncpg://...``). A separate client process opens N
graphql-transport-ws sockets, each subscribed to `events` (all eight fields) as one operator.
Events are committed one at a time through the app's own sessions, as a mutation would; for
each, the client reports when the last of the N subscribers has it (CLOCK_MONOTONIC is shared
by processes). Server CPU is this process's CPU time (all threads: the database thread
included) over the measured events, divided by the messages delivered.

``--paths`` picks the delivery paths (the default runs all three):

- ``per-subscriber``: DEVICEGRAPH_SUBSCRIPTION_GROUPING=false, every event rendered and
  encoded once per subscriber, as strawberry does by default;
- ``grouped``: rendered once per group, each message still sent through strawberry's
  per-operation path (DEVICEGRAPH_WS_DIRECT_DELIVERY=false);
- ``direct``: rendered once per group and written straight to each socket (the default).

The clients offer permessage-deflate, as browsers do; ``--compression on`` lets the server
accept it (DEVICEGRAPH_WS_COMPRESSION; compression is per socket, so it is paid per message).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

EVENTS = (
    "subscription { events { cursor type entityType entityId entityVersion occurredAt actor "
    "changes } }"
)
PASSWORD = "bench password for fan-out"


PATHS = {
    "per-subscriber": {"subscription_grouping": False, "ws_direct_delivery": False},
    "grouped": {"subscription_grouping": True, "ws_direct_delivery": False},
    "direct": {"subscription_grouping": True, "ws_direct_delivery": True},
}


@dataclass
class Figures:
    path: str
    compression: bool
    subscribers: int
    events: int
    fanout_ms: list[float]
    cpu_seconds: float
    wall_seconds: float
    renderings: int

    @property
    def messages(self) -> int:
        return self.events * self.subscribers

    def row(self) -> str:
        ordered = sorted(self.fanout_ms)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        return (
            f"| {self.path} | {'on' if self.compression else 'off'} "
            f"| {self.subscribers} | {self.events} "
            f"| {statistics.median(ordered):.1f} | {p90:.1f} | {ordered[-1]:.1f} "
            f"| {self.cpu_seconds / self.messages * 1e6:.0f} "
            f"| {self.messages / self.wall_seconds:,.0f} "
            f"| {self.renderings / self.events:.1f} |"
        )


HEADER = (
    "| path | compression | subscribers | events | fan-out p50 ms | p90 ms | max ms "
    "| server CPU µs/message | messages/s | renderings/event |\n"
    "|---|---|---|---|---|---|---|---|---|---|"
)


def _raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the client process --------------------------------------------------------------------


async def _client(url: str, token: str, count: int) -> None:
    from websockets.asyncio.client import ClientConnection, connect

    received: dict[int, int] = {}
    first_at: dict[int, float] = {}

    async def subscriber(index: int, ready: asyncio.Event, all_ready: asyncio.Event) -> None:
        async with connect(
            url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            proxy=None,
            max_size=None,
            compression="deflate",  # offered, as browsers do; the server decides
        ) as socket:
            await _handshake(socket, token, index)
            ready.set()
            await all_ready.wait()
            async for raw in socket:
                message = json.loads(raw)
                if message.get("type") == "ping":
                    await socket.send('{"type":"pong"}')
                    continue
                if message.get("type") != "next":
                    print(f"unexpected {message}", file=sys.stderr, flush=True)
                    continue
                n = message["payload"]["data"]["events"]["changes"]["n"]
                seen = received.get(n, 0) + 1
                received[n] = seen
                if seen == 1:
                    first_at[n] = time.monotonic()
                if seen == count:
                    print(f"done {n} {first_at.pop(n)} {time.monotonic()}", flush=True)
                    del received[n]

    async def _handshake(socket: ClientConnection, token: str, index: int) -> None:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        ack = json.loads(await socket.recv())
        assert ack["type"] == "connection_ack", ack
        await socket.send(
            json.dumps({"id": f"s{index}", "type": "subscribe", "payload": {"query": EVENTS}})
        )

    all_ready = asyncio.Event()
    tasks = []
    for start in range(0, count, 50):  # open in slices: the server authenticates each one
        readies = []
        for index in range(start, min(count, start + 50)):
            ready = asyncio.Event()
            readies.append(ready)
            tasks.append(asyncio.create_task(subscriber(index, ready, all_ready)))
        await asyncio.gather(*(ready.wait() for ready in readies))
    all_ready.set()
    print("ready", flush=True)
    await asyncio.gather(*tasks)


# --- the server side -----------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _serve(app: Any, *, compression: bool) -> AsyncIterator[int]:
    import uvicorn

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_level="warning",
        access_log=False,
        ws_per_message_deflate=compression,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped before it started")
        await asyncio.sleep(0.01)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        await task


async def _operator_token(sessions: Any) -> str:
    from app.auth.passwords import hash_password
    from app.auth.sessions import sign_in
    from app.domain.statuses import OrganizationKind, Role
    from app.models import Organization, User

    suffix = time.time_ns()
    email = f"bench{suffix}@devicegraph.test"
    async with sessions.begin() as session:
        organization = Organization(
            name=f"Bench operator {suffix}", kind=OrganizationKind.OPERATOR, currency="EUR"
        )
        session.add(organization)
        await session.flush()
        session.add(
            User(
                organization_id=organization.id,
                email=email,
                name="Bench",
                role=Role.ADMIN,
                password_hash=hash_password(PASSWORD),
            )
        )
    signed_in = await sign_in(sessions, email, PASSWORD, ttl=timedelta(hours=2))
    return signed_in.token


async def _commit(sessions: Any, n: int) -> None:
    from app.services.events import append_event

    async with sessions.begin() as session:
        append_event(
            session,
            type="bench.fanout",
            entity_type="Device",
            entity_id=n + 1,
            entity_version=1,
            changes={"n": n, "status": "GRADED", "grade": "A"},
            audiences=["public"],
            actor="user:1",
        )


async def measure(
    database_url: str, subscribers: int, events: int, path: str, *, compression: bool = False
) -> Figures:
    from app.main import create_app
    from app.migrate import upgrade
    from app.pubsub.render import render_groups_of
    from app.resolvers.root import schema
    from app.settings import Settings

    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(
        database_url=database_url,
        **PATHS[path],
        ws_compression=compression,
        subscriber_queue_max=100_000,
        ws_max_connections_per_identity=0,
        log_level="warning",
    )
    app = create_app(settings)
    groups = render_groups_of(schema)
    async with _serve(app, compression=compression) as port:
        runtime = app.state.runtime
        token = await _operator_token(runtime.sessions)
        client = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fanout",
            "--client",
            f"ws://127.0.0.1:{port}/graphql",
            token,
            str(subscribers),
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        assert client.stdout is not None
        try:
            line = await asyncio.wait_for(client.stdout.readline(), 300)
            if line.strip() != b"ready":
                raise RuntimeError(f"client: {line!r}")
            while runtime.hub.subscriber_count < subscribers:  # noqa: ASYNC110 - no event to wait on
                await asyncio.sleep(0.05)

            async def one(n: int) -> float:
                started = time.monotonic()
                await _commit(runtime.sessions, n)
                done = (await asyncio.wait_for(client.stdout.readline(), 120)).split()
                if done[:2] != [b"done", str(n).encode()]:
                    raise RuntimeError(f"client: {done!r}")
                return (float(done[3]) - started) * 1000

            for n in range(3):  # warm-up, not measured
                await one(n)
            renderings_before = groups.renderings if groups is not None else 0
            cpu_before, wall_before = time.process_time(), time.monotonic()
            fanout = [await one(n) for n in range(3, 3 + events)]
            cpu = time.process_time() - cpu_before
            wall = time.monotonic() - wall_before
            renderings = (groups.renderings if groups is not None else 0) - renderings_before
        finally:
            client.kill()
            await client.wait()
    return Figures(path, compression, subscribers, events, fanout, cpu, wall, renderings)


async def _main(args: argparse.Namespace) -> None:
    _raise_file_limit()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for subscribers in args.subscribers:
            for path in args.paths:
                url = args.database_url or (
                    f"sqlite+aiosqlite:///{Path(directory) / f'fanout-{subscribers}-{path}.db'}"
                )
                figures = await measure(
                    url, subscribers, args.events, path, compression=args.compression == "on"
                )
                rows.append(figures.row())
                print(figures.row(), flush=True)
    print()
    print(HEADER)
    print("\n".join(rows))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        _raise_file_limit()
        url, token, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
        _run(_client(url, token, count))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--events", type=int, default=30, help="measured events per run")
    parser.add_argument("--paths", nargs="+", choices=list(PATHS), default=list(PATHS))
    parser.add_argument(
        "--compression",
        choices=["on", "off"],
        default="off",
        help="whether the server accepts permessage-deflate (clients offer it)",
    )
    parser.add_argument(
        "--database-url", help="an empty PostgreSQL database (default: a fresh SQLite file)"
    )
    _run(_main(parser.parse_args()))


def _run(coroutine: Any) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coroutine)
    else:
        uvloop.run(coroutine)


if __name__ == "__main__":
    main()
