"""Per-account backoff: after a few wrong passwords in a row, the account takes no
password for a while, a delay that doubles with each further failure up to a cap. Kept in
the candidate's row, so every process sees it; bounded, so an attacker cannot lock the
real user out for longer than the cap: after it, the right password works."""

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.candidates.models import Candidate
from app.core.rate_limit import TooManyRequests


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


def refuse_if_locked(locked_until: datetime | None, now: datetime) -> None:
    if locked_until is None or locked_until <= now:
        return
    wait = max(1, math.ceil((locked_until - now).total_seconds()))
    raise TooManyRequests(
        f"Too many wrong passwords for this account: retry in {wait} s.",
        headers={"Retry-After": str(wait)},
    )


async def record_failure(
    session: AsyncSession, candidate_id: uuid.UUID, policy: Policy, now: datetime
) -> None:
    # Counted in the database, not from what this request read: concurrent failures all count.
    failures = (
        await session.execute(
            update(Candidate)
            .where(col(Candidate.id) == candidate_id)
            .values(failed_sign_ins=col(Candidate.failed_sign_ins) + 1)
            .returning(col(Candidate.failed_sign_ins))
        )
    ).scalar_one_or_none()
    delay = policy.delay(failures or 0)
    if delay is not None:
        await session.execute(
            update(Candidate)
            .where(col(Candidate.id) == candidate_id)
            .values(locked_until=now + delay)
        )
    await session.commit()


async def clear(session: AsyncSession, candidate_id: uuid.UUID) -> None:
    """A right password: the count starts again. Committed with the sign-in's tokens."""
    await session.execute(
        update(Candidate)
        .where(col(Candidate.id) == candidate_id)
        .values(failed_sign_ins=0, locked_until=None)
    )
