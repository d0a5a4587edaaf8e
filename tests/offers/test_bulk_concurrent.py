"""Uploads at the same time, through a real server: nothing lost, nothing mixed, and a
busy SQLite answers a retryable 503, never a 500."""

import sqlite3
import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.offers.changes import OfferChange
from app.offers.models import Offer
from app.organisations.models import Organisation
from tests.databases import engine_name
from tests.factories import make_key, make_organisation
from tests.live_server import serve


def rows(prefix: str, numbers: range) -> list[dict[str, Any]]:
    return [
        {
            "reference": f"{prefix}-{number:04d}",
            "title": f"Médiateur·rice numérique {prefix} {number}",
            "description": "Accompagner les habitants dans leurs démarches en ligne.",
            "contract_type": "cdd",
            "duration_months": 12,
            "departement": "35",
        }
        for number in numbers
    ]


def upload_until_done(base_url: str, key: str, body: list[dict[str, Any]]) -> list[int]:
    """What a script does: send, and on a retryable answer wait as told and send again."""
    statuses = []
    with httpx.Client(base_url=base_url, timeout=120) as client:
        for _ in range(50):
            response = client.post(
                "/v1/offers/bulk", json=body, headers={"Authorization": f"Bearer {key}"}
            )
            statuses.append(response.status_code)
            if response.status_code != 503:
                assert response.status_code == 200, response.text
                assert response.json()["created"] == len(body)
                return statuses
            assert response.headers["Retry-After"].isdigit()
            time.sleep(0.2)
    raise AssertionError(f"never went through: {statuses}")


async def references_of(session: AsyncSession, organisation_id: Any) -> set[str]:
    result = await session.execute(
        select(Offer.reference).where(Offer.organisation_id == organisation_id)  # type: ignore[arg-type]
    )
    return {str(reference) for reference in result.scalars()}


async def test_three_recruiters_upload_at_once(settings: Settings, session: AsyncSession) -> None:
    first = await make_organisation(session, slug="collectif-a")
    second = await make_organisation(session, slug="association-b")
    first_id, second_id = first.id, second.id
    keys = [
        await make_key(session, "recruiter", first),
        await make_key(session, "recruiter", second),
        await make_key(session, "recruiter", first),
    ]
    uploads = [
        (keys[0], rows("A", range(1, 601))),
        (keys[1], rows("B", range(1, 601))),
        (keys[2], rows("A", range(601, 1201))),
    ]
    # A short busy timeout makes SQLite's writers collide, as they would under load.
    busy = settings.model_copy(update={"sqlite_busy_timeout_ms": 100})
    statuses: list[list[int]] = [[] for _ in uploads]

    with serve(create_app(busy)) as base_url:
        threads = [
            threading.Thread(
                target=lambda i=i, key=key, body=body: statuses[i].extend(
                    upload_until_done(base_url, key, body)
                )
            )
            for i, (key, body) in enumerate(uploads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

    assert all(status_list and status_list[-1] == 200 for status_list in statuses), statuses
    assert {status for status_list in statuses for status in status_list} <= {200, 503}
    session.expire_all()
    assert await references_of(session, first_id) == {f"A-{n:04d}" for n in range(1, 1201)}
    assert await references_of(session, second_id) == {f"B-{n:04d}" for n in range(1, 601)}
    feed = await session.execute(select(func.count()).select_from(OfferChange))
    assert feed.scalar_one() == 1800


@pytest.mark.skipif(engine_name() != "sqlite", reason="SQLite's single writer")
async def test_a_busy_sqlite_answers_503_with_retry_after_then_accepts(
    settings: Settings, session: AsyncSession, database_url: str
) -> None:
    organisation: Organisation = await make_organisation(session)
    key = await make_key(session, "recruiter", organisation)
    busy = settings.model_copy(update={"sqlite_busy_timeout_ms": 100})
    path = make_url(database_url).database
    assert path is not None
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    body = rows("C", range(1, 11))

    headers = {"Authorization": f"Bearer {key}"}
    with serve(create_app(busy)) as base_url:
        async with httpx.AsyncClient(base_url=base_url) as client:
            holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
            refused = await client.post("/v1/offers/bulk", json=body, headers=headers)
            holder.execute("ROLLBACK")
            accepted = await client.post("/v1/offers/bulk", json=body, headers=headers)
    holder.close()

    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"].isdigit()
    assert accepted.status_code == 200
    assert accepted.json()["created"] == 10
