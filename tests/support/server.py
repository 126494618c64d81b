"""Run an ASGI app under a real uvicorn server inside the test process.

Used for HTTP tests and, later, for websocket subscriptions: the server listens on a free
127.0.0.1 port, runs the app's lifespan, and shuts down cleanly when the block ends.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn


class _InProcessServer(uvicorn.Server):
    """uvicorn.Server that leaves the test runner's signal handlers (Ctrl-C) alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def main_loop(self) -> None:
        # uvicorn checks ``should_exit`` every 100 ms; tests stop servers often, so poll
        # faster. on_tick still refreshes the date header every tenth tick.
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864_000
            await asyncio.sleep(0.01)
            should_exit = await self.on_tick(counter)


@dataclass(frozen=True, slots=True)
class RunningServer:
    app: Any
    host: str
    port: int
    server: uvicorn.Server

    @property
    def url(self) -> str:
        """Base HTTP URL, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """Base websocket URL, e.g. ``ws://127.0.0.1:54321``."""
        return f"ws://{self.host}:{self.port}"

    @property
    def runtime(self) -> Any:
        """The app's ``app.runtime.Runtime`` (engine, sessions, wake-up channel)."""
        return self.app.state.runtime

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def graphql_ws_url(self) -> str:
        return f"{self.ws_url}/graphql"


@contextlib.asynccontextmanager
async def serve_app(
    app: Any,
    *,
    host: str = "127.0.0.1",
    ws_ping_interval: float | None = 20.0,
    ws_ping_timeout: float | None = 20.0,
    startup_timeout: float = 30.0,
    shutdown_timeout: float = 10.0,
    **config: Any,
) -> AsyncIterator[RunningServer]:
    """Serve ``app`` on a free port for the duration of the block."""
    server = _InProcessServer(
        uvicorn.Config(
            app,
            host=host,
            port=0,
            lifespan="on",
            log_level="warning",
            log_config=None,
            access_log=False,
            ws_ping_interval=ws_ping_interval,
            ws_ping_timeout=ws_ping_timeout,
            timeout_graceful_shutdown=shutdown_timeout,
            **config,
        )
    )

    async def run() -> None:
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits the process when the lifespan fails
            raise RuntimeError(f"uvicorn refused to start the app (exit {exc.code})") from exc

    task = asyncio.create_task(run(), name="uvicorn-test-server")
    try:
        async with asyncio.timeout(startup_timeout):
            while not server.started:
                if task.done():
                    task.result()  # raises the startup failure
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield RunningServer(app=app, host=host, port=port, server=server)
    finally:
        server.should_exit = True
        try:
            async with asyncio.timeout(shutdown_timeout + 5):
                await task
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            raise


def import_schema() -> Any:
    """``app.resolvers.root.schema`` (imported lazily, after the test settings exist)."""
    from app.resolvers.root import schema

    return schema


def make_app(settings: Any) -> Any:
    """``app.main.create_app(settings)``, importing the schema on first use."""
    import_schema()
    from app.main import create_app

    return create_app(settings)
