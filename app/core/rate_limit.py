"""Requests per minute, per client address: a pure ASGI guard in front of the app.

Counters live where ``VOCATION_RATE_LIMIT_STORAGE_URL`` says: in the process by default,
in Redis in production (``redis://host:6379``) so that every worker shares them. If that
store fails, requests go through (logged): a rate limiter must not take the API down.
"""

import logging
import math
import re
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import AppError, problem_response

log = logging.getLogger("vocation.rate_limit")


class TooManyRequests(AppError):
    status, title, slug = 429, "Too Many Requests", "rate-limited"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    methods: frozenset[str]
    path: re.Pattern[str]
    limit: RateLimitItem

    def matches(self, method: str, path: str) -> bool:
        return (not self.methods or method in self.methods) and bool(self.path.match(path))


def rule(name: str, methods: str, path: str, limit: str) -> Rule | None:
    """A rule, or None when its limit setting is empty (that limit is off)."""
    if not limit.strip():
        return None
    return Rule(name, frozenset(methods.split()), re.compile(path), parse(limit))


def async_storage_url(url: str) -> str:
    return url if url.startswith("async+") else "async+" + url


class RateLimit:
    def __init__(self, app: ASGIApp, rules: list[Rule], storage_url: str) -> None:
        self.app = app
        self.rules = rules
        self.limiter = MovingWindowRateLimiter(storage_from_string(async_storage_url(storage_url)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = await self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _refusal(self, scope: Scope) -> Response | None:
        client = scope.get("client")
        who = client[0] if client else "unknown"
        for current in self.rules:
            if not current.matches(scope["method"], scope["path"]):
                continue
            try:
                allowed = await self.limiter.hit(current.limit, current.name, who)
                if allowed:
                    continue
                stats = await self.limiter.get_window_stats(current.limit, current.name, who)
            except Exception:
                log.warning("rate-limit store unavailable; letting the request through")
                return None
            retry_after = max(1, math.ceil(stats.reset_time - time.time()))
            limit = current.limit
            error = TooManyRequests(
                f"Too many requests: at most {limit.amount} per {limit.multiples} "
                f"{limit.GRANULARITY.name} here. Retry in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )
            return problem_response(error.problem(), error.headers)
        return None
