"""The `devicegraph` command, run as a separate process the way CI and people run it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.migrate import ROOT
from app.models import Base
from app.services.demo import DEMO_PASSWORD
from app.services.demo_data import OPERATOR_DOMAIN

COMMITTED_SCHEMA = ROOT / "schema.graphql"


def devicegraph(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DEVICEGRAPH_")}
    clean.update(env or {})
    clean.setdefault("PYTHONPATH", str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_export_schema_check_passes_for_the_committed_schema(tmp_path: Path) -> None:
    result = devicegraph("export-schema", "--check", "-o", str(COMMITTED_SCHEMA), cwd=tmp_path)
    assert result.returncode == 0, (
        "schema.graphql is out of date: run `make schema` and commit it\n" + result.stderr
    )
    assert "matches" in result.stdout


def test_export_schema_check_fails_for_a_modified_copy(tmp_path: Path) -> None:
    copy = tmp_path / "schema.graphql"
    copy.write_text(COMMITTED_SCHEMA.read_text().replace("type Device ", "type Gadget ", 1))
    assert copy.read_text() != COMMITTED_SCHEMA.read_text()

    result = devicegraph("export-schema", "--check", "-o", str(copy), cwd=tmp_path)
    assert result.returncode == 1
    assert "differs" in result.stderr

    missing = devicegraph(
        "export-schema", "--check", "-o", str(tmp_path / "nope.graphql"), cwd=tmp_path
    )
    assert missing.returncode == 1


def test_migrate_creates_the_tables_in_a_fresh_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "var" / "fresh.db"
    url = f"sqlite+aiosqlite:///{database}"
    result = devicegraph("migrate", cwd=tmp_path, env={"DEVICEGRAPH_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert database.exists()

    with sqlite3.connect(database) as connection:
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        [version] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {table.name for table in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables
    assert version[0]


def test_unknown_command_fails(tmp_path: Path) -> None:
    result = devicegraph("frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_serve_stops_within_its_shutdown_timeout_while_an_event_stream_is_open(
    tmp_path: Path,
) -> None:
    """An open Server-Sent Events stream would hold uvicorn's shutdown forever."""
    env = {
        "DEVICEGRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "DEVICEGRAPH_SHUTDOWN_TIMEOUT_SECONDS": "1",
    }
    for command in ("migrate", "seed-demo"):
        result = devicegraph(command, cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
    port = free_port()
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DEVICEGRAPH_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env={**clean, **env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
            wait_until_ready(http)
            signed_in = http.post(
                "/graphql",
                json={
                    "query": "mutation($e: String!, $p: String!) { signIn(email: $e, "
                    "password: $p) { ... on SignInPayload { token } } }",
                    "variables": {"e": f"admin@{OPERATOR_DOMAIN}", "p": DEMO_PASSWORD},
                },
            ).json()
            token = signed_in["data"]["signIn"]["token"]
            headers = {"Accept": "text/event-stream", "Authorization": f"Bearer {token}"}
            body = {"query": "subscription { events { cursor } }"}
            with http.stream("POST", "/graphql", json=body, headers=headers) as stream:
                assert stream.status_code == 200
                stopping = time.monotonic()
                server.send_signal(signal.SIGTERM)
                # uvicorn exits by the signal it was sent, once it has shut down cleanly.
                assert server.wait(timeout=15) in (0, -signal.SIGTERM)
                stopped_after = time.monotonic() - stopping
        assert stopped_after < 8, stopped_after
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(http: httpx.Client, wait: float = 30.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if http.get("/readyz").status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError("the server did not become ready")
