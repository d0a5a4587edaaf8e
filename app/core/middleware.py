"""Pure ASGI middleware: each wraps the app without buffering responses (BaseHTTPMiddleware
would halve throughput)."""

import re
from collections.abc import Sequence
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PayloadTooLarge, problem_response
from app.core.security import required_principal

READ_METHODS = frozenset({"GET", "HEAD"})
EXPOSED_HEADERS = ["ETag", "Link", "Location", "Retry-After", "Last-Modified"]


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not Content-Length is
    sent: a chunked body is counted as it is read, so memory never holds more."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger_limits: dict[re.Pattern[str], int] | None = None,
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.larger_limits = larger_limits or {}

    def _limit_for(self, path: str) -> int:
        for pattern, limit in self.larger_limits.items():
            if pattern.match(path):
                return limit
        return self.default_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READ_METHODS:
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(scope, receive, send, max_bytes)
            return
        received = 0
        exceeded = False
        refused = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            # FastAPI turns any error while reading the body into its own 400; once the
            # limit was hit, whatever the app answers is replaced by the 413.
            nonlocal refused
            if not exceeded:
                await send(message)
            elif not refused:
                refused = True
                await self._refuse(scope, receive, send, max_bytes)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _BodyTooLarge:
            if not refused:
                refused = True
                await self._refuse(scope, receive, send, max_bytes)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
        error = PayloadTooLarge(f"The request body is over {max_bytes} bytes.")
        response = problem_response(error.problem(), {"Connection": "close"})
        await response(scope, receive, send)


def _needs_credentials(dependant: Dependant) -> bool:
    return any(
        dependency.call is required_principal or _needs_credentials(dependency)
        for dependency in dependant.dependencies
    )


def private_read_routes(routes: Sequence[BaseRoute]) -> list[RouteContext]:
    """The routes that answer only with a key or a candidate's token: every role check goes
    through ``required_principal``, so a new private route is found without a list.
    FastAPI's route contexts, because routes of included routers are reached through them."""
    return [
        route
        for route in iter_route_contexts(routes)
        if isinstance(route.original_route, APIRoute)
        and READ_METHODS & (route.methods or set())
        and _needs_credentials(route.dependant)
    ]


class SplitCORS:
    """Public reads may be called from any origin, without credentials; writes, and reads
    that need a key (applications, their documents, exports, a candidate's own data), only
    from the origins in settings. Two Starlette CORS policies, chosen by the (requested)
    method and the route."""

    def __init__(self, app: ASGIApp, write_origins: list[str]) -> None:
        self._private: list[RouteContext] | None = None
        self.reads = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["GET", "HEAD"],
            allow_headers=["Authorization", "If-None-Match", "If-Modified-Since", "Accept"],
            expose_headers=EXPOSED_HEADERS,
            max_age=86_400,
        )
        self.writes = CORSMiddleware(
            app,
            allow_origins=write_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "If-Modified-Since",
                "Idempotency-Key",
                "Accept",
            ],
            expose_headers=EXPOSED_HEADERS,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.reads(scope, receive, send)
            return
        headers = dict(scope["headers"])
        method: Any = scope["method"]
        if method == "OPTIONS":
            method = headers.get(b"access-control-request-method", b"GET").decode("latin-1")
        # Without an Origin both policies answer alike: the route is looked up only for CORS.
        public = method.upper() in READ_METHODS and (
            b"origin" not in headers or not self._is_private(scope)
        )
        policy = self.reads if public else self.writes
        await policy(scope, receive, send)

    def _is_private(self, scope: Scope) -> bool:
        if self._private is None:
            # Read on first use: the app's routes are all added by then.
            self._private = private_read_routes(scope["app"].routes)
        as_read = {**scope, "method": "GET"}
        return any(route.matches(as_read)[0] is Match.FULL for route in self._private)


class HeadAsGet:
    """Answer HEAD on every GET route, as HTTP requires: FastAPI registers GET only. The app
    runs the GET; the body is dropped and the headers (ETag, Content-Length) kept, so a
    partner can check freshness cheaply."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        state = {**scope.get("state", {}), "head": True}
        await self.app({**scope, "method": "GET", "state": state}, receive, headers_only)


def is_head(request: Request) -> bool:
    """Whether the GET being served is really a HEAD: a route may then skip making a body
    that will be dropped anyway (a feed of 100,000 offers)."""
    return bool(getattr(request.state, "head", False))
