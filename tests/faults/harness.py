"""What the fault tests run: app processes, writers, resuming subscribers, a /readyz watcher.

- ``AppProcess``: ``uvicorn app.main:create_app`` as a separate OS process (so ``kill -9`` is
  real), configured through DEVICEGRAPH_* variables.
- ``Writer``: commits ``receiveDevice`` through the GraphQL API at a steady rate, on whichever
  process is up, and counts what was acknowledged and what failed.
- ``Subscriber``: a graphql-transport-ws client following the ``events`` subscription. When its
  socket closes or its stream ends, it reconnects to a process that is up and resumes with
  ``after`` set to the last cursor it received.
- ``ReadyWatcher``: polls every process's /readyz and files each answer under the test's
  current phase (before, outage, after).
- ``tally``: a subscriber's sequence against the log: lost, duplicated, in order or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.services import free_port, port_open
from tests.support.ws import GraphQLSocket

ROOT = Path(__file__).resolve().parents[2]

EVENTS = """
subscription Follow($after: String) {
  events(after: $after) { cursor type entityId }
}"""

RECEIVE = """
mutation Receive($input: ReceiveDeviceInput!) {
  receiveDevice(input: $input) {
    __typename
    ... on ReceiveDevicePayload { device { id } }
    ... on Error { code message }
  }
}"""


# --- App processes -------------------------------------------------------------------------


class AppProcess:
    """One app server in its own OS process, on a port of its own."""

    def __init__(self, name: str, env: dict[str, str], logdir: Path) -> None:
        self.name = name
        self.env = env
        self.port = free_port()
        self.logfile = logdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.killed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    @property
    def up(self) -> bool:
        return not self.killed and self.process is not None and self.process.poll() is None

    def start(self, wait: float = 30.0) -> None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with self.logfile.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + wait
        while not port_open(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, sockets are closed by the kernel."""
        self.killed = True
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        return ""


def app_env(database_url: str, broadcast_url: str) -> dict[str, str]:
    return {
        "DEVICEGRAPH_DATABASE_URL": database_url,
        "DEVICEGRAPH_BROADCAST_URL": broadcast_url,
        "DEVICEGRAPH_RATE_LIMIT_REQUESTS": "0",  # the writers are few identities, fast
        "DEVICEGRAPH_LOG_LEVEL": "warning",
        "DEVICEGRAPH_EVENT_POLL_INTERVAL": "1.0",
        "DEVICEGRAPH_BROADCAST_READY_TIMEOUT": "10",
    }


class Cluster:
    """The app processes of one test; ``up()`` are those that have not been killed."""

    def __init__(self, processes: Sequence[AppProcess]) -> None:
        self.processes = list(processes)
        self._turn = itertools.count()

    def up(self) -> list[AppProcess]:
        return [process for process in self.processes if process.up]

    def next_up(self, avoid: AppProcess | None = None) -> AppProcess:
        """A process that is up, in turn; another than ``avoid`` when there is one."""
        candidates = self.up() or self.processes
        if avoid is not None and len(candidates) > 1:
            candidates = [process for process in candidates if process is not avoid]
        return candidates[next(self._turn) % len(candidates)]


# --- Writers -------------------------------------------------------------------------------


