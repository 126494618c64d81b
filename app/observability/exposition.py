"""``GET /metrics``: the Prometheus text format, for operators only.

Who may scrape (``DEVICEGRAPH_METRICS_ENABLED``, ``DEVICEGRAPH_METRICS_TOKEN``):

- disabled: 404 for everyone;
- a token is set: only a request with ``Authorization: Bearer <that token>`` (else 401);
- no token: open in development, 404 in production (the numbers describe the business's
  activity, so production serves them only to a scraper holding the token).
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.auth.sessions import bearer_token
from app.observability.metrics import REGISTRY, RuntimeCollector
from app.observability.middleware import OpenCount
from app.runtime import Runtime
from app.settings import Settings


class MetricsEndpoint:
    """Serves the process's metrics and this app's runtime gauges."""

    def __init__(self, settings: Settings, runtime: Runtime, websockets: OpenCount) -> None:
        self.settings = settings
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(RuntimeCollector(runtime, websockets))

    def refusal(self, request: Request) -> Response | None:
        settings = self.settings
        expected = settings.metrics_token
        if not settings.metrics_enabled or (expected is None and settings.is_production):
            return _error(404, "NOT_FOUND", "Not found.")
        if expected is None:
            return None
        given = bearer_token(request.headers.get("authorization")) or ""
        if hmac.compare_digest(given.encode(), expected.encode()):
            return None
        response = _error(401, "UNAUTHENTICATED", "A valid metrics token is required.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response

    async def serve(self, request: Request) -> Response:
        refused = self.refusal(request)
        if refused is not None:
            return refused
        body = generate_latest(REGISTRY) + generate_latest(self.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )
