"""What every benchmark needs: a private PostgreSQL database, real server processes, people
signed in, process figures from /proc, and the JSON results under docs/benchmarks/.

The database is created on the shared server (``BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``) as ``bench_<pid>_<label>``, migrated with
``devicegraph migrate``, loaded with ``devicegraph seed-demo`` and dropped at the end. Servers
are ``devicegraph serve`` processes on free ports, configured through the environment only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks"
LOGS = ROOT / "var" / "bench"
BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
DEMO_PASSWORD = "demo-password"
SALES_EMAIL = "sales@devicegraph.demo"
BUYER_EMAIL = "buyer@phonetrade.demo"


# --- results and the machine -----------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Date, commit, CPU and load: printed beside every figure."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    memory_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit + ("+changes" if dirty else ""),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "load": load(),
    }


def load() -> str:
    """The 1, 5 and 15 minute load averages (as `uptime` prints them)."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def results_dir(quick: bool) -> Path:
    """docs/benchmarks for full runs; a smoke run (--quick) writes under var/bench/quick."""
    return LOGS / "quick" if quick else RESULTS


def write_result(name: str, data: dict[str, Any], *, quick: bool = False) -> Path:
    folder = results_dir(quick)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    data = {"name": name, "machine": machine(), **data}
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by nearest rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def log(message: str) -> None:
    print(f"[{datetime.now(UTC).strftime('%H:%M:%S')}] {message}", flush=True)


# --- the database ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Database:
    name: str

    @property
    def _server(self) -> str:
        parts = urlsplit(ADMIN_URL)
        return (
            f"{parts.username or 'postgres'}@{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
        )

    @property
    def app_url(self) -> str:
        """The SQLAlchemy URL the server uses."""
        return f"postgresql+asyncpg://{self._server}/{self.name}"

    @property
    def plain_url(self) -> str:
        """A libpq/asyncpg URL (also the postgres broadcast URL: NOTIFY is per database)."""
        return f"postgresql://{self._server}/{self.name}"


