"""A partner follows the change feed while recruiters write from several threads: its mirror
ends equal to our open offers, with nothing missing and nothing extra."""

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.api_keys import Role, issue_key
from app.core.config import Settings
from app.core.db import Database, create_engine
from app.main import create_app
from tests.databases import PostgresDatabases, SqliteDatabases
from tests.factories import offer_body
from tests.live_server import serve
from tests.offers.test_changes import mirror

WRITERS = 3
OPERATIONS = 40


async def _keys(url: str) -> list[str]:
    from app.organisations.models import Organisation

    database = Database(create_engine(url))
    try:
        async with database.sessions() as session:
            keys = []
            for index in range(WRITERS):
                organisation = Organisation(
                    slug=f"writer-{index}", name=f"W{index}", kind="collectif"
                )
                session.add(organisation)
                await session.commit()
                _key, secret = await issue_key(session, Role.recruiter, organisation.id)
                keys.append(secret)
            return keys
    finally:
        await database.dispose()


@pytest.fixture
def live(
    databases: SqliteDatabases | PostgresDatabases, tmp_path: Path
) -> Iterator[tuple[str, list[str]]]:
    url = databases.fresh()
    asyncio.run(databases.clean(url))
    keys = asyncio.run(_keys(url))
    settings = Settings(database_url=url, upload_dir=tmp_path, rate_limit_default="")
    with serve(create_app(settings)) as base_url:
        yield base_url, keys


def _send(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """As a well-behaved script does: a busy database (503) is retried after Retry-After."""
    for _ in range(50):
        response = client.request(method, url, **kwargs)
        if response.status_code != 503:
            return response
        time.sleep(float(response.headers.get("retry-after", "0.1")) / 10)
    raise AssertionError("the database stayed busy")


def _writer(base_url: str, key: str, seed: int, errors: list[str]) -> None:
    rng = random.Random(seed)
    mine: list[str] = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for step in range(OPERATIONS):
            action = rng.random()
            if action < 0.5 or not mine:
                response = _send(client, "POST", "/v1/offers", json=offer_body(title=f"T{step}"))
                if response.status_code == 201:
                    mine.append(response.json()["id"])
            elif action < 0.8:
                offer_id = rng.choice(mine)
                response = _send(
                    client, "PATCH", f"/v1/offers/{offer_id}", json={"title": f"Edit {step}"}
                )
            else:
                offer_id = mine.pop(rng.randrange(len(mine)))
                response = _send(client, "DELETE", f"/v1/offers/{offer_id}")
            if response.status_code >= 500 or response.status_code in {400, 401, 403, 422}:
                errors.append(f"{response.status_code} {response.text}")


def _follow(client: httpx.Client, cursor: str | None) -> tuple[list[Any], str | None]:
    items: list[Any] = []
    while True:
        url = "/v1/offers/changes?limit=25" + (f"&cursor={cursor}" if cursor else "")
        page = _send(client, "GET", url).json()
        cursor = page["next_cursor"]
        if not page["items"]:
            return items, cursor
        items += page["items"]


def test_a_mirror_following_the_feed_during_writes_ends_exact(
    live: tuple[str, list[str]],
) -> None:
    base_url, keys = live
    errors: list[str] = []
    writers = [
        threading.Thread(target=_writer, args=(base_url, key, index, errors))
        for index, key in enumerate(keys)
    ]
    kept: dict[str, Any] = {}
    cursor: str | None = None
    with httpx.Client(base_url=base_url, timeout=30) as reader:
        for thread in writers:
            thread.start()
        # The partner polls while the writes go on...
        while any(thread.is_alive() for thread in writers):
            items, cursor = _follow(reader, cursor)
            kept = mirror(items, kept)
        for thread in writers:
            thread.join()
        # ...and comes back once more later.
        items, cursor = _follow(reader, cursor)
        kept = mirror(items, kept)

        source: dict[str, Any] = {}
        url: str | None = "/v1/offers?limit=100"
        while url:
            page = reader.get(url).json()
            source |= {item["id"]: item for item in page["items"]}
            url = (
                f"/v1/offers?limit=100&cursor={page['next_cursor']}"
                if page["next_cursor"]
                else None
            )

    assert errors == []
    assert source, "the writers created nothing"
    missing = source.keys() - kept.keys()
    extra = kept.keys() - source.keys()
    assert (missing, extra) == (set(), set())
    assert {k: v["title"] for k, v in kept.items()} == {k: v["title"] for k, v in source.items()}
