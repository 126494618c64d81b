"""The partner examples (examples/python, examples/node) against a live server.

Each example runs as its own process with an API key, is killed (SIGKILL) while events are
being committed, and is started again: its output file must hold every event the key may see,
once, in the log's order (as the paged `events` query reads it).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.api_keys import create_api_key
from app.auth.policy import Scope
from app.domain.statuses import Role
from tests.pubsub.support import append, eventually, subscribed
from tests.support.auth import sign_in_as
from tests.support.databases import require_service
from tests.support.factories import create_buyer
from tests.support.server import RunningServer

Sessions = async_sessionmaker[AsyncSession]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NODE_DIR = EXAMPLES / "node"
PAGE = """
query Page($after: String) {
  events(after: $after, first: 100) {
    edges { cursor node { cursor type entityType entityId entityVersion occurredAt changes } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def node_command() -> list[str]:
    """``node follow-events.mjs``, after ``npm ci`` in examples/node if it was not run yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    require_service(node is not None and npm is not None, "Node.js", "PATH")
    assert node is not None
    assert npm is not None
    if not (NODE_DIR / "node_modules" / ".package-lock.json").exists():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
        )
    return [node, str(NODE_DIR / "follow-events.mjs")]


COMMANDS: dict[str, Callable[[], list[str]]] = {
    "python": lambda: [sys.executable, str(EXAMPLES / "python" / "follow_events.py")],
    "node": node_command,
}


@pytest.fixture(params=sorted(COMMANDS))
def command(request: pytest.FixtureRequest) -> list[str]:
    return COMMANDS[request.param]()


@pytest.fixture
def app_sessions(server: RunningServer) -> Sessions:
    sessions: Sessions = server.runtime.sessions
    return sessions


async def read_log(
    http: httpx.AsyncClient, token: str, after: str | None
) -> tuple[list[dict[str, Any]], str]:
    """The events the key may see after ``after``, in order, and the end cursor."""
    events: list[dict[str, Any]] = []
    while True:
        response = await http.post(
            "/graphql",
            json={"query": PAGE, "variables": {"after": after}},
            headers={"Authorization": f"Bearer {token}"},
        )
        page = response.json()["data"]["events"]
        events += [edge["node"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            assert after is not None
            return events, after


def written(path: Path) -> list[dict[str, Any]]:
    """The complete lines of the example's output file."""
    if not path.exists():
        return []
    text = path.read_text()
    return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]


async def until(check: Callable[[], bool], what: str, wait: float = 30.0) -> None:
    await eventually(check, wait=wait, what=what)


async def test_killed_and_restarted_the_example_ends_with_every_event_once(
    command: list[str],
    server: RunningServer,
    http: httpx.AsyncClient,
    sessions: Sessions,
    app_sessions: Sessions,
    tmp_path: Path,
) -> None:
    admin = await sign_in_as(sessions, Role.ADMIN)
    buyer = await create_buyer(sessions)
    key = await create_api_key(
        sessions,
        organization_id=buyer.id,
        name="erp",
        scopes=[Scope.READ, Scope.SUBSCRIBE],
        actor=admin.actor,
    )
    # The partner's starting point: the end of the log as the paged query reads it now.
    _, start = await read_log(http, key.token, None)
    events_file, cursor_file = tmp_path / "events.jsonl", tmp_path / "events.cursor"
    cursor_file.write_text(start)
    env = {
        **os.environ,
        "DEVICEGRAPH_WS_URL": server.graphql_ws_url,
        "DEVICEGRAPH_API_KEY": key.token,
        "EVENTS_FILE": str(events_file),
        "CURSOR_FILE": str(cursor_file),
    }
    output = (tmp_path / "client.log").open("ab")
    hub = server.runtime.hub

    async def start_example() -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=tmp_path, env=env, stdout=output, stderr=output
        )
        await subscribed(server.app, wait=30)
        return process

    async def commit(numbers: range, pause: float = 0.0) -> None:
        for n in numbers:
            # Every third event is addressed to someone else: the key never sees it.
            audience = f"buyer:{buyer.id}" if n % 3 else "client:999"
            await append(app_sessions, 1, audiences=[audience], changes={"n": n})
            await asyncio.sleep(pause)

    process = await start_example()
    try:
        writer = asyncio.create_task(commit(range(1, 61), pause=0.05))
        await until(lambda: len(written(events_file)) >= 5, "the first events")
        process.kill()  # SIGKILL, while events are still being committed
        assert not writer.done()
        await process.wait()
        await until(lambda: hub.subscriber_count == 0, "the killed client left the hub")
        await writer
        await commit(range(61, 71))  # committed while the client is down
        # As if it had been killed after writing an event and before saving its cursor: the
        # event comes again after the restart, and must not be written twice.
        (handled, *_), _ = await read_log(http, key.token, cursor_file.read_text())
        if written(events_file)[-1]["cursor"] != handled["cursor"]:  # (unless it just was)
            with events_file.open("a") as out:
                out.write(json.dumps(handled) + "\n")

        process = await start_example()
        await commit(range(71, 74))  # and live after the restart
        expected = [event["cursor"] for event in (await read_log(http, key.token, start))[0]]
        await until(lambda: len(written(events_file)) >= len(expected), "every event")
        await asyncio.sleep(0.3)  # nothing more may come
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()
        output.close()

    lines = written(events_file)
    log = (tmp_path / "client.log").read_text()
    assert [line["cursor"] for line in lines] == expected, log
    numbers = [line["changes"]["n"] for line in lines]
    assert numbers == [n for n in range(1, 74) if n % 3], log
    assert {line["type"] for line in lines} == {"test.happened"}
    assert cursor_file.read_text() == expected[-1]
