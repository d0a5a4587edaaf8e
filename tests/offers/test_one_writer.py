"""Every way of writing an offer keeps the same history: POST, PATCH, DELETE, PUT, bulk
rows, sync closes and deadline expiry all go through app.offers.writer.

The invariants, checked on each path:
- the version goes up by one per change, and not at all for a no-op;
- each public change writes exactly one change-feed entry;
- `published_at` is set once, on publishing, and never on a draft that is closed;
- a draft closed without ever being published appears neither in the feed nor in public
  reads.
"""

import ast
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

import app as app_package
from app.offers.changes import OfferChange
from app.offers.models import Offer
from app.organisations.models import Organisation
from tests.factories import bearer, make_key, make_organisation, offer_body, paris_today


@dataclass(frozen=True)
class State:
    status: str
    version: int
    published_at: datetime | None
    closed_at: datetime | None
    feed: tuple[str, ...]


async def state(session: AsyncSession, offer_id: str) -> State:
    session.expire_all()
    offer = await session.get(Offer, uuid.UUID(offer_id))
    assert offer is not None
    feed = (
        await session.execute(
            select(col(OfferChange.change))
            .where(col(OfferChange.offer_id) == offer.id)
            .order_by(col(OfferChange.seq))
        )
    ).scalars()
    return State(offer.status, offer.version, offer.published_at, offer.closed_at, tuple(feed))


@pytest.fixture
async def labo(session: AsyncSession) -> Organisation:
    return await make_organisation(session, slug="le-labo-de-l-ess", name="Le Labo de l'ESS")


@pytest.fixture
async def key(session: AsyncSession, labo: Organisation) -> dict[str, str]:
    return bearer(await make_key(session, "recruiter", labo))


Step = Callable[[], Awaitable[httpx.Response]]


async def expect(
    session: AsyncSession,
    offer_id: str,
    step: Step,
    *,
    bumps: int,
    entry: str | None,
) -> State:
    """Run ``step`` and check what it did to the offer: ``bumps`` versions more, and
    ``entry`` (or nothing) appended to its feed."""
    before = await state(session, offer_id)
    response = await step()
    assert response.status_code < 300, response.text
    after = await state(session, offer_id)
    assert after.version == before.version + bumps
    assert after.feed == before.feed + ((entry,) if entry else ())
    if before.published_at is not None:
        assert after.published_at == before.published_at, "published_at is set once"
    if after.status == "draft" or (after.status == "closed" and before.published_at is None):
        assert after.published_at is None, "published_at on a never-published offer"
    if after.status == "closed":
        assert after.closed_at is not None
    return after


async def assert_never_public(
    client: httpx.AsyncClient, offer_id: str, session: AsyncSession
) -> None:
    assert (await state(session, offer_id)).feed == ()
    assert (await client.get(f"/v1/offers/{offer_id}")).status_code == 404
    listed = (await client.get("/v1/offers", params={"limit": 100})).json()["items"]
    assert offer_id not in {item["id"] for item in listed}
    feed = (await client.get("/v1/offers/changes", params={"limit": 100})).json()["items"]
    assert offer_id not in {item["offer_id"] for item in feed}
    rss = (await client.get("/v1/feeds/offers.rss")).text
    assert offer_id not in rss


# POST, PATCH, DELETE --------------------------------------------------------------------


async def test_post_patch_delete_keep_the_invariants(
    client: httpx.AsyncClient, session: AsyncSession, key: dict[str, str]
) -> None:
    created = await client.post("/v1/offers", json=offer_body(status="draft"), headers=key)
    offer_id = created.json()["id"]
    assert await state(session, offer_id) == State("draft", 1, None, None, ())

    def patch(**fields: Any) -> Step:
        return lambda: client.patch(f"/v1/offers/{offer_id}", json=fields, headers=key)

    await expect(session, offer_id, patch(title="Chargé·e de mission"), bumps=1, entry=None)
    await expect(session, offer_id, patch(title="Chargé·e de mission"), bumps=0, entry=None)
    published = await expect(session, offer_id, patch(status="published"), bumps=1, entry="created")
    assert published.published_at is not None
    await expect(
        session, offer_id, patch(city="Rennes", departement="35"), bumps=1, entry="updated"
    )
    await expect(session, offer_id, patch(city="Rennes"), bumps=0, entry=None)
    await expect(session, offer_id, patch(), bumps=0, entry=None)

    def delete() -> Awaitable[httpx.Response]:
        return client.delete(f"/v1/offers/{offer_id}", headers=key)

    await expect(session, offer_id, delete, bumps=1, entry="closed")
    await expect(session, offer_id, delete, bumps=0, entry=None)


