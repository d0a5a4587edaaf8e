"""The application factory."""

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import v1
from app.applications import follow_up, orphans
from app.applications.digest import DigestWorker
from app.applications.pending import PendingSweeper
from app.candidates import tokens as candidate_tokens
from app.candidates.guard import Guard
from app.core import health
from app.core.config import Settings, get_settings
from app.core.db import Database, create_engine
from app.core.docs import install_docs
from app.core.errors import FieldError, Problem, install_error_handlers, problem_responses
from app.core.hosts import ANY_HOST_PATHS, AllowedHosts
from app.core.middleware import BodySizeLimit, HeadAsGet, SplitCORS
from app.core.migrations import head_revision
from app.core.openapi import complete
from app.core.rate_limit import RateLimit, Rule, rule
from app.core.security_headers import SecurityHeaders
from app.core.storage import storage_from_settings
from app.core.types import utcnow
from app.core.urls import message_base, slash_redirects
from app.mail.sender import mail_sender
from app.offers.bulk.checks import shared_pool
from app.offers.expiry import ExpiryWorker
from app.offers.hot import HotReads
from app.outbox.dispatcher import Outbox
from app.outbox.queue import WAKE
from app.search.queue import SearchWorker
from app.webhooks.docs import router as webhook_payloads
from app.webhooks.sender import webhook_sender
from app.wiring import session_info

UPLOAD_PATH = re.compile(r"^/v1/offers/[^/]+/applications$")
BULK_PATH = re.compile(r"^/v1/offers/bulk$")
# What takes a password or sends a mail to an address: one per-address limit for them all.
SIGN_IN_PATHS = re.compile(
    r"^/v1/(auth/token|candidates(/verify|/verification|/password-reset(/confirm)?"
    r"|/email-change/confirm)?|me/email)$"
)

