"""strawberry's ASGI view, made to answer as the GraphQL over HTTP specification says.

- ``application/graphql-response+json`` when the client accepts it (the spec's preferred type):
  a request error (parse or validation, so no ``data``) is then a 400. ``application/json``
  keeps 200 for every well-formed request, as the spec asks for legacy clients.
- Request errors that strawberry answers in plain text (bad JSON, no query, a mutation over
  GET) become a JSON error body with ``extensions.code``; the status code stays.

Websockets (graphql-transport-ws, and the legacy graphql-ws) authenticate in
``connection_init``: its payload carries the bearer token as ``{"Authorization": "Bearer
<token>"}`` (what the web app sends), ``{"authorization": ...}`` or ``{"token": "<token>"}``.
No token, or one that is no longer valid, connects anonymously (as over HTTP: the resolvers
then answer UNAUTHENTICATED); a payload whose token is not a string is refused (4403).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cross_web import HTTPException
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from app.auth.rate_limit import AUTHENTICATED
from app.auth.sessions import bearer_token
from app.domain.actors import ActorKind
from app.observability.metrics import RESPONSE_CACHE
from app.pubsub.render import shared_frame
from app.resolvers.context import Context
from app.resolvers.masking import UNAVAILABLE_MESSAGE, is_unavailable
from app.resolvers.render_scope import viewer_scope
from app.runtime import Runtime
from app.web.response_cache import ResponseCache
from app.web.sockets import LegacyWSHandler, LiveSocket, SocketRegistry, TransportWSHandler
from app.web.static_site import graphiql_redirect

log = logging.getLogger(__name__)

GRAPHQL_RESPONSE = "application/graphql-response+json"
_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


@dataclass
class SocketContext(Context):
    """A websocket's context: strawberry stores the connection_init payload here."""

    connection_params: dict[str, object] | None = None
    socket: LiveSocket | None = None
    """The protocol handler, for app.web.sockets.SocketRegistry to close the socket."""


def token_from_connection_params(params: object) -> str | None:
    """The bearer token of a connection_init payload; raises ValueError if it is malformed."""
    if not isinstance(params, dict):
        return None
    for key in ("Authorization", "authorization"):
        if key in params:
            value = params[key]
            if not isinstance(value, str):
                raise ValueError(f"{key} must be a string")
            return bearer_token(value)
    if "token" in params:
        value = params["token"]
        if not isinstance(value, str):
            raise ValueError("token must be a string")
        return value.strip() or None
    return None


