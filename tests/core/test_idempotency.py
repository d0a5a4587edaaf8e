from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
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


# run_once: the whole orchestration, against the real database. The work writes a row of
# its own (a record in the "witness" scope), so that what was committed with the answer,
# or rolled back without it, can be seen.
WITNESS = "witness"


def _witness(name: str) -> IdempotencyRecord:
    return IdempotencyRecord(scope=WITNESS, key=name, request_hash="-")


def _work(
    session: AsyncSession, name: str, runs: list[str], *, status: int = 201
) -> Callable[[idempotency.Commit], Awaitable[str]]:
    async def work(commit: idempotency.Commit) -> str:
        runs.append(name)
        session.add(_witness(name))
        await commit(status, f'{{"name": "{name}"}}')
        return f"ran {name}"

    return work


async def _committed(app: Any) -> tuple[set[str], list[tuple[str, str, int | None]]]:
    """From another session, so only what was committed: the work's rows, and the keys."""
    async with app.state.database.sessions() as other:
        rows = (await other.execute(select(IdempotencyRecord))).scalars().all()
    witnesses = {row.key for row in rows if row.scope == WITNESS}
    keys = sorted((row.key, row.state, row.response_status) for row in rows if row.scope != WITNESS)
    return witnesses, keys


async def test_run_once_runs_once_then_replays_the_first_answer(
    app: Any, session: AsyncSession
) -> None:
    runs: list[str] = []
    key = idempotency.Key("bulk:org-1", "key-1", "hash-a")

    first = await idempotency.run_once(session, key, _work(session, "first", runs))
    again = await idempotency.run_once(session, key, _work(session, "again", runs))

    assert first == "ran first"
    assert again == idempotency.Replay(201, '{"name": "first"}')
    assert runs == ["first"]
    assert await _committed(app) == ({"first"}, [("key-1", "done", 201)])
    # The key is unique within its scope only.
    elsewhere = idempotency.Key("bulk:org-2", "key-1", "hash-b")
    assert await idempotency.run_once(session, elsewhere, _work(session, "b", runs)) == "ran b"


async def test_run_once_refuses_the_key_with_another_request(
    app: Any, session: AsyncSession
) -> None:
    runs: list[str] = []
    first = idempotency.Key("s", "k", "hash-a")
    await idempotency.run_once(session, first, _work(session, "a", runs))

    other = idempotency.Key("s", "k", "hash-b")
    with pytest.raises(Unprocessable) as refused:
        await idempotency.run_once(session, other, _work(session, "b", runs))

    assert refused.value.status == 422
    assert runs == ["a"]
    assert await _committed(app) == ({"a"}, [("k", "done", 201)])


async def test_run_once_answers_409_while_the_first_runs_and_leaves_its_claim(
    app: Any, session: AsyncSession
) -> None:
    runs: list[str] = []
    # Another request claimed the key and has not answered yet.
    assert await idempotency.claim(session, "s", "k", "hash-a") is None

    twin, other = idempotency.Key("s", "k", "hash-a"), idempotency.Key("s", "k", "hash-b")
    with pytest.raises(Conflict) as running:
        await idempotency.run_once(session, twin, _work(session, "twin", runs))
    with pytest.raises(Unprocessable):
        await idempotency.run_once(session, other, _work(session, "other", runs))

    assert running.value.status == 409
    assert running.value.headers == {"Retry-After": "1"}
    assert runs == []
    # Neither refusal released the first request's claim: it will record its answer.
    assert await _committed(app) == (set(), [("k", "in_progress", None)])


async def test_run_once_releases_the_key_when_the_work_fails(
    app: Any, session: AsyncSession
) -> None:
    async def failing(commit: idempotency.Commit) -> str:
        session.add(_witness("lost"))
        await session.flush()
        raise RuntimeError("the storage went away")

    with pytest.raises(RuntimeError, match="went away"):
        await idempotency.run_once(session, idempotency.Key("s", "k", "hash-a"), failing)

    # The work's rows are rolled back and the claim is gone: a retry, even another
    # request, runs.
    assert await _committed(app) == (set(), [])
    runs: list[str] = []
    retry = idempotency.Key("s", "k", "hash-b")
    assert await idempotency.run_once(session, retry, _work(session, "retry", runs)) == "ran retry"
    assert await _committed(app) == ({"retry"}, [("k", "done", 201)])


async def test_run_once_keeps_an_answer_committed_before_a_failure(
    app: Any, session: AsyncSession
) -> None:
    key = idempotency.Key("s", "k", "hash-a")
    runs: list[str] = []
    work = _work(session, "done", runs, status=422)

    async def then_fails(commit: idempotency.Commit) -> str:
        await work(commit)
        raise RuntimeError("after the commit")

    with pytest.raises(RuntimeError):
        await idempotency.run_once(session, key, then_fails)

    # What committed stays committed, and so does its answer: a retry replays it.
    assert await _committed(app) == ({"done"}, [("k", "done", 422)])
    replay = await idempotency.run_once(session, key, _work(session, "again", runs))
    assert replay == idempotency.Replay(422, '{"name": "done"}')


async def test_run_once_refuses_work_that_never_commits(app: Any, session: AsyncSession) -> None:
    async def forgetful(commit: idempotency.Commit) -> str:
        session.add(_witness("forgotten"))
        return "forgot"

    with pytest.raises(RuntimeError, match="without calling commit"):
        await idempotency.run_once(session, idempotency.Key("s", "k", "h"), forgetful)
    assert await _committed(app) == (set(), [])


async def test_run_once_without_a_key_just_runs_and_commits(
    app: Any, session: AsyncSession
) -> None:
    runs: list[str] = []
    assert await idempotency.run_once(session, None, _work(session, "a", runs)) == "ran a"
    assert await idempotency.run_once(session, None, _work(session, "b", runs)) == "ran b"
    assert await _committed(app) == ({"a", "b"}, [])
