"""An upload's offers are queued for the search index in batches, not one statement per
offer: an update or sync-close upload of 10,000 offers must not add 10,000 round trips."""

import json
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.search import queue as search_queue
from tests.factories import bearer, make_key, make_organisation, offer_body


async def test_an_upload_queues_its_updates_and_closes_in_batches(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    organisation = await make_organisation(session, slug="le-labo")
    key = bearer(await make_key(session, "recruiter", organisation))
    headers = {**key, "Content-Type": "application/json"}
    rows = [offer_body(reference=f"U-{number}") for number in range(60)]
    first = await client.post("/v1/offers/bulk", content=json.dumps(rows).encode(), headers=headers)
    assert first.json()["created"] == 60, first.text

    calls: list[int] = []
    enqueue = search_queue.enqueue

    async def counted(db_session: Any, offer_ids: Any) -> None:
        calls.append(len(offer_ids))
        await enqueue(db_session, offer_ids)

    monkeypatch.setattr(search_queue, "enqueue", counted)
    changed = [{**row, "title": "Autre intitulé"} for row in rows[:40]]
    second = await client.post(
        "/v1/offers/bulk",
        content=json.dumps(changed).encode(),
        params={"sync": "true"},
        headers=headers,
    )
    assert (second.json()["updated"], second.json()["closed"]) == (40, 20), second.text
    assert sum(calls) == 60
    assert len(calls) == 1, calls