def accepts_graphql_response(request: Request) -> bool:
    """True when the client lists the spec's media type before (or instead of) plain JSON."""
    accept = request.headers.get("accept", "").lower()
    if GRAPHQL_RESPONSE not in accept:
        return False
    json_at = accept.find("application/json")
    return json_at == -1 or accept.find(GRAPHQL_RESPONSE) < json_at


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, runtime: Runtime, **kwargs: Any) -> None:
        from app.resolvers.root import schema

        settings = runtime.settings
        kwargs.setdefault(
            "max_subscriptions_per_connection", settings.ws_max_subscriptions_per_connection
        )
        super().__init__(schema, **kwargs)
        self.runtime = runtime
        # The board's answers until anything changes (app.web.response_cache).
        self.responses = ResponseCache(
            max_age=settings.response_cache_seconds, entries=settings.response_cache_entries
        )
        runtime.change_listeners.append(self.responses.invalidate)
        # Open sockets by identity: limits, revocation, re-checks (app.web.sockets).
        self.sockets = SocketRegistry(
            runtime.sessions,
            reads=runtime.reads,
            max_per_identity=settings.ws_max_connections_per_identity,
            recheck_interval=settings.ws_recheck_interval,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        preferred = accepts_graphql_response(request)
        media_type = GRAPHQL_RESPONSE if preferred else "application/json"
        response: Response
        try:
            response = await self._answer(request, media_type)
        except (SQLAlchemyError, ConnectionError, TimeoutError) as exc:
            if not is_unavailable(exc):
                raise
            # Reading the caller's token needs the database; without it, say so with a code.
            log.warning("GraphQL request refused: the database is unavailable (%r)", exc)
            response = JSONResponse(
                {
                    "errors": [
                        {"message": UNAVAILABLE_MESSAGE, "extensions": {"code": "UNAVAILABLE"}}
                    ]
                },
                status_code=503,
                media_type=media_type,
                headers={"Retry-After": "1"},
            )
        except HTTPException as exc:
            status = exc.status_code
            if request.method == "GET" and isinstance(exc.__cause__, InvalidOperationTypeError):
                status = 405  # the spec: a mutation over GET is a method error
            response = JSONResponse(
                {
                    "errors": [
                        {
                            "message": exc.reason,
                            "extensions": {"code": _CODES.get(status, "BAD_REQUEST")},
                        }
                    ]
                },
                status_code=status,
                media_type=media_type,
            )
            if status == 405:
                response.headers["Allow"] = "POST" if request.method == "GET" else "GET, POST"
        else:
            if response.media_type == "application/json":
                response.headers["content-type"] = f"{media_type}; charset=utf-8"
                if preferred and getattr(request.state, "graphql_request_error", False):
                    response.status_code = 400
        await response(scope, receive, send)

    async def _answer(self, request: Request, media_type: str) -> Response:
        """A board query's kept answer if nothing changed since (app.web.response_cache),
        else strawberry's, kept when it qualifies."""
        cache = self.responses
        if (
            not cache.enabled
            or request.method != "POST"
            or not request.headers.get("content-type", "").startswith("application/json")
        ):
            return await self.run(request)
        body = await request.body()  # starlette keeps it: strawberry reads it again
        if not cache.qualifies(body):
            return await self.run(request)
        token = bearer_token(request.headers.get("authorization"))
        actor = await self.runtime.actors.actor(token)
        key = (body, viewer_scope(actor), media_type)
        kept = await cache.ready(key)
        if kept is not None:
            RESPONSE_CACHE.labels("hit").inc()
            # As strawberry's run would have (app.auth.hardening): for the rate limiter.
            setattr(request.state, AUTHENTICATED, actor.kind is not ActorKind.ANONYMOUS)
            return Response(kept.body, media_type=kept.media_type)
        RESPONSE_CACHE.labels("miss").inc()
        with cache.computation(key) as computation:
            response = await self.run(request)
            if (
                response.status_code == 200
                and getattr(request.state, "graphql_errors", True) is False
            ):
                computation.keep(bytes(response.body), f"{media_type}; charset=utf-8")
        return response

    def encode_json(self, data: object) -> str | bytes:
        """A message carrying a rendering its subscription group shares reuses its encoded
        payload (app.pubsub.render); anything else is encoded as usual."""
        frame = shared_frame(data, super().encode_json)
        return frame if frame is not None else super().encode_json(data)

    async def render_graphql_ide(self, request: Request) -> Response:
        """A browser on /graphql gets the self-hosted GraphiQL, not strawberry's CDN page."""
        return graphiql_redirect(request)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        token = bearer_token(request.headers.get("authorization"))
        actor = await self.runtime.actors.actor(token)
        if isinstance(request, WebSocket):
            return SocketContext(
                runtime=self.runtime, request=request, response=response, actor=actor, token=token
            )
        return Context(
            runtime=self.runtime, request=request, response=response, actor=actor, token=token
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a websocket from its connection_init payload (see the module doc)."""
        params = getattr(context, "connection_params", None)
        try:
            token = token_from_connection_params(params)
        except ValueError as exc:
            raise ConnectionRejectionError({"message": str(exc)}) from exc
        if token is not None:
            context.token = token
            context.actor = await self.runtime.actors.actor(token)
        if isinstance(context, SocketContext):
            client = context.request.client
            # Raises SocketRefused (4403 with its reason) past the connections per identity.
            self.sockets.admit(context, client_host=client.host if client else None)
        acknowledged: UnsetType = UNSET  # a plain connection_ack
        return acknowledged

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        request.state.graphql_errors = bool(result.errors)
        if _is_request_error(result):
            # An error before execution began: there is no data, and the key is left out.
            processed.pop("data", None)
            for error in processed.get("errors") or []:
                if isinstance(error, dict):
                    extensions = error.setdefault("extensions", {})
                    extensions.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
            request.state.graphql_request_error = True
        return processed


def _is_request_error(result: ExecutionResult) -> bool:
    """Parse and validation errors have no path; field errors always have one."""
    errors = result.errors or []
    return result.data is None and bool(errors) and all(error.path is None for error in errors)
