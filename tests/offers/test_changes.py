"""The change feed: what a partner's mirror sees, alone and under concurrent writes."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.offers import changes
from app.offers.changes import Change, ChangeLog, OfferChange
from app.offers.models import Offer
from tests.factories import (
    bearer,
    make_key,
    make_offer,
    make_organisation,
    offer_body,
    paris_today,
)


async def follow(client: httpx.AsyncClient, cursor: str | None = None) -> tuple[list[Any], str]:
    """Read the feed from ``cursor`` until a page comes back empty."""
    items: list[Any] = []
    while True:
        url = "/v1/offers/changes?limit=7" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["next_cursor"]
        cursor = page["next_cursor"]
        if not page["items"]:
            return items, cursor
        items += page["items"]


def mirror(items: list[Any], into: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a partner keeps: each offer's latest state, without the closed ones."""
    kept = dict(into or {})
    for item in items:
        if item["change"] in {"closed", "deleted"}:
            kept.pop(item["offer_id"], None)
        else:
            kept[item["offer_id"]] = item["offer"]
    return kept


async def open_offers(client: httpx.AsyncClient) -> dict[str, Any]:
    offers: dict[str, Any] = {}
    url: str | None = "/v1/offers?limit=100"
    while url:
        page = (await client.get(url)).json()
        offers |= {item["id"]: item for item in page["items"]}
        url = f"/v1/offers?limit=100&cursor={page['next_cursor']}" if page["next_cursor"] else None
    return offers


async def test_the_feed_tells_each_change_of_published_offers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    key = bearer(await make_key(session, "recruiter", organisation))
    published = (await client.post("/v1/offers", json=offer_body(), headers=key)).json()
    draft = (await client.post("/v1/offers", json=offer_body(status="draft"), headers=key)).json()
    await client.patch(f"/v1/offers/{draft['id']}", json={"title": "Brouillon"}, headers=key)
    items, cursor = await follow(client)
    assert [(i["offer_id"], i["change"]) for i in items] == [(published["id"], "created")]

    await client.patch(f"/v1/offers/{published['id']}", json={"title": "Nouveau"}, headers=key)
    await client.patch(f"/v1/offers/{draft['id']}", json={"status": "published"}, headers=key)
    await client.delete(f"/v1/offers/{published['id']}", headers=key)
    later, cursor = await follow(client, cursor)
    assert [(i["offer_id"], i["change"]) for i in later] == [
        (published["id"], "updated"),
        (draft["id"], "created"),
        (published["id"], "closed"),
    ]
    # Each item carries the offer as it is now.
    assert later[0]["offer"]["status"] == "closed"
    assert later[1]["offer"]["title"] == "Brouillon"
    assert mirror(items + later).keys() == (await open_offers(client)).keys()

    nothing, same = await follow(client, cursor)
    assert nothing == []
    assert same == cursor


async def test_an_expired_offer_is_closed_in_the_feed(
    app: Any, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    key = bearer(await make_key(session, "recruiter", organisation))
    offer = (
        await client.post(
            "/v1/offers",
            json=offer_body(deadline=(paris_today() + timedelta(days=3)).isoformat()),
            headers=key,
        )
    ).json()
    items, cursor = await follow(client)
    assert len(mirror(items)) == 1
    # Time passes: the deadline is now behind us (moved in the database, as a clock would).
    await session.execute(
        update(Offer)
        .where(col(Offer.id) == uuid.UUID(offer["id"]))
        .values(deadline=paris_today() - timedelta(days=1))
    )
    await session.commit()
    # Reading writes nothing: until the expiry worker runs, the offer reads as closed but
    # the feed has no entry for it yet.
    before, same = await follow(client, cursor)
    assert (before, same) == ([], cursor)
    detail = (await client.get(f"/v1/offers/{offer['id']}")).json()
    assert detail["status"] == "closed"

    app.state.expiry_worker.wake()
    await app.state.expiry_worker.idle()
    later, _ = await follow(client, cursor)
    assert [(i["offer_id"], i["change"]) for i in later] == [(offer["id"], "closed")]
    assert mirror(items + later) == {}
    closed = (await client.get(f"/v1/offers/{offer['id']}")).json()
    assert (closed["status"], closed["closed_at"] is not None) == ("closed", True)


async def test_a_forged_cursor_is_422(client: httpx.AsyncClient) -> None:
    for cursor in ["x", "WyJhIl0", "WyItMSJd"]:
        response = await client.get(f"/v1/offers/changes?cursor={cursor}")
        assert response.status_code == 422, cursor


async def test_changes_are_numbered_in_commit_order(app: Any, session: AsyncSession) -> None:
    """A writer that appended a change but has not committed yet holds back the next
    writer; otherwise a reader could see number N+1, move past it, and never see N."""
    organisation = await make_organisation(session)
    first_offer = await make_offer(session, organisation, status="draft", published_at=None)
    second_offer = await make_offer(session, organisation, status="draft", published_at=None)
    sessions = app.state.database.sessions
    async with sessions() as first, sessions() as second:
        await changes.record_many(first, [(first_offer.id, changes.Change.created)])

        async def append_and_commit() -> None:
            await changes.record_many(second, [(second_offer.id, changes.Change.created)])
            await second.commit()

        racing = asyncio.create_task(append_and_commit())
        await asyncio.sleep(0.5)
        assert not racing.done(), "the second writer appended before the first committed"
        await first.commit()
        await asyncio.wait_for(racing, timeout=10)
    rows = (
        (await session.execute(select(OfferChange.offer_id).order_by(col(OfferChange.seq))))
        .scalars()
        .all()
    )
    assert rows == [first_offer.id, second_offer.id]


def test_a_change_log_gives_back_its_entries_in_order() -> None:
    first, second, third = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    log = ChangeLog()
    log.extend([(first, Change.created), (second, None)])
    log.extend([(third, Change.closed), (first, Change.updated)])

    assert len(log) == 3  # a draft's write (None) is nobody's business
    assert list(log) == [(first, Change.created), (third, Change.closed), (first, Change.updated)]
