"""Every setting of the service, read from the environment with the ``VOCATION_`` prefix
and from the settings file (``settings_file()``); relative paths resolve in ``home``."""

import os
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def _project_root() -> Path:
    """The checkout, found from this file whatever the working directory; the working
    directory when the package is installed (the Docker image's WORKDIR holds alembic.ini)."""
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "alembic.ini").exists() else Path.cwd()


PROJECT_ROOT = _project_root()


class SettingsFileMissing(Exception):
    """VOCATION_ENV_FILE names a file that is not there."""


def settings_file() -> Path | None:
    """VOCATION_ENV_FILE when set (it must exist), otherwise the checkout's `.env`."""
    named = os.environ.get("VOCATION_ENV_FILE")
    if named:
        path = (PROJECT_ROOT / Path(named).expanduser()).resolve()
        if not path.is_file():
            raise SettingsFileMissing(f"VOCATION_ENV_FILE names {path}, which does not exist")
        return path
    default = PROJECT_ROOT / ".env"
    return default if default.is_file() else None


class Settings(BaseSettings):
    # The settings file is given by get_settings(): Settings() alone reads the environment.
    model_config = SettingsConfigDict(env_prefix="VOCATION_", extra="ignore")

    home: Path = Field(
        default=PROJECT_ROOT / "var",
        description="The data folder, in which relative paths of the other settings "
        "resolve (itself relative to the checkout); by default the checkout's var/.",
    )
    database_url: str = Field(
        default="sqlite:///vocation.db",
        description="SQLAlchemy URL. sqlite:///path or postgresql://user@host/db; the async "
        "driver (aiosqlite, asyncpg) is chosen by the service. A relative SQLite path is in "
        "`home`.",
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
    bulk_max_rows: int = Field(
        default=10_000, ge=1, description="Most offers in one bulk upload (413 above)."
    )
    bulk_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        description="Largest bulk upload body (413 above): 10,000 long offers fit.",
    )
    bulk_check_processes: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Processes that check bulk uploads' rows, beside the server's own "
        "(0: the server checks them itself, and serves nothing else meanwhile).",
    )
    search_poll_seconds: float = Field(
        default=30,
        ge=0,
        description="How often the search worker looks for offers queued by another process "
        "or left by a crash (0: only when woken).",
    )
    expiry_poll_seconds: float = Field(
        default=60,
        ge=0,
        description="How often offers whose deadline has passed are closed, which tells "
        "partners through the change feed (0: only at start-up). Until then they already "
        "read as closed.",
    )
    offer_default_days: int = Field(
        default=60,
        ge=1,
        le=3650,
        description="How many days an offer without a deadline nor `expires_at` is shown "
        "after its publication.",
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
    upload_dir: Path = Field(
        default=Path("uploads"),
        description="Where uploaded documents are stored (local storage); relative to `home`.",
    )
    storage_url: str = Field(
        default="",
        description="Where uploaded documents go: empty for upload_dir, file://<folder>, or "
        "s3://bucket/prefix for an S3-compatible store.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3 API endpoint for a non-AWS store (MinIO…); None for AWS."
    )
    s3_access_key_id: str | None = Field(
        default=None, description="None uses boto3's own chain (environment, instance role)."
    )
    s3_secret_access_key: SecretStr | None = Field(
        default=None, description="Secret of s3_access_key_id; never printed."
    )
    s3_region: str = Field(default="us-east-1", description="Region of the bucket.")
    candidate_token_minutes: int = Field(
        default=60, ge=1, le=1440, description="Lifetime of a candidate's access token."
    )
    candidate_refresh_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Lifetime of a candidate's refresh token; each use issues a new one, "
        "so a candidate who comes back within it stays signed in.",
    )
    max_document_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest CV or cover letter (413 above)."
    )
    max_unpacked_document_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        description="Largest unpacked size of a DOCX or ODT (zip bombs are refused).",
    )
    rate_limit_storage_url: str = Field(
        default="memory://",
        description="Where request counters live: memory:// (one process) or "
        "redis://host:6379 (shared by every worker).",
    )
    rate_limit_sign_in: str = Field(
        default="10/minute",
        description="Sign-ins and sign-ups per client address; empty turns it off.",
    )
    rate_limit_apply: str = Field(
        default="20/minute", description="Applications per client address; empty turns it off."
    )
    rate_limit_default: str = Field(
        default="6000/minute",
        description="Any request, per client address; empty turns it off (benchmarks).",
    )
    idempotency_hours: int = Field(
        default=24, ge=1, description="How long Idempotency-Key responses are kept."
    )

    @model_validator(mode="after")
    def _resolve_paths(self) -> Self:
        # Nothing depends on the working directory: cron, systemd and a shell elsewhere
        # all find the same data.
        self.home = (PROJECT_ROOT / self.home.expanduser()).resolve()
        self.upload_dir = self.home / self.upload_dir.expanduser()
        try:
            url = make_url(self.database_url)
        except ArgumentError:
            # The URL may hold a password: it is not repeated.
            raise ValueError("VOCATION_DATABASE_URL is not a database URL") from None
        path = url.database
        if (
            url.get_backend_name() == "sqlite"
            and path
            and path != ":memory:"
            and not path.startswith("file:")
            and not Path(path).expanduser().is_absolute()
        ):
            resolved = url.set(database=str(self.home / Path(path).expanduser()))
            self.database_url = resolved.render_as_string(hide_password=False)
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings(_env_file=settings_file())
