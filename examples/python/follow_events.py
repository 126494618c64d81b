"""Follow DeviceGraph's event log over a websocket and append each event to a JSON-lines file.

    pip install "gql[websockets]"
    DEVICEGRAPH_API_KEY=dgk_... python follow_events.py

The cursor of the last event handled is kept in a file, so a restart resumes right after it.
Without a cursor file it starts with the events committed from now on.
"""

import asyncio
import json
import os
from pathlib import Path

from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

URL = os.environ.get("DEVICEGRAPH_WS_URL", "ws://localhost:8000/graphql")
API_KEY = os.environ["DEVICEGRAPH_API_KEY"]  # a key with the subscribe scope
EVENTS_FILE = Path(os.environ.get("EVENTS_FILE", "events.jsonl"))
CURSOR_FILE = Path(os.environ.get("CURSOR_FILE", "events.cursor"))

FOLLOW = """
subscription Follow($after: String) {
  events(after: $after) { cursor type entityType entityId entityVersion occurredAt changes }
}
"""


def saved_cursor() -> str | None:
    return CURSOR_FILE.read_text().strip() or None if CURSOR_FILE.exists() else None


def last_written_cursor() -> str | None:
    """The cursor of the last line of the output file (None if there is none)."""
    lines = EVENTS_FILE.read_text().splitlines() if EVENTS_FILE.exists() else []
    return json.loads(lines[-1])["cursor"] if lines else None


def handle(event: dict, skip: str | None) -> None:
    if event["cursor"] != skip:
        with EVENTS_FILE.open("a") as out:  # handle the event (here: keep it) ...
            out.write(json.dumps(event) + "\n")
    # ... then remember it was handled, atomically: a crash leaves the old file or the new one.
    temporary = CURSOR_FILE.with_name(CURSOR_FILE.name + ".tmp")
    temporary.write_text(event["cursor"])
    os.replace(temporary, CURSOR_FILE)


async def follow() -> None:
    # Delivery is at least once: an event written just before a crash, whose cursor was not
    # saved yet, comes again first. It is the last line of the file: skip it.
    skip = last_written_cursor()
    transport = WebsocketsTransport(url=URL, init_payload={"Authorization": f"Bearer {API_KEY}"})
    async with Client(transport=transport, execute_timeout=None) as session:
        request = GraphQLRequest(FOLLOW, variable_values={"after": saved_cursor()})
        async for result in session.subscribe(request):
            handle(result["events"], skip)


async def main() -> None:
    while True:  # a dropped connection or a LAGGED error: resume from the saved cursor
        try:
            await follow()
        except Exception as error:
            print(f"stream ended ({error!r}); resuming in 1 s", flush=True)
        await asyncio.sleep(1)


if __name__ == "__main__":
    asyncio.run(main())
