"""Throwaway PostgreSQL and Redis servers that a test may stop, kill and start again.

The shared servers (5432, 6379) serve every other test, so a fault test never touches them:

    with private_postgres() as postgres, private_redis() as redis:
        url = postgres.database_url          # postgresql+asyncpg://postgres@127.0.0.1:N/devicegraph
        postgres.restart()                   # pg_ctl stop -m fast, then start on the same port
        redis.stop(); redis.start()

PostgreSQL 15 runs from ``/usr/lib/postgresql/15/bin`` (override with DEVICEGRAPH_TEST_PG_BIN)
in a temporary directory owned by the ``postgres`` user (initdb refuses to run as root), on
127.0.0.1 only, trust authentication, ``fsync=off``. Redis runs with persistence off. Both keep
their port across restarts, so clients reconnect to the same address.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.support.databases import migrate_to_head

PG_BIN = Path(os.environ.get("DEVICEGRAPH_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
DATABASE = "devicegraph"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, *, open: bool, wait: float = 15.0, what: str = "server") -> None:
    deadline = time.monotonic() + wait
    while port_open(port) != open:
        if time.monotonic() > deadline:
            state = "accept" if open else "stop accepting"
            raise TimeoutError(f"{what} on port {port} did not {state} connections in {wait} s")
        time.sleep(0.05)


def postgres_available() -> str | None:
    """Why a private PostgreSQL cannot run here, or None when it can."""
    if not (PG_BIN / "initdb").exists():
        return f"no PostgreSQL binaries in {PG_BIN}"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


def redis_available() -> str | None:
    return None if shutil.which("redis-server") else "no redis-server on PATH"


# --- PostgreSQL ----------------------------------------------------------------------------


class PrivatePostgres:
    """One PostgreSQL cluster in a temporary directory, with start, stop, kill and restart."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.data = root / "data"
        self.logfile = root / "postgres.log"
        self.port = port

    @property
    def base_url(self) -> str:
        return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{self.port}/postgres"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://{PG_USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def running(self) -> bool:
        return port_open(self.port)

    def _run(self, arguments: Sequence[object], *, check: bool = True) -> None:
        command = [str(argument) for argument in arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PG_USER, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}"
                f"{result.stderr}\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.logfile.read_text().splitlines()[-lines:])
        return ""

    def init(self) -> None:
        self._run(
            [
                PG_BIN / "initdb",
                "-D",
                self.data,
                "-U",
                PG_USER,
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ]
        )
        options = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "''",
            # No fsync: a server crash (stop -m immediate) keeps what reached the kernel, only
            # an OS crash would not. synchronous_commit stays on: off, a crash loses commits
            # that were already acknowledged (and delivered), which the fault tests catch.
            "fsync": "off",
            "max_connections": "100",
            "shared_buffers": "32MB",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("".join(f"{key} = {value}\n" for key, value in options.items()))

    def start(self) -> None:
        self._run(
            [PG_BIN / "pg_ctl", "-D", self.data, "-l", self.logfile, "-w", "-t", "30", "start"]
        )
        wait_for_port(self.port, open=True, what="PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m mode``: ``fast`` ends every session and shuts down cleanly;
        ``immediate`` is a crash (recovery runs at the next start)."""
        self._run([PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop"])
        wait_for_port(self.port, open=False, what="PostgreSQL")

    def kill(self) -> None:
        self.stop("immediate")

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def create_database(self, name: str = DATABASE) -> None:
        self._run(
            [
                PG_BIN / "psql",
                "-h",
                "127.0.0.1",
                "-p",
                self.port,
                "-U",
                PG_USER,
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                f'CREATE DATABASE "{name}"',
            ]
        )


@contextlib.contextmanager
def private_postgres(*, migrate: bool = True) -> Iterator[PrivatePostgres]:
    """A fresh cluster with a database ``devicegraph`` (migrated to head unless told not to);
    stopped and deleted at the end."""
    root = Path(tempfile.mkdtemp(prefix="devicegraph-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, PG_USER, PG_USER)
    postgres = PrivatePostgres(root, free_port())
    try:
        postgres.init()
        postgres.start()
        postgres.create_database()
        if migrate:
            migrate_to_head(postgres.database_url)
        yield postgres
    finally:
        if postgres.running:
            with contextlib.suppress(Exception):
                postgres.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


# --- Redis ---------------------------------------------------------------------------------


class PrivateRedis:
    """One redis-server subprocess (no persistence) that keeps its port across restarts."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, open=True, what="Redis")

    def _end(self, sig: signal.Signals) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            process.wait(timeout=15)
        wait_for_port(self.port, open=False, what="Redis")

    def stop(self) -> None:
        """SIGTERM: Redis closes every client connection and exits."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        self._end(signal.SIGKILL)

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis(free_port())
    try:
        redis.start()
        yield redis
    finally:
        redis.kill()