@dataclass
class Writer:
    """Commits one device a time through the API; ``acknowledged`` holds the device ids the
    API confirmed, ``failed`` counts calls that got an error or no answer (not committed as
    far as the writer knows; the log is the truth)."""

    name: str
    token: str
    client_id: str
    cluster: Cluster
    interval: float
    acknowledged: list[str] = field(default_factory=list)
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    async def run(self, stop: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(timeout=5.0, trust_env=False) as http:
            while not stop.is_set():
                server = self.cluster.next_up()
                variables = {
                    "input": {
                        "clientId": self.client_id,
                        "make": "Apple",
                        "model": f"iPhone {self.name}",
                        "serial": f"FT{uuid.uuid4().hex[:16].upper()}",
                        "idempotencyKey": uuid.uuid4().hex,
                    }
                }
                try:
                    response = await http.post(
                        server.graphql_url,
                        json={"query": RECEIVE, "variables": variables},
                        headers=headers,
                    )
                    if response.status_code != 200:
                        self._fail(f"HTTP {response.status_code} {error_code(response)}")
                    else:
                        self._record(response.json())
                except (httpx.HTTPError, ValueError) as exc:
                    self._fail(type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)

    def _record(self, payload: dict[str, Any]) -> None:
        result = (payload.get("data") or {}).get("receiveDevice") or {}
        if result.get("__typename") == "ReceiveDevicePayload":
            self.acknowledged.append(result["device"]["id"])
        else:
            errors = payload.get("errors") or [{}]
            code = (errors[0].get("extensions") or {}).get("code")
            self._fail(f"HTTP 200 {code or str(payload.get('errors') or result)[:80]}")

    def _fail(self, reason: str) -> None:
        self.failed += 1
        self.errors[reason] += 1


def error_code(response: httpx.Response) -> str:
    """The first error's extensions.code of a refused request, or what the body was."""
    try:
        errors = response.json().get("errors") or [{}]
        return str((errors[0].get("extensions") or {}).get("code"))
    except (ValueError, AttributeError):
        return f"not JSON: {response.text[:40]!r}"


# --- Subscribers ---------------------------------------------------------------------------


@dataclass
class Subscriber:
    """Follows ``events`` from ``after``; resumes from its last cursor after any interruption."""

    name: str
    token: str
    cluster: Cluster
    home: AppProcess
    after: str
    received: list[str] = field(default_factory=list)
    """Cursors in the order received, repeats included."""
    connections: list[str] = field(default_factory=list)
    """The process of each connection made, in order."""
    interruptions: Counter[str] = field(default_factory=Counter)
    _socket: GraphQLSocket | None = None

    async def run(self) -> None:
        server = self.home
        while True:
            try:
                await self._follow(server)
                self.interruptions["stream ended"] += 1
            except Exception as exc:  # whatever broke, resume from the last cursor
                self.interruptions[type(exc).__name__] += 1
            await asyncio.sleep(0.2)
            server = self.cluster.next_up() if not server.up else server

    async def _follow(self, server: AppProcess) -> None:
        async with GraphQLSocket.connect(server.ws_url, token=self.token, wait=3.0) as socket:
            self._socket = socket
            self.connections.append(server.name)
            try:
                operation = await socket.subscribe(EVENTS, {"after": self.after})
                while True:
                    try:
                        message = await socket.message(operation, wait=1.0)
                    except TimeoutError:
                        continue
                    payload = message.get("payload") or {}
                    if message["type"] != "next" or payload.get("errors"):
                        self.interruptions[_reason(message)] += 1
                        return
                    cursor = payload["data"]["events"]["cursor"]
                    self.received.append(cursor)
                    self.after = cursor
            finally:
                self._socket = None

    async def bounce(self) -> None:
        """Close the socket from this side: the subscriber reconnects and resumes."""
        socket = self._socket
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.connection.close()


def _reason(message: dict[str, Any]) -> str:
    errors = (message.get("payload") or {}).get("errors") or message.get("payload") or []
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = (errors[0].get("extensions") or {}).get("code")
        return f"{message['type']} {code or errors[0].get('message', '')[:40]}"
    return str(message["type"])


# --- /readyz -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Readiness:
    process: str
    phase: str
    status: int | None
    """HTTP status; None when the process did not answer at all."""
    checks: dict[str, Any]

    def failing(self) -> set[str]:
        return {name for name, check in self.checks.items() if not check.get("ok")}


class ReadyWatcher:
    def __init__(self, cluster: Cluster, interval: float = 0.2) -> None:
        self.cluster = cluster
        self.interval = interval
        self.phase = "before"
        self.samples: list[Readiness] = []

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=3.0, trust_env=False) as http:
            while True:
                await asyncio.gather(*(self._sample(http, p) for p in self.cluster.processes))
                await asyncio.sleep(self.interval)

    async def _sample(self, http: httpx.AsyncClient, process: AppProcess) -> None:
        phase = self.phase
        try:
            response = await http.get(f"{process.url}/readyz")
            checks = response.json().get("checks", {})
            self.samples.append(Readiness(process.name, phase, response.status_code, checks))
        except (httpx.HTTPError, ValueError):
            self.samples.append(Readiness(process.name, phase, None, {}))

    def summary(self, phase: str) -> str:
        """Per process: answers during ``phase`` by status, and the checks that failed."""
        parts = []
        for process in self.cluster.processes:
            samples = self.during(phase, process)
            statuses = Counter("no answer" if s.status is None else s.status for s in samples)
            failing = sorted(set().union(*(s.failing() for s in samples)))
            parts.append(f"{process.name}: {dict(statuses)} failing={failing}")
        return f"/readyz {phase}: " + "; ".join(parts)

    def during(self, phase: str, process: AppProcess) -> list[Readiness]:
        return [s for s in self.samples if s.phase == phase and s.process == process.name]

    async def wait_ready(self, processes: Sequence[AppProcess], wait: float = 20.0) -> None:
        """Until the newest answer of each process is 200."""

        def ready() -> bool:
            newest = {s.process: s for s in self.samples}
            return all(
                (sample := newest.get(p.name)) is not None and sample.status == 200
                for p in processes
            )

        await until(ready, wait=wait, what="every process ready")


# --- Tallies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    committed: int
    delivered: int
    lost: int
    duplicated: int
    in_order: bool


def tally(committed: Sequence[str], received: Sequence[str]) -> Tally:
    wanted = set(committed)
    got = Counter(received)
    return Tally(
        committed=len(committed),
        delivered=len(received),
        lost=len(wanted - set(got)),
        duplicated=sum(count - 1 for count in got.values() if count > 1),
        in_order=list(received) == list(committed),
    )


async def until(check: Callable[[], bool], *, wait: float, what: str) -> None:
    deadline = time.monotonic() + wait
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {wait} s waiting for {what}")
        await asyncio.sleep(0.05)
