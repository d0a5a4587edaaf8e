from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import idempotency
from app.core.errors import Conflict, Unprocessable
from app.core.idempotency import IdempotencyRecord
from app.core.types import utcnow


async def test_claim_replay_conflict_and_takeover(session: AsyncSession) -> None:
    scope, key = "apply:offer-1", "key-1"
    assert await idempotency.claim(session, scope, key, "hash-a") is None
    with pytest.raises(Conflict):
        await idempotency.claim(session, scope, key, "hash-a")
    with pytest.raises(Unprocessable):
        await idempotency.claim(session, scope, key, "hash-b")

    # A claim left behind by a crashed process is taken over after a while.
    await session.execute(
        update(IdempotencyRecord).values(created_at=utcnow() - timedelta(minutes=11))
    )
    await session.commit()
    assert await idempotency.claim(session, scope, key, "hash-a") is None

    await idempotency.record(session, scope, key, 201, '{"id": "x"}')
    await session.commit()
    replay = await idempotency.claim(session, scope, key, "hash-a")
    assert replay == idempotency.Replay(201, '{"id": "x"}')
    assert await idempotency.claim(session, "apply:offer-2", key, "hash-b") is None


async def test_release_frees_the_key(session: AsyncSession) -> None:
    assert await idempotency.claim(session, "s", "k", "h") is None
    await idempotency.release(session, "s", "k")
    assert await idempotency.claim(session, "s", "k", "other") is None
