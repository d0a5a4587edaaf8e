"""Requests per minute, per client address: a pure ASGI guard in front of the app.

The address is the connection's, or the one a trusted proxy forwarded: app/main.py puts
uvicorn's ProxyHeadersMiddleware, given ``VOCATION_TRUSTED_PROXIES``, in front of this guard.

Counters live where ``VOCATION_RATE_LIMIT_STORAGE_URL`` says: in the process by default,
in Redis in production (``redis://host:6379``) so that every worker shares them. If that
store fails, requests go through (logged): a rate limiter must not take the API down.
"""

import logging
import math
import re
import time
from collections import deque
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


class MemoryWindows:
    """Moving windows in this process, as ``limits`` keeps them but without its costs on
    every request (a task and a thread hop to expire entries): for each rule and address,
    the times of the hits inside the window, oldest first. The event loop runs one hit at
    a time, so no lock is needed."""

    # How often every window is swept of addresses that stopped calling.
    SWEEP_SECONDS = 60.0

    def __init__(self) -> None:
        self.hits: dict[tuple[str, str], deque[float]] = {}
        self.longest = 0.0
        self.swept_at = time.monotonic()

    def hit(self, limit: RateLimitItem, name: str, who: str) -> bool:
        """Count a hit and say whether it is allowed; a refused hit is not counted."""
        now = time.monotonic()
        seconds = limit.get_expiry()
        if now - self.swept_at > self.SWEEP_SECONDS:
            self._sweep(now)
        hits = self.hits.get((name, who))
        if hits is None:
            hits = self.hits[(name, who)] = deque()
            self.longest = max(self.longest, seconds)
        cutoff = now - seconds
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if len(hits) >= limit.amount:
            return False
        hits.append(now)
        return True

    def retry_after(self, limit: RateLimitItem, name: str, who: str) -> float:
        """Seconds until the oldest hit in the window leaves it."""
        hits = self.hits.get((name, who))
        if not hits:
            return 0.0
        return hits[0] + limit.get_expiry() - time.monotonic()

    def _sweep(self, now: float) -> None:
        self.swept_at = now
        cutoff = now - self.longest
        for key in [key for key, hits in self.hits.items() if not hits or hits[-1] <= cutoff]:
            del self.hits[key]


def _in_memory(storage_url: str) -> bool:
    return storage_url.removeprefix("async+").startswith("memory://")


class RateLimit:
    def __init__(self, app: ASGIApp, rules: list[Rule], storage_url: str) -> None:
        self.app = app
        self.rules = rules
        self.memory = MemoryWindows() if _in_memory(storage_url) else None
        self.limiter = (
            None
            if self.memory is not None
            else MovingWindowRateLimiter(storage_from_string(async_storage_url(storage_url)))
        )

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
            if self.memory is not None:
                if self.memory.hit(current.limit, current.name, who):
                    continue
                wait = self.memory.retry_after(current.limit, current.name, who)
            else:
                assert self.limiter is not None
                try:
                    if await self.limiter.hit(current.limit, current.name, who):
                        continue
                    stats = await self.limiter.get_window_stats(current.limit, current.name, who)
                except Exception:
                    log.warning("rate-limit store unavailable; letting the request through")
                    return None
                wait = stats.reset_time - time.time()
            retry_after = max(1, math.ceil(wait))
            limit = current.limit
            error = TooManyRequests(
                f"Too many requests: at most {limit.amount} per {limit.multiples} "
                f"{limit.GRANULARITY.name} here. Retry in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )
            return problem_response(error.problem(), error.headers)
        return None