async def test_post_published_writes_one_created_entry(
    client: httpx.AsyncClient, session: AsyncSession, key: dict[str, str]
) -> None:
    offer_id = (await client.post("/v1/offers", json=offer_body(), headers=key)).json()["id"]
    created = await state(session, offer_id)
    assert (created.version, created.feed) == (1, ("created",))
    assert created.published_at is not None


@pytest.mark.parametrize("how", ["patch", "delete"])
async def test_a_draft_closed_by_patch_or_delete_never_becomes_public(
    client: httpx.AsyncClient, session: AsyncSession, key: dict[str, str], how: str
) -> None:
    created = await client.post("/v1/offers", json=offer_body(status="draft"), headers=key)
    offer_id = created.json()["id"]
    url = f"/v1/offers/{offer_id}"

    def close() -> Awaitable[httpx.Response]:
        if how == "patch":
            return client.patch(url, json={"status": "closed"}, headers=key)
        return client.delete(url, headers=key)

    closed = await expect(session, offer_id, close, bumps=1, entry=None)
    assert (closed.status, closed.published_at) == ("closed", None)
    await assert_never_public(client, offer_id, session)
    # Its organisation still reads it.
    assert (await client.get(url, headers=key)).json()["status"] == "closed"


# PUT --------------------------------------------------------------------------------------


async def test_put_keeps_the_invariants(
    client: httpx.AsyncClient, session: AsyncSession, key: dict[str, str]
) -> None:
    url = "/v1/organisations/le-labo-de-l-ess/offers/LABO-1"
    body = offer_body(reference=None, status="draft")

    def put(**changes: Any) -> Step:
        return lambda: client.put(url, json={**body, **changes}, headers=key)

    offer_id = (await put()()).json()["id"]
    assert await state(session, offer_id) == State("draft", 1, None, None, ())
    await expect(session, offer_id, put(), bumps=0, entry=None)
    await expect(session, offer_id, put(status="published"), bumps=1, entry="created")
    await expect(session, offer_id, put(status="published"), bumps=0, entry=None)
    await expect(
        session, offer_id, put(status="published", title="Autre"), bumps=1, entry="updated"
    )
    await expect(session, offer_id, put(status="closed", title="Autre"), bumps=1, entry="closed")
    await expect(session, offer_id, put(status="closed", title="Autre"), bumps=0, entry=None)


async def test_a_draft_closed_by_put_never_becomes_public(
    client: httpx.AsyncClient, session: AsyncSession, key: dict[str, str]
) -> None:
    url = "/v1/organisations/le-labo-de-l-ess/offers/LABO-2"
    body = offer_body(reference=None, status="draft")
    offer_id = (await client.put(url, json=body, headers=key)).json()["id"]

    def close() -> Awaitable[httpx.Response]:
        return client.put(url, json={**body, "status": "closed"}, headers=key)

    closed = await expect(session, offer_id, close, bumps=1, entry=None)
    assert (closed.status, closed.published_at) == ("closed", None)
    await assert_never_public(client, offer_id, session)


# Bulk and sync ------------------------------------------------------------------------------


def rows(*references: str, **changes: Any) -> list[dict[str, Any]]:
    return [offer_body(reference=reference, **changes) for reference in references]


async def upload(
    client: httpx.AsyncClient, key: dict[str, str], body: list[dict[str, Any]], **params: Any
) -> httpx.Response:
    return await client.post(
        "/v1/offers/bulk",
        content=json.dumps(body).encode(),
        params={name: str(value).lower() for name, value in params.items()},
        headers={**key, "Content-Type": "application/json"},
    )


async def id_of(session: AsyncSession, reference: str) -> str:
    found = await session.execute(select(col(Offer.id)).where(col(Offer.reference) == reference))
    return str(found.scalar_one())


