"""Application events go to the recruiter subscriptions of the application's organisation
and nowhere else, with ids and links only."""

import hashlib
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.follow_up import new_token
from app.applications.models import Application
from app.offers.models import Offer
from tests.factories import bearer, make_offer
from tests.webhooks.conftest import Keys, drain, subscribe
from tests.webhooks.receiver import Receiver

APPLICATION_EVENTS = ["application.received", "application.withdrawn", "application.erased"]
EMAIL = "camille.durand@example.org"


async def _application(
    session: AsyncSession, offer: Offer, email: str = EMAIL
) -> tuple[Application, str]:
    """An application as a candidate leaves it, with its follow-up token."""
    token, token_hash = new_token()
    application = Application(
        offer_id=offer.id,
        organisation_id=offer.organisation_id,
        first_name="Camille",
        last_name="Durand",
        email=email,
        email_hash=hashlib.sha256(email.encode()).hexdigest(),
        phone="+33 6 12 34 56 78",
        message="Je suis très motivée.",
        consent_at=datetime.now(UTC),
        follow_up_token_hash=token_hash,
    )
    session.add(application)
    await session.commit()
    return application, token


async def test_each_organisation_hears_of_its_own_applications_only(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver, session: AsyncSession
) -> None:
    paris_hook = await subscribe(
        client, keys.recruiter, f"{receiver.url}/paris", APPLICATION_EVENTS
    )
    nantes_hook = await subscribe(
        client, keys.other_recruiter, f"{receiver.url}/nantes", APPLICATION_EVENTS
    )
    # Partners and admins never hear of applications.
    await subscribe(client, keys.admin, f"{receiver.url}/admin", ["offer.closed"])
    paris_offer = await make_offer(session, keys.paris)
    nantes_offer = await make_offer(session, keys.nantes)
    to_withdraw, withdraw_token = await _application(session, paris_offer)
    to_erase, erase_token = await _application(session, paris_offer, "c.durand@example.org")
    in_nantes, nantes_token = await _application(session, nantes_offer)

    withdrawn = await client.post(
        f"/v1/applications/{to_withdraw.id}/withdraw", headers=bearer(withdraw_token)
    )
    assert withdrawn.status_code == 200, withdrawn.text
    erased = await client.delete(f"/v1/applications/{to_erase.id}", headers=bearer(erase_token))
    assert erased.status_code == 204
    # Erasing a withdrawn application: one event each.
    await client.delete(f"/v1/applications/{to_withdraw.id}", headers=bearer(withdraw_token))
    await drain(app)

    paris = [request.verified(paris_hook["secret"]) for request in receiver.on("/paris")]
    assert sorted((event["type"], event["data"]["id"]) for event in paris) == sorted(
        [
            ("application.withdrawn", str(to_withdraw.id)),
            ("application.erased", str(to_erase.id)),
            ("application.erased", str(to_withdraw.id)),
        ]
    )
    erased_data = next(e["data"] for e in paris if e["data"]["id"] == str(to_erase.id))
    assert erased_data == {
        "id": str(to_erase.id),
        "offer_id": str(paris_offer.id),
        "organisation_id": str(keys.paris.id),
        "links": {
            "self": f"http://localhost:8000/v1/applications/{to_erase.id}",
            "offer": f"http://localhost:8000/v1/offers/{paris_offer.id}",
        },
    }
    for request in receiver.on("/paris"):
        for personal in (b"Camille", b"Durand", b"example.org", b"+33", b"motiv"):
            assert personal not in request.body
    assert receiver.on("/nantes") == []
    assert receiver.on("/admin") == []

    await client.post(f"/v1/applications/{in_nantes.id}/withdraw", headers=bearer(nantes_token))
    await drain(app)
    [nantes] = [request.verified(nantes_hook["secret"]) for request in receiver.on("/nantes")]
    assert (nantes["type"], nantes["data"]["id"]) == ("application.withdrawn", str(in_nantes.id))
    assert len(receiver.on("/paris")) == 3
