"""Argon2 hashing in a bounded queue: a burst of sign-ins waits for a few hashing threads,
and beyond a short waiting list is answered 503 at once, so that it cannot make a real
sign-in wait behind it for seconds."""

import asyncio
import functools
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from app.core.errors import ServiceUnavailable

T = TypeVar("T")
_hasher = PasswordHasher()
_executors: dict[int, ThreadPoolExecutor] = {}


def _executor(threads: int) -> ThreadPoolExecutor:
    """One pool of each size per process, whatever the number of apps it builds (tests
    build hundreds); its own, so hashing never starves the default pool file storage uses."""
    if threads not in _executors:
        _executors[threads] = ThreadPoolExecutor(threads, thread_name_prefix="argon2")
    return _executors[threads]


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the e-mail is unknown, so both answers take as long. Made on
    first use: an Argon2 hash costs 64 MiB, which start-up need not pay."""
    return _hasher.hash(secrets.token_urlsafe(16))


class Busy(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__(
            "Too many sign-ins at this moment; retry in a second.", headers={"Retry-After": "1"}
        )


class PasswordHashing:
    def __init__(self, threads: int, waiting: int) -> None:
        self._executor = _executor(threads)
        # Taken by every hash admitted (running or waiting), given back by the thread when
        # the hash is done, even if the request that asked for it has gone meanwhile.
        self._admitted = threading.BoundedSemaphore(threads + waiting)

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        if not self._admitted.acquire(blocking=False):
            raise Busy()
        try:
            future = self._executor.submit(function, *args)
        except BaseException:
            self._admitted.release()
            raise
        future.add_done_callback(lambda _done: self._admitted.release())
        return await asyncio.wrap_future(future)

    async def hash(self, password: str) -> str:
        return await self._run(_hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; with no stored hash (no such account),
        False after as long a wait."""
        return await self._run(_verify, stored, password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except VerificationError:
        return False
