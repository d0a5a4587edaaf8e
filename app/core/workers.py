"""Background work drained from tables after the commit (the search queue, expired
offers): a writer records what must happen in its own transaction, and a worker in the
serving process does it later. Woken by writers after their commit, at start-up, and every
``poll_seconds`` for what another process or a crash left."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable


class Drainer:
    def __init__(
        self,
        what: str,
        drain: Callable[[], Awaitable[int]],
        poll_seconds: float,
        log: logging.Logger,
    ) -> None:
        self._what = what
        self._log = log
        self._drain_once = drain
        self._poll_seconds = poll_seconds
        self._draining: asyncio.Task[None] | None = None
        self._again = False
        self._polling: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Drain soon; returns at once."""
        if self._draining is not None and not self._draining.done():
            self._again = True  # recorded after the running drain looked: go round again
            return
        self._draining = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while True:
            self._again = False
            try:
                await self._drain_once()
            except Exception:
                # What is recorded stays so: the next wake or poll tries again.
                self._log.exception("%s failed", self._what)
                return
            if not self._again:
                return

    async def idle(self) -> None:
        """Wait until the drain under way, if any, is over (tests, shutdown)."""
        while self._draining is not None and not self._draining.done():
            await asyncio.shield(self._draining)

    def start(self) -> None:
        self.wake()
        if self._poll_seconds > 0:
            self._polling = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            self.wake()

    async def stop(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
        await self.idle()
