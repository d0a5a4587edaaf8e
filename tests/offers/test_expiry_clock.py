"""The expiry worker's day is Paris's: at 23:30 UTC on 10 March (00:30 on the 11th in
Paris), a deadline of the 10th has passed and one of the 11th has not."""

import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.offers import expiry
from app.offers.changes import OfferChange
from app.offers.models import Offer
from tests.factories import make_offer, make_organisation

PARIS = ZoneInfo("Europe/Paris")


class _Clock(datetime):
    moment = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # 00:30 on the 11th in Paris

    @classmethod
    def now(cls, tz: Any = None) -> "datetime":  # type: ignore[override]
        return cls.moment.astimezone(tz) if tz else cls.moment


async def _status(session: AsyncSession, offer_id: uuid.UUID) -> tuple[str, int, int]:
    session.expire_all()
    offer = await session.get(Offer, offer_id)
    assert offer is not None
    feed = (
        await session.execute(
            select(func.count())
            .select_from(OfferChange)
            .where(col(OfferChange.offer_id) == offer_id)
        )
    ).scalar_one()
    return offer.status, offer.version, feed


async def test_expiry_closes_in_paris_days(
    app: Any, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(expiry, "datetime", _Clock)
    organisation = await make_organisation(session)
    past = await make_offer(session, organisation, deadline=date(2026, 3, 10))
    today = await make_offer(session, organisation, deadline=date(2026, 3, 11))
    past_id, today_id = past.id, today.id
    closed = await expiry.close_expired(app.state.database, PARIS)
    assert closed == 1
    assert (await _status(session, past_id))[:2] == ("closed", 2)
    assert (await _status(session, today_id))[:2] == ("published", 1)
