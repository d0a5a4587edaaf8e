"""Counters that a route consults itself, for limits keyed on something other than the
client address (an account): the same store as the rate-limit middleware
(``VOCATION_RATE_LIMIT_STORAGE_URL``), so that with Redis every process shares them."""

import logging
import math
import time

from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from app.core.rate_limit import MemoryWindows, _in_memory, async_storage_url

log = logging.getLogger("vocation.throttle")


class Counters:
    def __init__(self, storage_url: str) -> None:
        self.memory = MemoryWindows() if _in_memory(storage_url) else None
        self.limiter = (
            None
            if self.memory is not None
            else MovingWindowRateLimiter(storage_from_string(async_storage_url(storage_url)))
        )

    async def hit(self, limit: RateLimitItem, name: str, who: str) -> int | None:
        """Count a hit; None when it is allowed, else the seconds to wait. If the store
        fails, the hit is allowed (logged), as the middleware does."""
        if self.memory is not None:
            if self.memory.hit(limit, name, who):
                return None
            wait = self.memory.retry_after(limit, name, who)
        else:
            assert self.limiter is not None
            try:
                if await self.limiter.hit(limit, name, who):
                    return None
                stats = await self.limiter.get_window_stats(limit, name, who)
            except Exception:
                log.warning("throttle store unavailable; letting the request through")
                return None
            wait = stats.reset_time - time.time()
        return max(1, math.ceil(wait))
