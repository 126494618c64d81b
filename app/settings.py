"""Configuration from the environment (prefix ``DEVICEGRAPH_``).

The defaults run with nothing installed: a SQLite file under ./var and the in-process
broadcast. Production sets two URLs: a PostgreSQL database and a PostgreSQL or Redis broadcast.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    broadcast_ready_timeout: float = Field(
        default=10.0, ge=0, description="How long start-up waits for the broadcast listener."
    )

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION


@lru_cache
def get_settings() -> Settings:
    return Settings()
