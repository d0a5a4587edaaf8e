"""Subscribing: who may subscribe to what, who sees which, filters checked as the offer
list checks them, and the secret shown only when made."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.webhooks.conftest import Keys, subscribe
from tests.webhooks.receiver import Receiver

OFFER_EVENTS = ["offer.published", "offer.updated", "offer.closed"]
APPLICATION_EVENTS = ["application.received", "application.withdrawn", "application.erased"]


async def test_a_partner_subscribes_to_offer_events_and_the_secret_is_shown_once(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    response = await client.post(
        "/v1/webhooks",
        json={
            "url": f"{receiver.url}/hooks",
            "events": OFFER_EVENTS,
            "filters": {"departement": "75", "contract_type": ["cdd", "cdi"]},
            "description": "Notre site",
        },
        headers=keys.partner,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["status"] == "active"
    assert created["filters"] == {"departement": ["75"], "contract_type": ["cdd", "cdi"]}
    assert created["organisation_id"] is None
    assert response.headers["location"].endswith(f"/v1/webhooks/{created['id']}")

    read = await client.get(f"/v1/webhooks/{created['id']}", headers=keys.partner)
    assert read.status_code == 200
    assert "secret" not in read.json()
    assert read.json()["events"] == OFFER_EVENTS
    assert read.headers["cache-control"] == "no-store"


async def test_a_recruiter_subscribes_to_its_own_organisations_application_events(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    created = await subscribe(client, keys.recruiter, f"{receiver.url}/r", APPLICATION_EVENTS)
    assert created["organisation_id"] == str(keys.paris.id)


@pytest.mark.parametrize(
    ("who", "events", "filters"),
    [
        ("partner", ["application.received"], None),
        ("admin", ["offer.published", "application.erased"], None),
        ("recruiter", ["offer.published"], None),
        ("recruiter", ["application.received"], {"departement": ["75"]}),
    ],
)
async def test_events_and_filters_follow_the_keys_role(
    client: httpx.AsyncClient,
    keys: Keys,
    receiver: Receiver,
    who: str,
    events: list[str],
    filters: dict[str, list[str]] | None,
) -> None:
    response = await client.post(
        "/v1/webhooks",
        json={"url": f"{receiver.url}/x", "events": events, "filters": filters},
        headers=getattr(keys, who),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    field = "filters" if filters else "events"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_only_keys_subscribe(client: httpx.AsyncClient, receiver: Receiver) -> None:
    response = await client.post(
        "/v1/webhooks", json={"url": f"{receiver.url}/x", "events": ["offer.closed"]}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"departement": ["999"]}, "filters.departement.0"),
        ({"contract_type": ["permanent"]}, "filters.contract_type.0"),
        ({"salary_min": "beaucoup"}, "filters.salary_min"),
        ({"salary_min": ["1000", "-2"]}, "filters.salary_min"),
        ({"deadline_after": "2026-02-30"}, "filters.deadline_after"),
        ({"department": ["75"]}, "filters.department"),
        ({"q": "chargé de projet"}, "filters.q"),
        ({"sort": "deadline"}, "filters.sort"),
    ],
)
async def test_filters_are_checked_as_the_offer_list_checks_them(
    client: httpx.AsyncClient,
    keys: Keys,
    receiver: Receiver,
    filters: dict[str, object],
    field: str,
) -> None:
    response = await client.post(
        "/v1/webhooks",
        json={"url": f"{receiver.url}/x", "events": ["offer.published"], "filters": filters},
        headers=keys.partner,
    )
    assert response.status_code == 422, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    # The list refuses the same value of the same parameter (but q and sort, which it takes).
    name = field.split(".")[1]
    if name not in {"q", "sort"}:
        value = filters[name]
        listed = await client.get("/v1/offers", params={name: value})
        assert listed.status_code == 422, (name, value)


async def test_filters_are_kept_as_the_list_reads_them(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    created = await subscribe(
        client,
        keys.partner,
        f"{receiver.url}/x",
        ["offer.published"],
        filters={"departement": ["2a"], "salary_min": 2500, "published_since": "2026-01-01"},
    )
    assert created["filters"] == {
        "departement": ["2A"],
        "salary_min": 2500,
        # Paris time, as the list reads a date alone.
        "published_since": "2025-12-31T23:00:00+00:00",
    }


async def test_a_key_sees_and_manages_only_its_own_webhooks_and_an_admin_all(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    mine = await subscribe(client, keys.partner, f"{receiver.url}/a", ["offer.published"])
    theirs = await subscribe(client, keys.other_partner, f"{receiver.url}/b", ["offer.closed"])
    recruiters = await subscribe(
        client, keys.recruiter, f"{receiver.url}/c", ["application.received"]
    )

    listed = await client.get("/v1/webhooks", headers=keys.partner)
    assert [item["id"] for item in listed.json()["items"]] == [mine["id"]]
    listed = await client.get("/v1/webhooks", headers=keys.other_recruiter)
    assert listed.json()["items"] == []
    for other in (theirs, recruiters):
        path = f"/v1/webhooks/{other['id']}"
        assert (await client.get(path, headers=keys.partner)).status_code == 404
        assert (await client.patch(path, json={}, headers=keys.partner)).status_code == 404
        assert (await client.delete(path, headers=keys.partner)).status_code == 404
        rotated = await client.post(f"{path}/rotate-secret", headers=keys.partner)
        assert rotated.status_code == 404
        deliveries = await client.get(f"{path}/deliveries", headers=keys.partner)
        assert deliveries.status_code == 404
    recruiter_reads = await client.get(f"/v1/webhooks/{mine['id']}", headers=keys.recruiter)
    assert recruiter_reads.status_code == 404

    everyone = await client.get("/v1/webhooks", headers=keys.admin)
    assert {item["id"] for item in everyone.json()["items"]} == {
        mine["id"],
        theirs["id"],
        recruiters["id"],
    }
    # An admin changing a recruiter's webhook still gets the recruiter's events only.
    refused = await client.patch(
        f"/v1/webhooks/{recruiters['id']}", json={"events": ["offer.closed"]}, headers=keys.admin
    )
    assert refused.status_code == 422


async def test_the_list_is_paged(client: httpx.AsyncClient, keys: Keys, receiver: Receiver) -> None:
    made = [
        (await subscribe(client, keys.partner, f"{receiver.url}/{n}", ["offer.closed"]))["id"]
        for n in range(3)
    ]
    seen = []
    page = await client.get("/v1/webhooks?limit=2", headers=keys.partner)
    seen += [item["id"] for item in page.json()["items"]]
    assert 'rel="next"' in page.headers["link"]
    cursor = page.json()["next_cursor"]
    page = await client.get(f"/v1/webhooks?limit=2&cursor={cursor}", headers=keys.partner)
    seen += [item["id"] for item in page.json()["items"]]
    assert page.json()["next_cursor"] is None
    assert sorted(seen) == sorted(made)
    unknown = await client.get("/v1/webhooks?department=75", headers=keys.partner)
    assert unknown.status_code == 422


async def test_update_with_if_match_then_delete(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    created = await subscribe(client, keys.partner, f"{receiver.url}/a", ["offer.published"])
    path = f"/v1/webhooks/{created['id']}"
    etag = (await client.get(path, headers=keys.partner)).headers["etag"]
    changed = await client.patch(
        path,
        json={"events": ["offer.closed"], "filters": {"region": ["11"]}, "url": receiver.url},
        headers={**keys.partner, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["events"] == ["offer.closed"]
    assert changed.json()["filters"] == {"region": ["11"]}
    stale = await client.patch(
        path, json={"description": "x"}, headers={**keys.partner, "If-Match": etag}
    )
    assert stale.status_code == 412
    paused = await client.patch(path, json={"status": "disabled"}, headers=keys.partner)
    assert paused.json()["status"] == "disabled"
    assert paused.json()["disabled_reason"] == "disabled by its owner"
    resumed = await client.patch(path, json={"status": "active"}, headers=keys.partner)
    assert resumed.json()["status"] == "active"
    assert resumed.json()["disabled_reason"] is None
    assert (await client.delete(path, headers=keys.partner)).status_code == 204
    assert (await client.get(path, headers=keys.partner)).status_code == 404


async def test_rotation_shows_the_new_secret_and_keeps_the_old_one_a_day(
    client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    created = await subscribe(client, keys.partner, f"{receiver.url}/a", ["offer.published"])
    rotated = await client.post(f"/v1/webhooks/{created['id']}/rotate-secret", headers=keys.partner)
    assert rotated.status_code == 200
    body = rotated.json()
    assert body["secret"].startswith("whsec_")
    assert body["secret"] != created["secret"]
    overlap = datetime.fromisoformat(body["previous_secret_expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < overlap <= timedelta(hours=24)
