"""Per-address backoff: after a few wrong passwords in a row, the address takes no password
for a while, a delay that doubles with each further failure up to a cap.

Kept per address (a digest of its canonical form), whether or not an account has it: an
address without an account locks after as many wrong passwords as one with, so that a lock
(429) tells nobody which addresses have accounts. In the database, so that every process
sees the same lock; bounded, so that an attacker cannot lock the real user out for longer
than the cap: after it, the right password works."""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.candidates.models import SignInLock
from app.core.rate_limit import TooManyRequests

# A lock row nobody failed on for this long is forgotten (`vocation purge`): far longer
# than the longest lock.
FORGOTTEN_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Policy:
    failures: int
    first: timedelta
    longest: timedelta

    def delay(self, failures: int) -> timedelta | None:
        """The lock after ``failures`` wrong passwords in a row, or None."""
        if failures < self.failures:
            return None
        doublings = min(failures - self.failures, 32)
        delay: timedelta = min(self.first * (1 << doublings), self.longest)
        return delay


def address_key(canonical_email: str) -> str:
    """The lock's key: a digest, so that the table holds no address."""
    return hashlib.sha256(canonical_email.encode()).hexdigest()


async def locked_until(session: AsyncSession, key: str) -> datetime | None:
    """When the address's lock ends, if it has one."""
    until: datetime | None = (
        await session.execute(
            select(col(SignInLock.locked_until)).where(col(SignInLock.address_hash) == key)
        )
    ).scalar_one_or_none()
    return until


def refuse_if_locked(until: datetime | None, now: datetime) -> None:
    if until is None or until <= now:
        return
    wait = max(1, math.ceil((until - now).total_seconds()))
    raise TooManyRequests(
        f"Too many wrong passwords for this account: retry in {wait} s.",
        headers={"Retry-After": str(wait)},
    )


async def record_failure(session: AsyncSession, key: str, policy: Policy, now: datetime) -> None:
    # Counted in the database, not from what this request read: concurrent failures all
    # count. One statement on both engines (INSERT … ON CONFLICT DO UPDATE … RETURNING).
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SignInLock)
    counted = insert.values(address_hash=key, failures=1, updated_at=now).on_conflict_do_update(
        index_elements=[col(SignInLock.address_hash)],
        set_={"failures": col(SignInLock.failures) + 1, "updated_at": now},
    )
    failures = (await session.execute(counted.returning(col(SignInLock.failures)))).scalar_one()
    delay = policy.delay(failures)
    if delay is not None:
        await session.execute(
            update(SignInLock)
            .where(col(SignInLock.address_hash) == key)
            .values(locked_until=now + delay)
        )
    await session.commit()


async def clear(session: AsyncSession, key: str) -> None:
    """A right password, or a new one: the count starts again. Committed by the caller,
    with what the success writes."""
    await session.execute(delete(SignInLock).where(col(SignInLock.address_hash) == key))


async def forget_stale(session: AsyncSession, now: datetime) -> int:
    """Counts nobody added to for a day, and whose lock is over: `vocation purge`."""
    result = await session.execute(
        delete(SignInLock).where(
            col(SignInLock.updated_at) < now - FORGOTTEN_AFTER,
            (col(SignInLock.locked_until).is_(None)) | (col(SignInLock.locked_until) < now),
        )
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
