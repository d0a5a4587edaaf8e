"""Idempotency-Key: a retried request replays the first response instead of acting twice.

A key is claimed (committed) before the work starts, so a concurrent duplicate sees it
and gets 409; the response is recorded when the work commits; a failure releases the
claim so the client may retry. Records expire (``vocation purge``).

``run_once`` does all of this; ``claim``, ``record`` and ``release`` are its steps.
"""

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field as Column
from sqlmodel import SQLModel, col

from app.core.errors import Conflict, FieldError, Unprocessable
from app.core.types import UTCDateTime, utcnow

IN_PROGRESS = "in_progress"
# No request runs this long (uploads included); an older claim was left by a crash.
ABANDONED_AFTER = timedelta(minutes=10)
DONE = "done"


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "idempotency_record"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),)

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    scope: str = Column(sa_type=sa.String(200))
    key: str = Column(sa_type=sa.String(200))
    request_hash: str = Column(sa_type=sa.String(64))
    state: str = Column(default=IN_PROGRESS, sa_type=sa.String(12))
    response_status: int | None = Column(default=None)
    response_body: str | None = Column(default=None, sa_type=sa.Text)
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime, index=True)


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Key:
    """A request's Idempotency-Key: ``key`` is unique within ``scope`` (say, one offer), and
    ``request_hash`` tells a retry of the same request from another one (``fingerprint``)."""

    scope: str
    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What a request answered, as it is recorded and replayed."""

    status: int
    body: str


@dataclass(frozen=True, slots=True)
class Replay(Answer):
    """The answer recorded by an earlier request with the same key."""


# Records the answer in the work's transaction, then commits both: the work calls it where
# it would call ``session.commit()``, so that a retry never replays work that was undone.
Commit = Callable[[int, str], Awaitable[None]]


async def run_once(
    session: AsyncSession, key: Key | None, work: Callable[[Commit], Awaitable[T]]
) -> T | Replay:
    """Run ``work`` once per ``key``: claim the key, or return the ``Replay`` of its first
    answer (422 if it came with another request, 409 while that one is running); otherwise
    run the work, which ends with ``await commit(status, body)``, and return what it
    returns. If the work raises, its transaction is rolled back and the claim released, so
    the client may retry. Without a key, the work runs and ``commit`` just commits."""
    if key is not None:
        # Outside the ``try``: a 409 or 422 here leaves the other request's claim alone.
        replay = await claim(session, key.scope, key.key, key.request_hash)
        if replay is not None:
            return replay
    committed = False

    async def commit(status: int, body: str) -> None:
        nonlocal committed
        if key is not None:
            await record(session, key.scope, key.key, status, body)
        await session.commit()
        committed = True

    try:
        result = await work(commit)
        if not committed:
            # A claim without its answer would answer 409 to every retry for ten minutes.
            raise RuntimeError("the work returned without calling commit(status, body)")
    except BaseException:
        if key is not None:
            await release(session, key.scope, key.key)
        else:
            await session.rollback()
        raise
    return result


def fingerprint(parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


async def claim(session: AsyncSession, scope: str, key: str, request_hash: str) -> Replay | None:
    """Claim ``key`` for this request, or return the response to replay."""
    existing = (
        await session.execute(
            sa.select(IdempotencyRecord).where(
                col(IdempotencyRecord.scope) == scope, col(IdempotencyRecord.key) == key
            )
        )
    ).scalar_one_or_none()
    if existing is None:
        session.add(IdempotencyRecord(scope=scope, key=key, request_hash=request_hash))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            raise _in_progress() from None
        return None
    if existing.request_hash != request_hash:
        raise Unprocessable(
            "This Idempotency-Key was used with another request.",
            errors=[FieldError(field="Idempotency-Key", message="reused with another body")],
        )
    if existing.state != DONE or existing.response_status is None:
        if existing.created_at < utcnow() - ABANDONED_AFTER:
            # The process that claimed it died mid-way: this request takes over.
            existing.created_at = utcnow()
            await session.commit()
            return None
        raise _in_progress()
    return Replay(existing.response_status, existing.response_body or "")


def _in_progress() -> Conflict:
    return Conflict(
        "A request with this Idempotency-Key is still in progress; retry later.",
        headers={"Retry-After": "1"},
    )


async def record(session: AsyncSession, scope: str, key: str, status: int, body: str) -> None:
    """Store the response in the caller's transaction, so it commits with the work."""
    await session.execute(
        sa.update(IdempotencyRecord)
        .where(col(IdempotencyRecord.scope) == scope, col(IdempotencyRecord.key) == key)
        .values(state=DONE, response_status=status, response_body=body)
    )


async def release(session: AsyncSession, scope: str, key: str) -> None:
    await session.rollback()
    await session.execute(
        sa.delete(IdempotencyRecord).where(
            col(IdempotencyRecord.scope) == scope,
            col(IdempotencyRecord.key) == key,
            col(IdempotencyRecord.state) == IN_PROGRESS,
        )
    )
    await session.commit()


async def purge_older_than(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.execute(
        sa.delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
