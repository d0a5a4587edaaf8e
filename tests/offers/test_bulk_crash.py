"""The server dies in the middle of an atomic upload: after a restart, the organisation's
offers are exactly as they were, and the same upload then goes through."""

import asyncio
import os
import signal
import sqlite3
import time
from asyncio.subprocess import Process
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers.changes import OfferChange
from app.offers.models import Offer
from tests.applications import crash
from tests.databases import engine_name
from tests.factories import make_key, make_offer, make_organisation


async def start_server(database_url: str, upload_dir: Path) -> tuple[Process, str]:
    env = {
        **os.environ,
        "VOCATION_DATABASE_URL": database_url,
        "VOCATION_UPLOAD_DIR": str(upload_dir),
        "VOCATION_RATE_LIMIT_DEFAULT": "",
    }
    return await crash.start_server(env)


async def writer_is_busy(database_url: str) -> bool:
    """Whether a transaction has written and not yet committed."""
    url = make_url(database_url)
    if engine_name() == "sqlite":
        assert url.database is not None
        probe = sqlite3.connect(url.database, isolation_level=None, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()

    connection = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        busy = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
        )
        return bool(busy)
    finally:
        await connection.close()


def offer_rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "reference": f"NSP-{number:05d}",
            "title": f"Chargé·e de préfiguration {number}",
            "description": "Préfigurer un institut de recherche et de formation. " * 8,
            "contract_type": "cdd",
            "duration_months": 12,
            "salary_min": 3500,
            "salary_max": 3500,
            "salary_period": "month",
        }
        for number in range(1, count + 1)
    ]


async def snapshot(
    session: AsyncSession,
) -> tuple[list[tuple[Any, ...]], int, tuple[int, int]]:
    session.expire_all()
    offers = await session.execute(
        select(Offer.reference, Offer.title, Offer.status, Offer.version).order_by(
            Offer.reference  # type: ignore[arg-type]
        )
    )
    feed = await session.execute(select(OfferChange.seq))
    indexed = await session.execute(text("SELECT count(*) FROM offer_search"))
    queued = await session.execute(text("SELECT count(*) FROM search_queue"))
    await session.commit()
    counts = int(indexed.scalar_one()), int(queued.scalar_one())
    return [tuple(row) for row in offers], len(feed.all()), counts


async def test_killed_in_the_middle_of_an_atomic_upload(
    session: AsyncSession, database_url: str, upload_dir: Path
) -> None:
    organisation = await make_organisation(session, slug="nos-services-publics")
    key = await make_key(session, "recruiter", organisation)
    await make_offer(session, organisation, reference="NSP-00001", title="Avant la panne")
    await make_offer(session, organisation, reference="NSP-00002", status="draft")
    before = await snapshot(session)
    body = offer_rows(10_000)  # the default limit: the whole of it in one request
    headers = {"Authorization": f"Bearer {key}"}

    process, base_url = await start_server(database_url, upload_dir)
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        upload = asyncio.create_task(client.post("/v1/offers/bulk", json=body, headers=headers))
        deadline = time.monotonic() + 60
        while not await writer_is_busy(database_url):
            assert time.monotonic() < deadline, "the upload never started writing"
            assert not upload.done(), f"the upload ended before the kill: {upload.result()}"
            await asyncio.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        outcome = await asyncio.gather(upload, return_exceptions=True)
    await asyncio.wait_for(process.wait(), 10)

    assert isinstance(outcome[0], httpx.TransportError), outcome  # the server died, mute
    assert await snapshot(session) == before

    process, base_url = await start_server(database_url, upload_dir)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
            listed = await client.get("/v1/offers", params={"organisation": "nos-services-publics"})
            assert [item["title"] for item in listed.json()["items"]] == ["Avant la panne"]
            again = await client.post("/v1/offers/bulk", json=body, headers=headers)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["updated"]) == (9998, 2)
