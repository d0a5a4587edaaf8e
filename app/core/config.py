"""Every setting of the service, read from the environment with the ``VOCATION_`` prefix."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VOCATION_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./var/vocation.db",
        description="SQLAlchemy URL. sqlite:///path or postgresql://user@host/db; the async "
        "driver (aiosqlite, asyncpg) is chosen by the service.",
    )
    database_pool_size: int = Field(default=10, ge=1, le=200)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    public_base_url: str = Field(
        default="", description="Absolute base URL used in Link headers; empty uses the request's."
    )
    page_size_default: int = Field(default=20, ge=1, le=1000)
    page_size_max: int = Field(default=100, ge=1, le=1000)
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest JSON request body accepted (413 above)."
    )
    public_cache_seconds: int = Field(
        default=60, ge=0, description="max-age of Cache-Control on public reads."
    )
    cors_write_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call write routes from a browser."
    )
    timezone: str = Field(
        default="Europe/Paris", description="Zone in which an offer's deadline day ends."
    )
    upload_dir: Path = Field(default=Path("./var/uploads"))


@lru_cache
def get_settings() -> Settings:
    return Settings()
