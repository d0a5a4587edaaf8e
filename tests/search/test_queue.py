"""Bulk uploads are indexed after their commit, from a queue kept in the database: nothing
queued is lost to a crash or a failure, and the index ends up as the offers are."""

import asyncio
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers.models import Offer
from app.organisations.models import Organisation
from app.search import index as search_index
from app.search import queue as search_queue
from app.search.queue import SearchQueue, SearchWorker
from tests.factories import bearer, make_key, make_organisation

BULK = "/v1/offers/bulk"


def rows(count: int, title: str = "Chargé·e de plaidoyer") -> list[dict[str, Any]]:
    return [
        {
            "reference": f"PLAID-{number}",
            "title": f"{title} {number}",
            "description": "Porter les propositions des associations auprès des élus.",
            "contract_type": "cdi",
            "city": "Paris",
            "departement": "75",
        }
        for number in range(1, count + 1)
    ]


@pytest.fixture
async def organisation(session: AsyncSession) -> Organisation:
    return await make_organisation(session, slug="reseau-plaidoyer", name="Réseau Plaidoyer")


@pytest.fixture
async def key(session: AsyncSession, organisation: Organisation) -> str:
    return await make_key(session, "recruiter", organisation)


@pytest.fixture
def asleep(app: Any, monkeypatch: pytest.MonkeyPatch) -> SearchWorker:
    """The app's worker, never woken: what a crash right after the commit leaves."""
    worker: SearchWorker = app.state.search_worker
    monkeypatch.setattr(worker, "wake", lambda: None)
    return worker


async def upload(client: httpx.AsyncClient, key: str, body: list[dict[str, Any]]) -> None:
    response = await client.post(BULK, json=body, headers=bearer(key))
    assert response.status_code == 200, response.text
    assert response.json()["written"]


async def found(client: httpx.AsyncClient, q: str) -> list[str]:
    response = await client.get("/v1/offers", params={"q": q, "limit": 100})
    assert response.status_code == 200
    return sorted(item["reference"] for item in response.json()["items"])


async def queued(session: AsyncSession) -> int:
    count = await session.execute(select(func.count()).select_from(SearchQueue))
    await session.commit()
    return int(count.scalar_one())


async def indexed(session: AsyncSession) -> int:
    count = await session.execute(text("SELECT count(*) FROM offer_search"))
    await session.commit()
    return int(count.scalar_one())


async def test_an_upload_is_found_once_its_queue_is_worked_through(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, key: str, asleep: SearchWorker
) -> None:
    await upload(client, key, rows(3))

    # Written and listed at once; queued, not yet searchable.
    listed = await client.get("/v1/offers", params={"organisation": "reseau-plaidoyer"})
    assert len(listed.json()["items"]) == 3
    assert await queued(session) == 3
    assert await found(client, "plaidoyer") == []

    assert await search_queue.drain(app.state.database) == 3

    assert await found(client, "plaidoyer") == ["PLAID-1", "PLAID-2", "PLAID-3"]
    assert (await queued(session), await indexed(session)) == (0, 3)


async def test_the_worker_is_woken_by_the_upload(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, key: str
) -> None:
    await upload(client, key, rows(2))
    await app.state.search_worker.idle()

    assert await found(client, "plaidoyer") == ["PLAID-1", "PLAID-2"]
    assert await queued(session) == 0


async def test_what_a_crash_left_queued_is_indexed_at_start_up(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, key: str, asleep: SearchWorker
) -> None:
    await upload(client, key, rows(501))  # more than one of the worker's batches
    assert await queued(session) == 501

    restarted = SearchWorker(app.state.database, poll_seconds=0)
    restarted.start()
    await restarted.stop()

    assert (await queued(session), await indexed(session)) == (0, 501)
    assert len(await found(client, "plaidoyer")) == 100  # a full page


async def test_polling_finds_what_another_process_queued(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, key: str, asleep: SearchWorker
) -> None:
    await upload(client, key, rows(2))
    worker = SearchWorker(app.state.database, poll_seconds=0.05)
    worker.start()
    try:
        for _ in range(100):
            if not await queued(session):
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    assert await found(client, "plaidoyer") == ["PLAID-1", "PLAID-2"]


async def test_a_failed_run_keeps_the_queue_for_the_next(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    key: str,
    asleep: SearchWorker,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await upload(client, key, rows(2))
    real_sync = search_index.sync

    async def broken(*_args: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(search_index, "sync", broken)
    worker = SearchWorker(app.state.database, poll_seconds=0)
    with caplog.at_level(logging.ERROR, logger="vocation.search"):
        worker.wake()
        await worker.idle()
    assert "indexing queued offers failed" in caplog.text
    assert "Porter les propositions" not in caplog.text  # no offer's text in the logs
    assert (await queued(session), await indexed(session)) == (2, 0)

    monkeypatch.setattr(search_index, "sync", real_sync)
    worker.wake()
    await worker.idle()
    assert (await queued(session), await indexed(session)) == (0, 2)


async def test_an_offer_changed_while_being_indexed_is_indexed_as_changed(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, key: str, asleep: SearchWorker
) -> None:
    """A writer holds an offer (changed, queued again, not committed) while the worker
    runs: the worker waits for it, and the index ends with the offer as committed."""
    await upload(client, key, rows(1, title="Animateur·ice de réseau"))
    database = app.state.database
    async with database.sessions() as writer:
        offer = (
            await writer.execute(select(Offer).where(Offer.reference == "PLAID-1"))
        ).scalar_one()
        offer.title = "Coordinateur·ice des bénévoles"
        offer.version += 1
        await writer.flush()  # the row is now held by the writer (its write lock on SQLite)
        await search_queue.enqueue(writer, [offer.id])
        draining = asyncio.create_task(search_queue.drain(database))
        await asyncio.sleep(0.3)
        assert not draining.done()  # waiting for the writer
        await writer.commit()
    await draining
    await search_queue.drain(database)

    assert await found(client, "coordinatrice bénévoles") == ["PLAID-1"]
    assert await found(client, "animatrice réseau") == []
    assert await queued(session) == 0


async def test_sync_takes_closed_offers_out_of_the_index(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, key: str
) -> None:
    await upload(client, key, rows(3))
    await app.state.search_worker.idle()

    response = await client.post(BULK, json=rows(1), headers=bearer(key), params={"sync": "true"})
    assert response.json()["closed"] == 2
    await app.state.search_worker.idle()

    assert await found(client, "plaidoyer") == ["PLAID-1"]
    assert (await queued(session), await indexed(session)) == (0, 1)
