"""Retention and `vocation purge`, with a frozen clock."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications.models import Application, ApplicationDocument, ApplicationEvent
from app.applications.purge import purge
from app.applications.retention import add_months, retention_until
from app.offers.models import Offer
from tests.applications.confirming import apply_confirmed
from tests.applications.conftest import World, letter
from tests.applications.test_apply import stored_files
from tests.factories import bearer

PARIS = ZoneInfo("Europe/Paris")
GRACE = timedelta(minutes=60)


def test_months_are_counted_on_the_paris_calendar() -> None:
    common: dict[str, Any] = {
        "keep_for_future_offers": False,
        "last_candidate_action_at": datetime(2026, 1, 5, tzinfo=UTC),
        "offer_status": "published",
        "offer_closed_at": None,
        "zone": PARIS,
    }
    # The deadline day 28 February ends at midnight in Paris; three months later is the
    # end of 28 May in Paris (summer time), not an hour into 29 May.
    feb = retention_until(offer_deadline=date(2026, 2, 28), **common)
    assert feb.astimezone(PARIS) == datetime(2026, 6, 1, 0, 0, tzinfo=PARIS)
    sept = retention_until(offer_deadline=date(2026, 9, 30), **common)
    assert sept.astimezone(PARIS) == datetime(2027, 1, 1, 0, 0, tzinfo=PARIS)


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 1, 15, tzinfo=UTC), 24) == datetime(2028, 1, 15, tzinfo=UTC)


def test_retention_rules() -> None:
    acted = datetime(2026, 3, 1, 10, tzinfo=UTC)
    common: dict[str, Any] = {"last_candidate_action_at": acted, "zone": PARIS}
    open_offer = retention_until(
        keep_for_future_offers=False,
        offer_status="published",
        offer_closed_at=None,
        offer_deadline=None,
        **common,
    )
    # An offer that stays open with no deadline: capped at two years after the last action.
    assert open_offer == datetime(2028, 3, 1, 10, tzinfo=UTC)
    rejected = retention_until(
        keep_for_future_offers=False,
        offer_status="published",
        offer_closed_at=None,
        offer_deadline=None,
        final_status_at=datetime(2026, 5, 2, 8, tzinfo=UTC),
        **common,
    )
    assert rejected == datetime(2026, 8, 2, 8, tzinfo=UTC)
    closed = retention_until(
        keep_for_future_offers=False,
        offer_status="closed",
        offer_closed_at=datetime(2026, 4, 10, 12, tzinfo=UTC),
        offer_deadline=None,
        **common,
    )
    assert closed == datetime(2026, 7, 10, 12, tzinfo=UTC)
    # The deadline day ends at midnight in Paris (22:00 UTC in summer).
    by_deadline = retention_until(
        keep_for_future_offers=False,
        offer_status="published",
        offer_closed_at=None,
        offer_deadline=date(2026, 6, 30),
        **common,
    )
    assert by_deadline == datetime(2026, 9, 30, 22, tzinfo=UTC)
    kept = retention_until(
        keep_for_future_offers=True,
        offer_status="closed",
        offer_closed_at=datetime(2026, 4, 10, tzinfo=UTC),
        offer_deadline=None,
        **common,
    )
    assert kept == datetime(2028, 3, 1, 10, tzinfo=UTC)


async def test_purge_deletes_rows_and_files_past_retention_once(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path, app: Any
) -> None:
    short = await apply_confirmed(
        client, world.offer.id, cover_letter=letter(), email="a@example.org"
    )
    kept = await apply_confirmed(
        client, world.offer.id, email="b@example.org", keep_for_future_offers="true"
    )
    await client.patch(
        f"/v1/applications/{short.json()['id']}",
        json={"status": "rejected", "note": "merci"},
        headers=bearer(world.recruiter),
    )
    closed_at = datetime(2026, 1, 10, 9, tzinfo=UTC)
    await session.execute(
        update(Offer)
        .where(col(Offer.id) == world.offer.id)
        .values(status="closed", closed_at=closed_at)
    )
    await session.commit()
    storage = app.state.storage
    assert len(stored_files(upload_dir)) == 3

    before = await purge(
        session, storage, closed_at + timedelta(days=89), PARIS, 24, orphan_grace=GRACE
    )
    assert before.applications == 0
    assert len(stored_files(upload_dir)) == 3

    detail = await client.get(
        f"/v1/applications/{short.json()['id']}", headers=bearer(world.recruiter)
    )
    # 10:00 in Paris (winter) three months later is 10:00 in Paris (summer): 08:00 UTC.
    assert detail.json()["retention_until"] == "2026-04-10T08:00:00Z"

    after = await purge(
        session, storage, datetime(2026, 4, 10, 8, 1, tzinfo=UTC), PARIS, 24, orphan_grace=GRACE
    )
    assert (after.applications, after.documents) == (1, 2)
    assert len(stored_files(upload_dir)) == 1
    remaining = (await session.execute(select(Application))).scalars().all()
    assert [str(a.id) for a in remaining] == [kept.json()["id"]]
    events = (await session.execute(select(ApplicationEvent))).scalars().all()
    assert {str(e.application_id) for e in events} == {kept.json()["id"]}
    documents = (await session.execute(select(ApplicationDocument))).scalars().all()
    assert {str(d.application_id) for d in documents} == {kept.json()["id"]}

    again = await purge(
        session, storage, datetime(2026, 4, 10, 8, 1, tzinfo=UTC), PARIS, 24, orphan_grace=GRACE
    )
    assert (again.applications, again.documents) == (0, 0)

    much_later = datetime.now(UTC) + timedelta(days=2 * 366)
    last = await purge(session, storage, much_later, PARIS, 24, orphan_grace=GRACE)
    assert last.applications == 1
    assert stored_files(upload_dir) == []
