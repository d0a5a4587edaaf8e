"""Offer events reach a real receiver, signed as Standard Webhooks says, once per change,
narrowed by the offer list's filters; every attempt is listed."""

import json
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from tests.conftest import QueryCounter
from tests.webhooks.conftest import PARIS, Keys, deliveries, drain, publish, subscribe
from tests.webhooks.receiver import Receiver

OFFER_EVENTS = ["offer.published", "offer.updated", "offer.closed"]


def events_of(receiver: Receiver, path: str, secret: str) -> list[tuple[str, str]]:
    """(type, offer id) of each request on ``path``, each verified with ``secret``."""
    return [
        (payload["type"], payload["data"]["id"])
        for payload in (request.verified(secret) for request in receiver.on(path))
    ]


async def test_a_published_offer_reaches_the_receiver_signed_and_the_attempt_is_listed(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    hook = await subscribe(client, keys.partner, f"{receiver.url}/hooks", ["offer.published"])
    offer = await publish(client, keys.recruiter, title="Chargée de plaidoyer")

    assert await drain(app) == 1
    [request] = receiver.on("/hooks")
    payload = request.verified(hook["secret"])
    assert payload["type"] == "offer.published"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"] == {
        "id": offer["id"],
        "title": "Chargée de plaidoyer",
        "status": "published",
        "organisation": {"id": str(keys.paris.id), "slug": "paris"},
        "links": {"self": f"http://localhost:8000/v1/offers/{offer['id']}"},
    }
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["content-type"] == "application/json"
    # Signed with this webhook's secret only: another one's does not verify.
    other = await subscribe(client, keys.other_partner, f"{receiver.url}/x", ["offer.closed"])
    with pytest.raises(WebhookVerificationError):
        request.verified(other["secret"])

    [attempt] = await deliveries(client, keys.partner, hook["id"])
    assert attempt["message_id"] == request.headers["webhook-id"]
    assert (attempt["event"], attempt["attempt"], attempt["status_code"]) == (
        "offer.published",
        1,
        200,
    )
    assert attempt["succeeded"] is True
    assert attempt["error"] is None
    # The receiver answered more than 1 KiB: the first KiB is kept.
    assert len(attempt["response_body"].encode()) == 1024
    assert attempt["response_body"].startswith("answer 200 ")
    assert await drain(app) == 0


async def test_publishing_updating_and_closing_each_send_their_event_and_drafts_none(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    hook = await subscribe(client, keys.partner, f"{receiver.url}/hooks", OFFER_EVENTS)
    draft = await publish(client, keys.recruiter, status="draft")
    await client.patch(
        f"/v1/offers/{draft['id']}", json={"title": "Brouillon"}, headers=keys.recruiter
    )
    await drain(app)
    assert receiver.on("/hooks") == []

    await client.patch(
        f"/v1/offers/{draft['id']}", json={"status": "published"}, headers=keys.recruiter
    )
    await client.patch(
        f"/v1/offers/{draft['id']}", json={"title": "Nouveau titre"}, headers=keys.recruiter
    )
    # A write that changes nothing is no event.
    await client.patch(
        f"/v1/offers/{draft['id']}", json={"title": "Nouveau titre"}, headers=keys.recruiter
    )
    await client.delete(f"/v1/offers/{draft['id']}", headers=keys.recruiter)
    await drain(app)

    # Sent together, they may arrive in any order: receivers order by `timestamp`.
    assert sorted(events_of(receiver, "/hooks", hook["secret"])) == [
        ("offer.closed", draft["id"]),
        ("offer.published", draft["id"]),
        ("offer.updated", draft["id"]),
    ]
    closed = [r.verified(hook["secret"]) for r in receiver.on("/hooks")]
    assert {p["data"]["status"] for p in closed if p["type"] == "offer.closed"} == {"closed"}
    assert len({r.headers["webhook-id"] for r in receiver.on("/hooks")}) == 3


async def test_filters_send_only_the_offers_the_list_would_show(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    paris = await subscribe(
        client, keys.partner, f"{receiver.url}/paris", OFFER_EVENTS, filters={"departement": "75"}
    )
    everything = await subscribe(client, keys.other_partner, f"{receiver.url}/all", OFFER_EVENTS)
    in_paris = await publish(client, keys.recruiter, **PARIS)
    in_nantes = await publish(client, keys.recruiter)
    cdi_in_paris = await publish(
        client,
        keys.other_recruiter,
        **{**PARIS, "contract_type": "cdi", "versant": None, "categorie": None},
    )
    await drain(app)
    assert sorted(events_of(receiver, "/paris", paris["secret"])) == sorted(
        [("offer.published", in_paris["id"]), ("offer.published", cdi_in_paris["id"])]
    )
    assert len(receiver.on("/all")) == 3

    # Closed offers are no longer open; offer.closed still follows the filters.
    for offer in (in_paris, in_nantes):
        await client.delete(f"/v1/offers/{offer['id']}", headers=keys.recruiter)
    await drain(app)
    assert events_of(receiver, "/paris", paris["secret"])[2:] == [("offer.closed", in_paris["id"])]
    assert len(events_of(receiver, "/all", everything["secret"])) == 5

    # The filters are the list's: the same query answers the same offers.
    listed = await client.get("/v1/offers", params={"departement": "75"})
    assert {item["id"] for item in listed.json()["items"]} == {cdi_in_paris["id"]}


async def test_a_bulk_upload_sends_one_event_per_matching_offer_matched_in_one_query(
    app: Any,
    client: httpx.AsyncClient,
    keys: Keys,
    receiver: Receiver,
    queries: QueryCounter,
) -> None:
    hook = await subscribe(
        client,
        keys.partner,
        f"{receiver.url}/bulk",
        ["offer.published"],
        filters={"departement": ["75"], "contract_type": ["cdd"]},
    )
    await subscribe(
        client,
        keys.other_partner,
        f"{receiver.url}/cdi",
        ["offer.published"],
        filters={"contract_type": ["cdi"]},
    )
    rows = []
    for number in range(30):
        where = PARIS if number % 3 == 0 else {}
        rows.append(
            {
                "reference": f"BULK-{number}",
                "title": f"Offre {number}",
                "description": "Une mission.",
                "contract_type": "cdd",
                "duration_months": 6,
                "city": "Nantes",
                "postcode": "44000",
                "departement": "44",
                "apply_via": "email",
                "apply_email": "recrutement@example.org",
                **where,
            }
        )
    queries.reset()
    uploaded = await client.post("/v1/offers/bulk", json=rows, headers=keys.recruiter)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["created"] == 30
    # The list's statement, once per filtered subscription, not once per offer.
    matching = [q for q in queries.statements if q.startswith("SELECT offer.id \nFROM offer")]
    assert len(matching) == 2
    await drain(app)
    titles = sorted(r.verified(hook["secret"])["data"]["title"] for r in receiver.on("/bulk"))
    assert titles == sorted(f"Offre {number}" for number in range(0, 30, 3))
    assert receiver.on("/cdi") == []


async def test_ping(app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver) -> None:
    hook = await subscribe(client, keys.recruiter, f"{receiver.url}/ping", ["application.erased"])
    pinged = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=keys.recruiter)
    assert pinged.status_code == 202
    await drain(app)
    [request] = receiver.on("/ping")
    assert request.headers["webhook-id"] == pinged.json()["message_id"]
    payload = request.verified(hook["secret"])
    assert payload["type"] == "webhook.ping"
    assert payload["data"] == {"webhook_id": hook["id"]}
    body = json.loads(request.body)
    assert set(body) == {"type", "timestamp", "data"}