DESCRIPTION = """
Open job-board API for public-interest work in France: associations, collectifs,
foundations, think tanks, State administrations, local authorities, public innovation labs
and the social and solidarity economy.

**Conventions.** Every route is under `/v1`. Errors are `application/problem+json`
(RFC 9457). Lists are cursor-paginated: follow `next_cursor` (or the `Link: rel="next"`
header); a query parameter a list does not declare is refused with `422`, so that a typo
never widens the answer. Public reads carry `ETag` and `Cache-Control` and answer `304` to
`If-None-Match`, or, without it, to `If-Modified-Since` where they send `Last-Modified`;
`PATCH` and `DELETE` honour `If-Match` (`412` when stale). Every `GET` route also answers
`HEAD`.

**Authentication.** `Authorization: Bearer <key>`. Reading published offers,
organisations and referentials needs no key. Admin keys create organisations; recruiter
keys are bound to one organisation and write only its offers; partner keys read.

**Limits** (each a setting):

| limit | default | setting | answer |
|---|---|---|---|
| items per page | 20, at most 100 | `VOCATION_PAGE_SIZE_DEFAULT`, `VOCATION_PAGE_SIZE_MAX` | 422 |
| request body | 1 MiB | `VOCATION_MAX_BODY_BYTES` | 413 |
| each uploaded document (CV, cover letter) | 10 MB | `VOCATION_MAX_DOCUMENT_BYTES` | 413 |
| unpacked size of a DOCX or ODT | 50 MB | `VOCATION_MAX_UNPACKED_DOCUMENT_BYTES` | 422 |
| reading a PDF's structure | 1,000,000 objects, 5 s, 16 MiB inflated a stream | — | 422 |
| sign-ins, sign-ups, resets, links, per address | 10 a minute | `…_RATE_LIMIT_SIGN_IN` | 429 |
| sign-ins, sign-ups and resets per account | 10 a minute | `…_SIGN_IN_ACCOUNT` | 429 |
| passwords hashing, and waiting | 2 and 16 | `…_PASSWORD_HASH_THREADS`, `…_QUEUE` | 503 |
| applications per client address | 20 a minute | `VOCATION_RATE_LIMIT_APPLY` | 429 |
| any request per client address | 6,000 a minute | `VOCATION_RATE_LIMIT_DEFAULT` | 429 |
| request line and headers | 32 KiB | `VOCATION_MAX_HEADER_BYTES` | 431 |
| headers in one request | 100 | `VOCATION_MAX_HEADER_COUNT` | 431 |
| time to send the request line and headers | 10 s | `VOCATION_HEADER_TIMEOUT_SECONDS` | 408 |
| pause while sending a body | 30 s | `VOCATION_BODY_TIMEOUT_SECONDS` | 408 |
| one-line texts (title, name, city…) | 200 characters | — | 422 |
| markdown texts (description, missions, profile) | 20,000 characters | — | 422 |
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = Database(
        create_engine(
            settings.database_url,
            pool_size=settings.database_pool_size,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        )
    )

    outbox = Outbox(
        database,
        {"email": mail_sender(settings), "webhook": webhook_sender(database, settings)},
        poll_seconds=settings.outbox_poll_seconds,
        lease_seconds=settings.outbox_lease_seconds,
        private_channels=frozenset({"email"}),
    )
    database.sessions.configure(info={**session_info(settings), WAKE: outbox.wake})
    search_worker = SearchWorker(database, settings.search_poll_seconds)
    expiry_worker = ExpiryWorker(
        database, ZoneInfo(settings.timezone), settings.expiry_poll_seconds
    )
    storage = storage_from_settings(settings)
    pending_sweeper = PendingSweeper(database, storage, settings.pending_sweep_poll_seconds)
    digest_worker = DigestWorker(
        database,
        zone=ZoneInfo(settings.timezone),
        hour=settings.digest_hour,
        base=message_base(settings.public_base_url),
        poll_seconds=settings.digest_poll_seconds,
    )
    check_pool = shared_pool(settings.bulk_check_processes)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await check_pool.warm()
        search_worker.start()
        expiry_worker.start()
        outbox.start()
        pending_sweeper.start()
        digest_worker.start()
        # What a crash left in storage: beside the first requests, not before them.
        sweeping = asyncio.create_task(
            orphans.sweep_at_start_up(
                database,
                _app.state.storage,
                utcnow(),
                timedelta(minutes=settings.orphan_grace_minutes),
            )
        )
        yield
        sweeping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeping
        await digest_worker.stop()
        await pending_sweeper.stop()
        await outbox.stop()
        await expiry_worker.stop()
        await search_worker.stop()
        await check_pool.stop()
        await database.dispose()

    app = FastAPI(
        title="Vocation",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        # Served by install_docs, from local assets instead of a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.search_worker = search_worker
    app.state.expiry_worker = expiry_worker
    app.state.outbox = outbox
    app.state.check_pool = check_pool
    app.state.migration_head = head_revision()
    app.state.pending_sweeper = pending_sweeper
    app.state.digest_worker = digest_worker
    app.state.storage = storage
    app.state.sign_in_guard = Guard.from_settings(settings)
    app.state.token_resolvers = {
        candidate_tokens.ACCESS_PREFIX: candidate_tokens.resolve_access_token,
        follow_up.FOLLOW_UP_PREFIX: follow_up.resolve_follow_up_token,
    }

    install_error_handlers(app)
    app.include_router(health.router)
    install_docs(app)
    app.include_router(v1)
    app.webhooks.include_router(webhook_payloads)
    # Outermost last: CORS answers preflights before the body limit reads anything.
    app.add_middleware(HotReads)
    app.add_middleware(HeadAsGet)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        # Room for a CV, a cover letter and the form fields around them.
        larger_limits={
            UPLOAD_PATH: 2 * settings.max_document_bytes + 256 * 1024,
            BULK_PATH: settings.bulk_max_bytes,
        },
    )
    app.add_middleware(
        RateLimit, rules=rate_rules(settings), storage_url=settings.rate_limit_storage_url
    )
    app.add_middleware(SplitCORS, write_origins=settings.cors_write_origins)
    app.add_middleware(AllowedHosts, allowed_hosts=settings.answered_hosts())
    # Outermost, so that the rate limit and the access log see the client's address; it
    # believes X-Forwarded-For only from the listed proxies (uvicorn's own would believe
    # 127.0.0.1, which `vocation serve` turns off).
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    _harden(app, settings)
    _document_problems(app)
    return app


def _harden(app: FastAPI, settings: Settings) -> None:
    """Starlette's own slash redirect reads the Host header; ours writes the public base.
    The security headers wrap Starlette's error middleware too, so that a 500 has them."""
    app.router.redirect_slashes = False
    app.router.default = slash_redirects(app.router)
    build = app.build_middleware_stack

    def hardened_stack() -> Any:
        return SecurityHeaders(build(), public_base_url=settings.public_base_url)

    app.build_middleware_stack = hardened_stack  # type: ignore[method-assign]


def rate_rules(settings: Settings) -> list[Rule]:
    rules = [
        rule("sign-in", "POST", SIGN_IN_PATHS.pattern, settings.rate_limit_sign_in),
        rule("apply", "POST", UPLOAD_PATH.pattern, settings.rate_limit_apply),
        rule("any", "", r"^/", settings.rate_limit_default),
    ]
    return [current for current in rules if current is not None]


def _document_problems(app: FastAPI) -> None:
    """Routes reference ``#/components/schemas/Problem``; put it there."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            webhooks=app.webhooks.routes,
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        template = "#/components/schemas/{model}"
        schemas["FieldError"] = FieldError.model_json_schema(ref_template=template)
        problem = Problem.model_json_schema(ref_template=template)
        problem.pop("$defs", None)
        schemas["Problem"] = problem
        # The per-address limit applies to every route, the host check to all but probes.
        too_many = problem_responses(429)[429]
        misdirected = problem_responses(421)[421]
        for path, item in schema["paths"].items():
            for operation in item.values():
                operation["responses"].setdefault("429", too_many)
                if path not in ANY_HOST_PATHS:
                    operation["responses"].setdefault("421", misdirected)
        complete(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def __getattr__(name: str) -> Any:
    # `app.main:app` (uvicorn, vocation serve) is made on first use: importing create_app
    # (`vocation openapi`, the tests) must not create the configured database.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
