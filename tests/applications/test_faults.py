"""Failures half-way through an application leave neither a row without its files nor a
file without its row."""

from collections.abc import AsyncIterable, AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Application, ApplicationDocument, ApplicationEvent
from app.core.storage import Storage, StorageError, StoredObject
from tests.applications.conftest import World, apply, letter
from tests.applications.files import pdf
from tests.applications.test_apply import stored_files


class FailingStorage:
    """The real storage, except that the ``fail_on``-th save breaks after a few chunks, as a
    disk or a network would."""

    def __init__(self, real: Storage, fail_on: int, after_chunks: int = 2) -> None:
        self.real = real
        self.fail_on = fail_on
        self.after_chunks = after_chunks
        self.saves = 0

    async def save(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str, max_bytes: int
    ) -> StoredObject:
        self.saves += 1
        if self.saves != self.fail_on:
            return await self.real.save(key, chunks, content_type=content_type, max_bytes=max_bytes)

        async def breaking() -> AsyncIterator[bytes]:
            count = 0
            async for chunk in chunks:
                count += 1
                if count > self.after_chunks:
                    raise StorageError("the disk went away")
                yield chunk

        return await self.real.save(key, breaking(), content_type=content_type, max_bytes=max_bytes)

    def open(self, key: str, chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
        return self.real.open(key, chunk_size)

    async def delete(self, key: str) -> None:
        await self.real.delete(key)

    async def exists(self, key: str) -> bool:
        return await self.real.exists(key)


async def _rows(session: AsyncSession) -> tuple[int, int, int]:
    counts = []
    for model in (Application, ApplicationDocument, ApplicationEvent):
        counts.append(
            int((await session.execute(select(func.count()).select_from(model))).scalar_one())
        )
    return counts[0], counts[1], counts[2]


@pytest.mark.parametrize("fail_on", [1, 2], ids=["cv", "cover-letter"])
async def test_storage_failing_mid_upload_leaves_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    upload_dir: Path,
    app: Any,
    fail_on: int,
) -> None:
    app.state.storage = FailingStorage(app.state.storage, fail_on=fail_on)
    response = await apply(
        client,
        world.offer.id,
        cv=("cv.pdf", pdf(400_000), "application/pdf"),
        cover_letter=("lettre.pdf", pdf(400_000), "application/pdf"),
    )
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.headers["content-type"] == "application/problem+json"
    assert await _rows(session) == (0, 0, 0)
    assert stored_files(upload_dir) == []


@pytest.fixture
def failing_event_insert(app: Any) -> Iterator[None]:
    """The database refuses the last write of an application, after its files are stored."""
    engine = app.state.database.engine.sync_engine

    def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The confirmation e-mail, queued last.
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX_MESSAGE"):
            raise RuntimeError("the database went away")

    event.listen(engine, "before_cursor_execute", refuse)
    yield
    event.remove(engine, "before_cursor_execute", refuse)


async def test_database_failing_after_the_files_were_stored_leaves_nothing(
    app: Any,
    session: AsyncSession,
    world: World,
    upload_dir: Path,
    failing_event_insert: None,
) -> None:
    # As a real server would: the 500 is answered rather than raised into the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await apply(client, world.offer.id, cover_letter=letter())
    assert response.status_code == 500
    assert "went away" not in response.text
    assert await _rows(session) == (0, 0, 0)
    assert stored_files(upload_dir) == []


async def test_an_idempotent_retry_after_a_failure_succeeds(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path, app: Any
) -> None:
    real = app.state.storage
    app.state.storage = FailingStorage(real, fail_on=1)
    key = {"Idempotency-Key": "retry-after-failure"}
    cv = ("cv.pdf", pdf(400_000), "application/pdf")
    assert (await apply(client, world.offer.id, cv=cv, headers=key)).status_code == 503
    app.state.storage = real
    retried = await apply(client, world.offer.id, cv=cv, headers=key)
    assert retried.status_code == 202
    assert await _rows(session) == (1, 1, 0)
    assert len(stored_files(upload_dir)) == 1
