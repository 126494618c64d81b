"""The Starlette application: GraphQL at /graphql, health checks, and the web app at /."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute

from app.observability.exposition import MetricsEndpoint
from app.observability.logging import configure_logging
from app.observability.metrics import install_event_counting
from app.observability.middleware import Observability, OpenCount
from app.runtime import Runtime
from app.settings import Settings, get_settings
from app.tasks.offer_expiry import OfferExpiryTask
from app.tasks.webhook_delivery import WebhookDeliveryTask
from app.web.graphql_view import GraphQLView
from app.web.health import healthz, readyz
from app.web.limits import RequestLimits
from app.web.sse import EventStreamEndpoint, EventStreamNegotiation
from app.web.static_site import static_routes

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    configure_logging(settings)
    install_event_counting()
    runtime = Runtime.create(settings)
    websockets = OpenCount()
    metrics = MetricsEndpoint(settings, runtime, websockets)
    offer_expiry = OfferExpiryTask(
        runtime.sessions, interval_seconds=settings.offer_expiry_interval_seconds
    )
    webhooks = WebhookDeliveryTask(runtime.sessions, runtime.event_log, settings)
    runtime.wakeups.add_listener(lambda _hint: webhooks.wake())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        await offer_expiry.start()
        await webhooks.start()
        await graphql.sockets.start()  # re-checks open websockets' tokens (app.web.sockets)
        try:
            yield
        finally:
            await graphql.sockets.stop()
            await webhooks.stop()  # before the runtime: it uses the engine and the log
            await offer_expiry.stop()  # before the runtime: it uses the engine
            await runtime.stop()

    graphql = GraphQLView(
        runtime,
        graphql_ide=None if settings.is_production else "graphiql",
        connection_init_wait_timeout=timedelta(seconds=settings.ws_connection_init_timeout),
        allowed_origins=settings.allowed_origins,
    )
    routes: list[Route | WebSocketRoute | Mount] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics.serve),
        # Accept: text/event-stream runs a subscription as Server-Sent Events (app.web.sse).
        Route(
            "/graphql",
            EventStreamNegotiation(EventStreamEndpoint(runtime, graphql.sockets), graphql),
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        ),
        WebSocketRoute("/graphql", graphql),
    ]
    if (STATIC_DIR / "index.html").exists():
        routes.extend(static_routes(STATIC_DIR, graphiql=not settings.is_production))
    else:
        routes.append(Route("/", _no_frontend))
    # Rate, body size and one operation per request for /graphql over HTTP (app.web.limits).
    # Observability first: it logs and counts every request, refused ones included.
    middleware = [
        Middleware(Observability, websockets=websockets),
        Middleware(RequestLimits, settings=settings),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.runtime = runtime
    app.state.offer_expiry = offer_expiry
    app.state.sockets = graphql.sockets
    app.state.webhooks = webhooks
    return app


async def _no_frontend(_request: object) -> PlainTextResponse:
    return PlainTextResponse(
        "DeviceGraph is running. The web app is not built: run `make frontend`. "
        "The API is at /graphql.\n"
    )