async def test_bulk_rows_keep_the_invariants(
    client: httpx.AsyncClient, session: AsyncSession, key: dict[str, str]
) -> None:
    first = await upload(client, key, rows("B-1", "B-2", status="draft"))
    assert first.json()["created"] == 2
    one, two = await id_of(session, "B-1"), await id_of(session, "B-2")
    assert await state(session, one) == State("draft", 1, None, None, ())

    def send(body: list[dict[str, Any]]) -> Step:
        return lambda: upload(client, key, body)

    await expect(session, one, send(rows("B-1", "B-2", status="draft")), bumps=0, entry=None)
    published = rows("B-1", "B-2")
    await expect(session, one, send(published), bumps=1, entry="created")
    assert (await state(session, two)).feed == ("created",)
    await expect(session, one, send(published), bumps=0, entry=None)
    changed = [{**published[0], "title": "Nouveau titre"}, published[1]]
    await expect(session, one, send(changed), bumps=1, entry="updated")
    assert (await state(session, two)).version == 2, "the unchanged row is not rewritten"
    closing = [{**changed[0], "status": "closed"}, published[1]]
    await expect(session, one, send(closing), bumps=1, entry="closed")


async def test_a_bulk_row_closing_a_draft_never_makes_it_public(
    client: httpx.AsyncClient, session: AsyncSession, key: dict[str, str]
) -> None:
    await upload(client, key, rows("D-1", status="draft"))
    offer_id = await id_of(session, "D-1")

    def close() -> Awaitable[httpx.Response]:
        return upload(client, key, rows("D-1", status="closed"))

    closed = await expect(session, offer_id, close, bumps=1, entry=None)
    assert (closed.status, closed.published_at) == ("closed", None)
    await assert_never_public(client, offer_id, session)
    # Created closed straight away: never published either.
    await upload(client, key, rows("D-2", status="closed"))
    born_closed = await id_of(session, "D-2")
    assert await state(session, born_closed) == State(
        "closed", 1, None, (await state(session, born_closed)).closed_at, ()
    )
    await assert_never_public(client, born_closed, session)


async def test_sync_closes_with_one_entry_and_one_version(
    client: httpx.AsyncClient, session: AsyncSession, key: dict[str, str]
) -> None:
    await upload(client, key, rows("S-1", "S-2"))
    kept, dropped = await id_of(session, "S-1"), await id_of(session, "S-2")

    def sync() -> Awaitable[httpx.Response]:
        return upload(client, key, rows("S-1"), sync=True)

    await expect(session, dropped, sync, bumps=1, entry="closed")
    assert await state(session, kept) == State(
        "published", 1, (await state(session, kept)).published_at, None, ("created",)
    )
    await expect(session, dropped, sync, bumps=0, entry=None)


# Expiry -----------------------------------------------------------------------------------


async def test_expiry_closes_with_one_entry_and_one_version(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, key: dict[str, str]
) -> None:
    body = offer_body(deadline=(paris_today() + timedelta(days=2)).isoformat())
    offer_id = (await client.post("/v1/offers", json=body, headers=key)).json()["id"]
    # The deadline passes (moved in the database, as a clock would).
    await session.execute(
        update(Offer)
        .where(col(Offer.id) == uuid.UUID(offer_id))
        .values(deadline=paris_today() - timedelta(days=1))
    )
    await session.commit()

    async def run_worker() -> httpx.Response:
        app.state.expiry_worker.wake()
        await app.state.expiry_worker.idle()
        return httpx.Response(200)

    closed = await expect(session, offer_id, run_worker, bumps=1, entry="closed")
    assert closed.status == "closed"
    await expect(session, offer_id, run_worker, bumps=0, entry=None)


# Nobody else writes offers -----------------------------------------------------------------

WRITER = Path(app_package.__file__).parent / "offers" / "writer.py"
# What updates offers, inserts them, or appends to the feed.
_OFFER_NAMES = {"offers", "Offer", "_offers", "_changes", "OfferChange"}
_WRITING_CALLS = {"update", "insert", "insert_rows", "record_many", "versioned_update"}


def _writes_offers(call: ast.Call) -> bool:
    function = call.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
    if name not in _WRITING_CALLS:
        return False
    if name == "record_many":
        return True
    receivers = [function.value] if isinstance(function, ast.Attribute) else []
    names = {
        node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        for part in [*receivers, *call.args]
        for node in ast.walk(part)
    }
    return bool(names & _OFFER_NAMES)


def test_no_code_but_the_writer_writes_offers_or_their_feed() -> None:
    package = Path(app_package.__file__).parent
    allowed = {WRITER, package / "offers" / "changes.py"}  # changes.py defines record_many
    found = []
    for path in sorted(package.rglob("*.py")):
        if path in allowed:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _writes_offers(node):
                found.append(f"{path.relative_to(package)}:{node.lineno}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.upper()
                if "UPDATE OFFER " in text or "INSERT INTO OFFER " in text:
                    found.append(f"{path.relative_to(package)}:{node.lineno}")
    assert found == []
