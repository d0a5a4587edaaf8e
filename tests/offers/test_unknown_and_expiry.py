"""What an offer does not say stays unknown, and no offer is shown for ever (issue 13).

An offer silent on remote work used to read "no remote work"; an offer without a deadline
stayed open for years. Now such facts read null, filters do not match them, and every
offer has an end, `expires_at`, after which it leaves the list and the feeds and is
recorded closed in the change feed. The clock is frozen with time-machine, which moves
every clock of the process (the app's and the tests'), but not the database's: every
moment the app compares is bound from Python.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.offers import expiry
from app.organisations.models import Organisation
from tests.applications.files import pdf
from tests.factories import bearer, make_key, offer_body

PARIS = ZoneInfo("Europe/Paris")
# A Monday morning in Paris; the offers below are published then.
START = datetime(2027, 3, 1, 9, 0, tzinfo=PARIS)
FEEDS = ("offers.rss", "offers.atom", "offers.xml", "offers.jsonld")


def silent(**changes: Any) -> dict[str, Any]:
    """An offer that says nothing of its working time, remote work, way to apply or end."""
    body = offer_body(**changes)
    for name in ("remote", "apply_via", "apply_url", "deadline", "start_date"):
        body.pop(name, None)
    return body


# Unknown stays unknown ------------------------------------------------------------------


async def test_an_offer_silent_on_remote_work_reads_null_and_no_filter_matches_it(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    created = await client.post("/v1/offers", json=silent(), headers=key)
    assert created.status_code == 201, created.text
    offer = created.json()
    assert (offer["remote"], offer["working_time"], offer["apply_via"]) == (None, None, None)
    said = await client.post("/v1/offers", json=offer_body(remote="none"), headers=key)
    assert said.json()["remote"] == "none"

    def ids(response: httpx.Response) -> set[str]:
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    everything = ids(await client.get("/v1/offers"))
    assert {offer["id"], said.json()["id"]} <= everything
    for mode in ("none", "partial", "full"):
        assert offer["id"] not in ids(await client.get("/v1/offers", params={"remote": mode}))
    assert said.json()["id"] in ids(await client.get("/v1/offers", params={"remote": "none"}))
    facets = await client.get("/v1/offers", params={"facets": "remote"})
    assert facets.json()["facets"]["remote"] == {"none": 1}  # the unknown one is not counted


async def test_a_patch_may_make_a_fact_unknown_again(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    created = (
        await client.post("/v1/offers", json=offer_body(remote="partial"), headers=key)
    ).json()
    patched = await client.patch(f"/v1/offers/{created['id']}", json={"remote": None}, headers=key)
    assert patched.status_code == 200, patched.text
    assert patched.json()["remote"] is None


async def test_an_offer_that_does_not_say_how_to_apply_takes_no_application_here(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    offer = (await client.post("/v1/offers", json=silent(), headers=key)).json()
    response = await client.post(
        f"/v1/offers/{offer['id']}/applications",
        data={
            "first_name": "Camille",
            "last_name": "Martin",
            "email": "camille@example.org",
            "consent": "true",
        },
        files={"cv": ("cv.pdf", pdf(), "application/pdf")},
    )
    assert response.status_code == 422, response.text
    assert "does not say how to apply" in response.json()["detail"]


async def test_syndication_says_nothing_of_unknown_facts(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    offer = (await client.post("/v1/offers", json=silent(), headers=key)).json()
    posting = (
        await client.get(f"/v1/offers/{offer['id']}", headers={"Accept": "application/ld+json"})
    ).json()
    assert not {"FULL_TIME", "PART_TIME"} & set(posting.get("employmentType", []))
    assert "directApply" not in posting
    assert "jobLocationType" not in posting
    xml = (await client.get("/v1/feeds/offers.xml")).text
    assert "<remotetype>" not in xml


# Expiry -----------------------------------------------------------------------------------


async def _listed(client: httpx.AsyncClient) -> set[str]:
    response = await client.get("/v1/offers", params={"limit": 100})
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def _in_feeds(client: httpx.AsyncClient, offer_id: str) -> dict[str, bool]:
    found = {}
    for feed in FEEDS:
        response = await client.get(f"/v1/feeds/{feed}")
        assert response.status_code == 200, response.text
        found[feed] = offer_id in response.text
    return found


async def _changes(client: httpx.AsyncClient, offer_id: str) -> list[str]:
    response = await client.get("/v1/offers/changes", params={"limit": 100})
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    return [item["change"] for item in items if item["offer_id"] == offer_id]


async def test_an_offer_without_a_deadline_leaves_the_list_and_every_feed_after_its_days(
    app: Any, client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        created = await client.post("/v1/offers", json=silent(), headers=key)
        assert created.status_code == 201, created.text
        offer = created.json()
        published = datetime.fromisoformat(offer["published_at"])
        ends = datetime.fromisoformat(offer["expires_at"])
        assert ends == published + timedelta(days=60)  # VOCATION_OFFER_DEFAULT_DAYS
        # One day before its end, it is everywhere.
        clock.move_to(ends - timedelta(days=1))
        assert offer["id"] in await _listed(client)
        assert all((await _in_feeds(client, offer["id"])).values())
        # At its end, it leaves the list and every feed, and reads as closed at once…
        clock.move_to(ends + timedelta(seconds=1))
        assert offer["id"] not in await _listed(client)
        assert not any((await _in_feeds(client, offer["id"])).values())
        detail = await client.get(f"/v1/offers/{offer['id']}")
        assert detail.json()["status"] == "closed"
        assert await _changes(client, offer["id"]) == ["created"]
        # …and the expiry worker records it closed, which tells partners' mirrors.
        assert await expiry.close_expired(app.state.database, PARIS) == 1
        assert await _changes(client, offer["id"]) == ["created", "closed"]
        assert await expiry.close_expired(app.state.database, PARIS) == 0


async def test_the_default_lifetime_is_a_setting(
    settings: Settings, session: AsyncSession, labo: Organisation
) -> None:
    application = create_app(settings.model_copy(update={"offer_default_days": 10}))
    transport = httpx.ASGITransport(app=application)
    key = bearer(await make_key(session, "recruiter", labo))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            offer = (await client.post("/v1/offers", json=silent(), headers=key)).json()
    finally:
        await application.state.database.dispose()
    published = datetime.fromisoformat(offer["published_at"])
    assert datetime.fromisoformat(offer["expires_at"]) == published + timedelta(days=10)


async def test_the_end_follows_the_deadline_unless_it_was_given(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    deadline = date(2099, 5, 22)
    # Midnight after the deadline in Paris (summer time: UTC+2).
    deadline_end = datetime(2099, 5, 22, 22, 0, tzinfo=UTC)
    offer = (
        await client.post("/v1/offers", json=offer_body(deadline=deadline.isoformat()), headers=key)
    ).json()
    assert datetime.fromisoformat(offer["expires_at"]) == deadline_end
    moved = await client.patch(
        f"/v1/offers/{offer['id']}", json={"deadline": "2099-06-30"}, headers=key
    )
    assert datetime.fromisoformat(moved.json()["expires_at"]) == datetime(
        2099, 6, 30, 22, 0, tzinfo=UTC
    )
    given = "2099-06-15T12:00:00+00:00"
    chosen = await client.patch(
        f"/v1/offers/{offer['id']}", json={"expires_at": given}, headers=key
    )
    assert chosen.json()["expires_at"] == "2099-06-15T12:00:00Z"
    kept = await client.patch(
        f"/v1/offers/{offer['id']}", json={"deadline": "2099-07-31"}, headers=key
    )
    assert kept.json()["expires_at"] == "2099-06-15T12:00:00Z"


async def test_an_import_of_an_old_offer_without_a_deadline_is_not_open(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    """Real offers from 2018, 2021 and 2024 read as open for ever."""
    old = silent(published_at="2021-06-01T10:00:00+02:00")
    created = await client.post("/v1/offers", json=old, headers=key)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "closed"
    assert created.json()["expires_at"] == "2021-07-31T08:00:00Z"
    assert created.json()["id"] not in await _listed(client)


async def test_a_zoneless_expires_at_is_422_naming_it(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    response = await client.post(
        "/v1/offers", json=offer_body(expires_at="2099-01-01T00:00:00"), headers=key
    )
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == ["expires_at"]
