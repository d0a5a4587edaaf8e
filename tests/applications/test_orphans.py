"""The orphan sweep of `vocation purge`, with a frozen clock: stored documents that no row
points to go once older than the grace period, and not before; recorded ones stay."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.purge import purge
from app.core.config import Settings
from app.core.storage import Storage
from app.core.types import utcnow
from app.main import create_app
from tests.applications.confirming import apply_confirmed
from tests.applications.conftest import World, apply, letter
from tests.applications.crash import Backend, digests, recorded_documents
from tests.s3 import BUCKET, REGION

PARIS = ZoneInfo("Europe/Paris")
GRACE = timedelta(minutes=60)


@pytest.fixture(params=["local", "s3"])
async def backend_app(
    request: pytest.FixtureRequest, settings: Settings, upload_dir: Path
) -> AsyncIterator[tuple[Any, Backend]]:
    if request.param == "local":
        backend = Backend("local", upload_dir)
        application = create_app(settings)
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        backend = Backend("s3", upload_dir, endpoint, f"orphans/{uuid.uuid4().hex}")
        application = create_app(
            settings.model_copy(
                update={
                    "storage_url": f"s3://{BUCKET}/{backend.s3_prefix}",
                    "s3_endpoint_url": endpoint,
                    "s3_access_key_id": "testing",
                    "s3_secret_access_key": SecretStr("testing"),
                    "s3_region": REGION,
                }
            )
        )
    yield application, backend
    await application.state.database.dispose()


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _orphan(storage: Storage, key: str) -> None:
    """What a killed server leaves: an object stored under a document's key, no row."""
    await storage.save(
        key, _one_chunk(b"%PDF-1.4 CV"), content_type="application/pdf", max_bytes=1024
    )


async def test_orphans_go_after_the_grace_period_and_recorded_documents_stay(
    backend_app: tuple[Any, Backend], session: AsyncSession, world: World
) -> None:
    app, backend = backend_app
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        created = await apply(client, world.offer.id, cover_letter=letter())
        assert created.status_code == 202, created.text
    storage = app.state.storage
    orphans = [f"applications/{uuid.uuid4().hex}" for _ in range(2)]
    for key in orphans:
        await _orphan(storage, key)
    if backend.name == "local":
        # A save cut short by the crash.
        part = backend.upload_dir / f"{orphans[0]}.part-0123456789abcdef"
        part.write_bytes(b"%PDF-1.4 half a CV")
        orphans.append(f"{orphans[0]}.part-0123456789abcdef")
    recorded = await recorded_documents(session)
    assert len(recorded) == 2
    assert backend.objects().keys() == recorded.keys() | set(orphans)

    # Younger than the grace period: an upload could still be writing its rows.
    young = await purge(
        session, storage, utcnow() + GRACE - timedelta(minutes=1), PARIS, 24, orphan_grace=GRACE
    )
    assert young.orphaned_documents == 0
    assert backend.objects().keys() == recorded.keys() | set(orphans)

    old = await purge(
        session, storage, utcnow() + GRACE + timedelta(minutes=1), PARIS, 24, orphan_grace=GRACE
    )
    assert old.orphaned_documents == len(orphans)
    assert f"orphaned documents deleted: {len(orphans)}" in old.lines()
    assert digests(backend.objects()) == recorded
    assert await recorded_documents(session) == recorded


async def test_two_purges_at_once_both_finish(
    app: Any, client: httpx.AsyncClient, world: World, upload_dir: Path
) -> None:
    """Two cron jobs on two machines: both delete the same applications and orphans, and
    neither fails on what the other removed first."""
    for number in range(3):
        await apply_confirmed(client, world.offer.id, email=f"c{number}@example.org")
    assert (await apply(client, world.offer.id, email="p@example.org")).status_code == 202
    for _ in range(20):
        await _orphan(app.state.storage, f"applications/{uuid.uuid4().hex}")
    much_later = utcnow() + timedelta(days=3 * 366)  # past every retention date

    async def one_purge() -> Any:
        async with app.state.database.sessions() as own_session:
            return await purge(
                own_session, app.state.storage, much_later, PARIS, 24, orphan_grace=GRACE
            )

    reports = await asyncio.gather(one_purge(), one_purge())
    assert sum(report.applications for report in reports) >= 3
    assert sum(report.unconfirmed_applications for report in reports) >= 1
    assert sum(report.orphaned_documents for report in reports) >= 20
    assert Backend("local", upload_dir).objects() == {}
