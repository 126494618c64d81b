"""Liveness and readiness, both JSON."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.runtime import Runtime


async def healthz(request: Request) -> JSONResponse:
    """The process is up and its event loop answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers, the broadcast listener is alive and the event tail
    does not lag: it read the log successfully within ``ready_max_lag_seconds`` (it polls every
    second) and is not working through a backlog older than that (docs/live.md, Readiness)."""
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, dict[str, object]] = {}
    try:
        async with asyncio.timeout(2):
            async with runtime.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except Exception as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    wakeups = runtime.wakeups
    checks["broadcast"] = {
        "ok": wakeups.alive,
        "backend": wakeups.scheme,
        "reconnects": wakeups.reconnects,
        **({"error": wakeups.last_error} if not wakeups.alive and wakeups.last_error else {}),
    }
    max_lag = runtime.settings.ready_max_lag_seconds
    problem = runtime.tail.readiness_problem(max_lag)
    checks["tail"] = {
        **runtime.tail.status(),
        "ok": problem is None,
        "max_lag_seconds": max_lag,
        **({"problem": problem} if problem else {}),
    }
    ready = all(check["ok"] for check in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
