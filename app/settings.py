"""Configuration from the environment (prefix ``DEVICEGRAPH_``).

The defaults run with nothing installed: a SQLite file under ./var and the in-process
broadcast. Production sets two URLs: a PostgreSQL database and a PostgreSQL or Redis broadcast.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEVICEGRAPH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/devicegraph.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    broadcast_url: str = Field(
        default="memory://",
        description="Wake-up hints between processes: memory://, postgres://..., redis://...",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    environment: Environment = Environment.DEVELOPMENT
    log_level: str = "info"
    log_format: Literal["json", "console"] | None = Field(
        default=None,
        description="Log lines as JSON objects or readable text; default: json in production, "
        "console otherwise.",
    )
    metrics_enabled: bool = Field(
        default=True, description="Serve Prometheus metrics at /metrics (docs/operations.md)."
    )
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token a scraper must send to /metrics; without one, /metrics is "
        "open in development and off in production.",
    )
    ready_max_lag_seconds: float = Field(
        default=30.0,
        gt=0,
        description="/readyz fails when the event tail has not read the log for this long.",
    )
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    page_size_max: int = Field(default=100, ge=1)
    ws_ping_interval: float = Field(default=20.0, gt=0)
    shutdown_timeout_seconds: int = Field(
        default=10,
        ge=1,
        description="How long a stopping server waits for open requests and event streams.",
    )
    session_ttl_hours: float = Field(default=12.0, gt=0)
    offer_expiry_interval_seconds: float = Field(default=30.0, gt=0)
    subscriber_queue_max: int = Field(
        default=1000, ge=1, description="Events a subscriber may fall behind before LAGGED."
    )
    subscription_grouping: bool = Field(
        default=True,
        description="Render each subscription value once for all subscribers that share the "
        "operation, variables and viewer scope (false: once per subscriber).",
    )
    auth_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a bearer token's actor is reused before the database is asked "
        "again (a revocation in this process applies at once; 0: ask on every request).",
    )
    response_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="The longest the board's answers (listings, listing) are kept; they are "
        "dropped at once when anything changes (0: off).",
    )
    response_cache_entries: int = Field(
        default=256, ge=0, description="Answers the board's response cache keeps."
    )
    ws_compression: bool = Field(
        default=False,
        description="Accept permessage-deflate on websockets. Off by default: compression "
        "is per socket, so a fanned-out event is compressed once per subscriber.",
    )
    ws_direct_delivery: bool = Field(
        default=True,
        description="Write a grouped subscription's shared rendering straight to each "
        "graphql-transport-ws socket (false: through strawberry's per-operation path).",
    )
    subscription_renderings_per_group: int = Field(
        default=64, ge=1, description="Recent renderings each subscription group keeps."
    )
    event_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between event log polls when no hint comes."
    )
    event_batch_size: int = Field(default=500, ge=1, description="Events per log read.")
    sse_heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        description="Seconds of silence after which an event stream (SSE) sends a comment line, "
        "so proxies keep the connection.",
    )
    broadcast_ready_timeout: float = Field(
        default=10.0, ge=0, description="How long start-up waits for the broadcast listener."
    )
    # --- Webhooks (docs/integrations.md) ---
    webhook_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between looks for webhook work when no hint comes."
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Time allowed for one webhook request, connect to answer."
    )
    webhook_retry_initial_seconds: float = Field(
        default=5.0, gt=0, description="First wait before retrying a failed webhook delivery."
    )
    webhook_retry_max_seconds: float = Field(
        default=3600.0, gt=0, description="Longest wait between retries (the backoff doubles)."
    )
    webhook_disable_after_seconds: float = Field(
        default=86400.0,
        gt=0,
        description="An endpoint failing for this long without a success is disabled.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhook URLs that resolve to private, loopback or link-local "
        "addresses (a receiver on the same network).",
    )
    webhook_concurrency: int = Field(
        default=8, ge=1, description="Endpoints a process delivers to at the same time."
    )
    # --- Limits and hardening (docs/security.md) ---
    max_query_depth: int = Field(default=12, ge=1, description="Deepest selection allowed.")
    max_aliases: int = Field(default=30, ge=0, description="Aliased fields per document.")
    max_tokens: int = Field(default=5000, ge=1, description="Lexical tokens per document.")
    max_body_bytes: int = Field(
        default=1_048_576, ge=1, description="Largest HTTP request body (413 beyond it)."
    )
    rate_limit_requests: int = Field(
        default=600,
        ge=0,
        description="GraphQL HTTP requests per identity (token or API key, else client IP) "
        "per window, in each process; 0 turns the limit off.",
    )
    rate_limit_window_seconds: float = Field(
        default=60.0, gt=0, description="The rate limit's window (429 beyond it)."
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Other origins whose pages may open a websocket (comma-separated or JSON; "
        "'*' for any). The app's own origin is always allowed.",
    )

    ws_connection_init_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a websocket may take to send connection_init (4408 after).",
    )
    ws_max_subscriptions_per_connection: int = Field(
        default=100,
        ge=1,
        description="Operations running at once on one websocket; more get an error "
        "TOO_MANY_SUBSCRIPTIONS.",
    )
    ws_max_connections_per_identity: int = Field(
        default=20,
        ge=0,
        description="Open websockets per user, API key or (anonymous) client IP, in each "
        "process; more are closed with 4403 'Too many connections'. 0 turns the limit off.",
    )
    ws_messages_per_second: float = Field(
        default=20.0,
        ge=0,
        description="Messages a websocket client may send a second on average (bursts up to "
        "ws_message_burst); past it the socket is closed with 1008 'Too many messages'. 0 "
        "turns the limit off.",
    )
    ws_message_burst: int = Field(
        default=100, ge=1, description="Messages a websocket client may send at once."
    )
    ws_recheck_interval: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between re-checks of open websockets' tokens and keys "
        "(revoked, expired or deactivated: closed with 4403).",
    )

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [origin.strip() for origin in text.split(",") if origin.strip()]
        return value

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION


@lru_cache
def get_settings() -> Settings:
    return Settings()
