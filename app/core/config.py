"""Every setting of the service, read from the environment with the ``VOCATION_`` prefix
and from the settings file (``settings_file()``); relative paths resolve in ``home``."""

import ipaddress
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
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
        default="",
        description="Absolute base URL (scheme, host, and any path prefix) used in every link "
        "the service writes: Link and Location headers, feeds, JSON-LD, redirects. Empty uses "
        "the request's, from an allowed host only. An https URL also turns HSTS on.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"],
        description="Host names answered (421 for any other); `*.example.org` matches its "
        "subdomains. The host of public_base_url is always answered; /healthz and /readyz "
        "answer any host, for probes that call an address.",
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
    digest_hour: int = Field(
        default=8,
        ge=0,
        le=23,
        description="The hour (in `timezone`, Paris by default) at which organisations that "
        "chose `notification_frequency: daily` get the day's e-mail of new applications.",
    )
    digest_poll_seconds: float = Field(
        default=60,
        ge=0,
        description="How often each serving process looks whether a daily digest is due "
        "(0: only at start-up).",
    )
    pending_sweep_poll_seconds: float = Field(
        default=600,
        ge=0,
        description="How often each serving process erases the applications left "
        "unconfirmed 48 hours after they were made, with their files (0: only at start-up; "
        "`vocation purge` erases them too).",
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
    cors_write_origins: Annotated[list[str], NoDecode] = Field(
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
    rate_limit_sign_in_account: str = Field(
        default="10/minute",
        description="Sign-ins and sign-ups per account (the e-mail address, from any client "
        "address), counted before the password is hashed; empty turns it off.",
    )
    mail_quota_per_address: str = Field(
        default="3/hour",
        description="E-mails one address may be sent on request, whoever asks (sign-up, "
        "password reset, address change, verification asked again): past it the request is "
        "answered the same and no mail is sent. Counted in the rate limits' store, by the "
        "address's SHA-256; empty turns it off.",
    )
    password_hash_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Passwords hashed at once per process (Argon2: 64 MiB and tens of "
        "milliseconds each).",
    )
    password_hash_queue: int = Field(
        default=16,
        ge=0,
        le=10_000,
        description="Sign-ins and sign-ups that may wait for a hashing thread; beyond them, "
        "503 with Retry-After at once.",
    )
    password_min_strength: int = Field(
        default=3,
        ge=0,
        le=4,
        description="Least zxcvbn score (0 to 4) of a new password; weaker ones get 422.",
    )
    sign_in_lockout_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins in a row after which an account is locked for a while.",
    )
    sign_in_lockout_seconds: int = Field(
        default=60,
        ge=1,
        description="First lock of an account; each further failure doubles it.",
    )
    sign_in_lockout_max_seconds: int = Field(
        default=900,
        ge=1,
        description="Longest lock of an account: after it, the right password always works.",
    )
    idempotency_hours: int = Field(
        default=24, ge=1, description="How long Idempotency-Key responses are kept."
    )
    orphan_grace_minutes: int = Field(
        default=60,
        ge=0,
        description="Age after which a stored document that no database row points to "
        "(left by a crash during an upload) is deleted, by `vocation purge` and at start-up. "
        "Far longer than any upload, so that one under way is never touched.",
    )
    # NoDecode: operators write "10.0.0.0/8,192.168.1.7" as for uvicorn's FORWARDED_ALLOW_IPS;
    # a JSON list is read too.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; empty believes no one.",
    )
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        description="Largest request line and headers together (431 above).",
    )
    max_header_count: int = Field(
        default=100, ge=10, description="Most headers in one request (431 above)."
    )
    header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="Time allowed to send the request line and headers, from the first byte "
        "(or from the connection for its first request); 408 and the connection closed after.",
    )
    body_timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="Longest pause while a request body is sent; 408 and the connection closed "
        "after.",
    )
    body_min_bytes_per_second: int = Field(
        default=1024,
        ge=0,
        description="Slowest average rate of a request body once body_timeout_seconds have "
        "passed; slower ends the connection (0: no minimum rate).",
    )

    smtp_url: SecretStr | None = Field(
        default=None,
        description="The SMTP relay that sends e-mail: smtp://user:password@host:port "
        "(STARTTLS when the relay offers it; `?starttls=required` insists, "
        "`?starttls=off` never) or smtps://… (TLS from the start, port 465 by default); "
        "`?ca_file=/path` trusts a private authority. Empty: e-mails are written as .eml "
        "files to mail_dir instead.",
    )
    mail_from: str = Field(
        default="Vocation <ne-pas-repondre@localhost>",
        description="The From of every e-mail; its domain also names the Message-IDs.",
    )
    mail_dir: Path = Field(
        default=Path("mail"),
        description="Where e-mails are written when no SMTP relay is set; relative to `home`.",
    )
    smtp_timeout_seconds: float = Field(
        default=20, gt=0, description="Longest wait for the SMTP relay at each step."
    )
    outbox_poll_seconds: float = Field(
        default=5,
        ge=0,
        description="How often each serving process looks for e-mails and webhooks due "
        "(retries, what another process or a crash left); writers also wake it at once.",
    )
    outbox_retention_days: int = Field(
        default=30,
        ge=1,
        description="How long sent and failed messages stay listed (webhook deliveries) "
        "before `vocation purge` deletes them. A sent e-mail keeps no content at all.",
    )
    outbox_lease_seconds: float = Field(
        default=60,
        gt=0,
        description="How long a message taken for sending is left to its process; after "
        "that (the process died), another takes it. Longer than any send.",
    )
    webhook_allow_http: bool = Field(
        default=False,
        description="Accept webhook URLs in plain http (development and tests only): "
        "otherwise https alone, whose receivers are who their certificate says.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Deliver webhooks to loopback, private, link-local and other non-public "
        "addresses (development and tests only). Cloud metadata addresses, multicast and "
        "unspecified ones stay refused.",
    )
    webhook_connect_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=60,
        description="Time to resolve a webhook receiver's host and connect to it.",
    )
    webhook_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=120,
        description="Time for a whole webhook delivery, from resolving the host to the end "
        "of the response's first KiB: a receiver that answers slowly holds no worker.",
    )

    # Lists read as operators write them: "a,b" as well as a JSON list.
    @field_validator("trusted_proxies", "allowed_hosts", "cors_write_origins", mode="before")
    @classmethod
    def _comma_lists(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: list[str]) -> list[str]:
        # uvicorn takes a misspelt address for a host name that never matches: say so here.
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @model_validator(mode="after")
    def _no_reflected_host(self) -> "Settings":
        # Any host, and links made from the request: a forged Host would be echoed into
        # cached links. With a public base URL, links never read the Host.
        for pattern in self.allowed_hosts:
            if "*" in pattern[1:] or (pattern.startswith("*") and pattern[:2] not in {"*", "*."}):
                raise ValueError(f"allowed_hosts: {pattern!r} is not a host nor *.domain")
        if "*" in self.allowed_hosts and not self.public_base_url:
            raise ValueError(
                'allowed_hosts ["*"] needs public_base_url: links would echo any Host header'
            )
        return self

    def answered_hosts(self) -> list[str]:
        """The allowed hosts and the public base URL's, as the host check matches them."""
        hosts = list(self.allowed_hosts)
        public = urlsplit(self.public_base_url).hostname if self.public_base_url else None
        if public:
            hosts.append(f"[{public}]" if ":" in public else public)
        return hosts

    @model_validator(mode="after")
    def _resolve_paths(self) -> Self:
        # Nothing depends on the working directory: cron, systemd and a shell elsewhere
        # all find the same data.
        self.home = (PROJECT_ROOT / self.home.expanduser()).resolve()
        self.upload_dir = self.home / self.upload_dir.expanduser()
        self.mail_dir = self.home / self.mail_dir.expanduser()
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
