"""The expiry worker: offers whose last day to apply has ended in Paris are closed once,
with one "closed" entry in the change feed, however many processes run the worker."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.offers.changes import OfferChange
from app.offers.expiry import BATCH_SIZE, close_expired
from app.offers.models import Offer
from tests.factories import make_offer, make_organisation, paris_today

PARIS = ZoneInfo("Europe/Paris")


async def statuses(session: AsyncSession) -> dict[uuid.UUID, tuple[str, int]]:
    session.expire_all()
    rows = await session.execute(select(col(Offer.id), col(Offer.status), col(Offer.version)))
    return {offer_id: (status, version) for offer_id, status, version in rows.all()}


async def feed(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    rows = await session.execute(
        select(col(OfferChange.offer_id), col(OfferChange.change)).order_by(col(OfferChange.seq))
    )
    return [(offer_id, change) for offer_id, change in rows.all()]


async def test_only_offers_past_their_deadline_day_are_closed(
    app: Any, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    today = paris_today()
    past = (await make_offer(session, organisation, deadline=today - timedelta(days=1))).id
    last_day = (await make_offer(session, organisation, deadline=today)).id
    open_ended = (await make_offer(session, organisation, deadline=None)).id
    draft = (
        await make_offer(
            session, organisation, status="draft", published_at=None, deadline=today - timedelta(3)
        )
    ).id
    assert await close_expired(app.state.database, PARIS) == 1
    assert await statuses(session) == {
        past: ("closed", 2),
        last_day: ("published", 1),  # open until midnight in Paris
        open_ended: ("published", 1),
        draft: ("draft", 1),  # never public: nothing to tell partners
    }
    assert await feed(session) == [(past, "closed")]
    assert await close_expired(app.state.database, PARIS) == 0
    assert await feed(session) == [(past, "closed")]


async def test_workers_of_several_processes_close_each_offer_once(
    app: Any, session: AsyncSession
) -> None:
    """Two workers at once (two processes of a deployment) over more than a batch: every
    offer closed once, one feed entry each, however the work was shared."""
    organisation = await make_organisation(session)
    yesterday = paris_today() - timedelta(days=1)
    expired = [
        (await make_offer(session, organisation, deadline=yesterday)).id
        for _ in range(BATCH_SIZE + 20)
    ]
    closed = await asyncio.gather(
        close_expired(app.state.database, PARIS), close_expired(app.state.database, PARIS)
    )
    assert sum(closed) == len(expired)
    assert set((await statuses(session)).values()) == {("closed", 2)}
    entries = await feed(session)
    assert sorted(entries) == sorted((offer_id, "closed") for offer_id in expired)