def _admin(statement: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(ADMIN_URL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def devicegraph(*args: str, database: Database) -> str:
    """Run a ``devicegraph`` command against the database; its output."""
    env = {**os.environ, "DEVICEGRAPH_DATABASE_URL": database.app_url}
    done = subprocess.run(
        [str(BIN / "devicegraph"), *args], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"devicegraph {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@contextlib.contextmanager
def database(label: str, *, seed: bool = True) -> Iterator[Database]:
    """A private database, migrated (and with the demo data), dropped when the block ends."""
    db = Database(f"bench_{os.getpid()}_{label}")
    _admin(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{db.name}"')
    try:
        devicegraph("migrate", database=db)
        if seed:
            devicegraph("seed-demo", database=db)
        yield db
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')


# --- servers -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _cpu_mark: float = field(default=0.0)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)


def broadcast_url(kind: str, db: Database) -> str:
    if kind == "postgres":
        return db.plain_url.replace("postgresql://", "postgres://", 1)
    if kind == "redis":
        return REDIS_URL
    if kind == "memory":
        return "memory://"
    raise ValueError(f"unknown broadcast {kind!r}")


def start_server(db: Database, *, broadcast: str = "postgres", **settings: str) -> Server:
    """``devicegraph serve`` on a free port; returns once /readyz answers 200."""
    LOGS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "DEVICEGRAPH_DATABASE_URL": db.app_url,
        "DEVICEGRAPH_BROADCAST_URL": broadcast_url(broadcast, db),
        "DEVICEGRAPH_LOG_LEVEL": "warning",
        # the load generators use a handful of tokens: the per-identity limit would refuse them
        "DEVICEGRAPH_RATE_LIMIT_REQUESTS": "0",
        # thousands of subscribers share 50 buyer identities: lift the per-identity socket cap
        "DEVICEGRAPH_WS_MAX_CONNECTIONS_PER_IDENTITY": "100000",
        # the capacity series opens 100 subscriptions per socket at once
        "DEVICEGRAPH_WS_MESSAGES_PER_SECOND": "0",
        **{f"DEVICEGRAPH_{name.upper()}": value for name, value in settings.items()},
    }
    log_path = LOGS / f"server-{port}.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "devicegraph"), "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process=process, port=port, log_path=log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}): see {log_path}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return server
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"server on {port} not ready within 60 s: see {log_path}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@contextlib.contextmanager
def servers(
    db: Database, count: int = 1, *, broadcast: str = "postgres", **settings: str
) -> Iterator[list[Server]]:
    """``count`` server processes behind the same database and broadcast."""
    started: list[Server] = []
    try:
        for _ in range(count):
            started.append(start_server(db, broadcast=broadcast, **settings))
        yield started
    finally:
        for server in started:
            stop_server(server)


# --- /proc -------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


# --- GraphQL over HTTP and people ---------------------------------------------------------------


def gql(
    url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    """``data`` of one operation; raises on any error."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=30
    )
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


SIGN_IN = """
mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) {
    __typename
    ... on SignInPayload { token }
    ... on Error { code message }
  }
}
"""


def sign_in(url: str, email: str, password: str = DEMO_PASSWORD) -> str:
    """A bearer token through the signIn mutation (a demo user by default)."""
    result = gql(url, SIGN_IN, {"email": email, "password": password})["signIn"]
    if result["__typename"] != "SignInPayload":
        raise RuntimeError(f"signIn refused for {email}: {result}")
    token: str = result["token"]
    return token


ACTIVE_LISTINGS = """
query Active($after: String) {
  listings(first: 100, after: $after, sort: NEWEST) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def active_listing_ids(url: str, token: str) -> list[str]:
    """Global ids of every ACTIVE listing, as a buyer sees the board."""
    ids: list[str] = []
    after: str | None = None
    while True:
        page = gql(url, ACTIVE_LISTINGS, {"after": after}, token)["listings"]
        ids.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


# --- bench data written directly (for volumes the demo does not have) --------------------------


def add_buyers(db: Database, count: int) -> list[str]:
    """``count`` buyer organisations with one signed-in buyer each: their bearer tokens.

    Written with the ORM, as signIn would (a session row per token), to skip ``count`` slow
    password hashes.
    """
    return asyncio.run(_add_buyers(db, count))


async def _add_buyers(db: Database, count: int) -> list[str]:
    from app.auth.sessions import TOKEN_PREFIX, token_hash
    from app.domain.statuses import OrganizationKind, Role
    from app.models import AuthSession, Organization, User

    tokens: list[str] = []
    engine, sessions = _sessions(db)
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            for number in range(count):
                tag = secrets.token_hex(4)
                organization = Organization(
                    name=f"Bench Buyer {tag} {number}", kind=OrganizationKind.BUYER, currency="EUR"
                )
                session.add(organization)
                await session.flush()
                user = User(
                    organization_id=organization.id,
                    email=f"bench-{tag}-{number}@buyers.bench",
                    name=f"Bench Buyer {number}",
                    role=Role.BUYER,
                    password_hash="not-a-password",
                )
                session.add(user)
                await session.flush()
                token = TOKEN_PREFIX + secrets.token_urlsafe(32)
                session.add(
                    AuthSession(
                        user_id=user.id,
                        token_hash=token_hash(token),
                        created_at=now,
                        expires_at=now + timedelta(hours=6),
                    )
                )
                tokens.append(token)
    finally:
        await engine.dispose()
    return tokens


def add_listings(db: Database, count: int) -> int:
    """``count`` ACTIVE listings of graded, available devices (one transaction per 500)."""
    return asyncio.run(_add_listings(db, count))


async def _add_listings(db: Database, count: int) -> int:
    from sqlalchemy import func, select

    from app.domain.statuses import (
        BlacklistStatus,
        CosmeticGrade,
        DeviceStatus,
        ListingStatus,
        LockStatus,
        OrganizationKind,
    )
    from app.models import Device, Grade, Listing, Organization

    engine, sessions = _sessions(db)
    models = [("Apple", "iPhone 13"), ("Samsung", "Galaxy S22"), ("Google", "Pixel 7")]
    grades = list(CosmeticGrade)
    try:
        async with sessions() as session:
            client_id = await session.scalar(
                select(Organization.id).where(Organization.kind == OrganizationKind.CLIENT).limit(1)
            )
            start = int(await session.scalar(select(func.count()).select_from(Device)) or 0)
        made = 0
        while made < count:
            batch = min(500, count - made)
            async with sessions.begin() as session:
                devices = []
                for index in range(batch):
                    number = 900_000_000 + start + made + index
                    make, model = models[number % len(models)]
                    device = Device(
                        imei=_imei(number),
                        make=make,
                        model=model,
                        storage_gb=128,
                        colour="Black",
                        client_id=client_id,
                        location="B-01",
                        lock_status=LockStatus.UNLOCKED,
                        blacklist_status=BlacklistStatus.CLEAN,
                        status=DeviceStatus.AVAILABLE,
                    )
                    devices.append(device)
                session.add_all(devices)
                await session.flush()
                device_grades = [
                    Grade(
                        device_id=device.id,
                        cosmetic=grades[index % len(grades)],
                        functional_pass=True,
                        failed_checks=[],
                        battery_health_pct=90,
                        data_wiped=True,
                    )
                    for index, device in enumerate(devices)
                ]
                session.add_all(device_grades)
                await session.flush()
                for device, grade in zip(devices, device_grades, strict=True):
                    device.current_grade_id = grade.id
                    session.add(
                        Listing(
                            device_id=device.id,
                            price_minor=20_000,
                            currency="EUR",
                            status=ListingStatus.ACTIVE,
                        )
                    )
            made += batch
    finally:
        await engine.dispose()
    return made


def _sessions(db: Database) -> tuple[Any, Any]:
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine(db.app_url)
    return engine, async_sessionmaker(engine, expire_on_commit=False)


def _imei(number: int) -> str:
    body = f"35{number:012d}"
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return body + str((10 - total % 10) % 10)
