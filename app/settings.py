"""Configuration from the environment (prefix ``DEVICEGRAPH_``).

The defaults run with nothing installed: a SQLite file under ./var and the in-process
broadcast. Production sets two URLs: a PostgreSQL database and a PostgreSQL or Redis broadcast.
"""

from __future__ import annotations

import json
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

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
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    page_size_max: int = Field(default=100, ge=1)
    ws_ping_interval: float = Field(default=20.0, gt=0)
    session_ttl_hours: float = Field(default=12.0, gt=0)
    offer_expiry_interval_seconds: float = Field(default=30.0, gt=0)
    subscriber_queue_max: int = Field(
        default=1000, ge=1, description="Events a subscriber may fall behind before LAGGED."
    )
    event_poll_interval: float = Field(
        default=1.0, gt=0, description="Seconds between event log polls when no hint comes."
    )
    event_batch_size: int = Field(default=500, ge=1, description="Events per log read.")
    broadcast_ready_timeout: float = Field(
        default=10.0, ge=0, description="How long start-up waits for the broadcast listener."
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
