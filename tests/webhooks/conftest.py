"""Webhook tests deliver to a real receiver on 127.0.0.1 over plain http: the settings
that allow both, with a short deadline so that a receiver that never answers costs a
second. ``strict_client`` talks to an app with the production defaults."""

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from app.organisations.models import Organisation
from tests.factories import bearer, make_key, make_organisation, offer_body
from tests.webhooks.receiver import Receiver, running_receiver


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_http": True,
            "webhook_allow_private": True,
            "webhook_connect_timeout_seconds": 1.0,
            "webhook_timeout_seconds": 1.0,
        }
    )


@pytest.fixture
async def strict_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of another app on the same database, with webhooks' production rules."""
    base = settings.model_copy(update={"webhook_allow_http": False, "webhook_allow_private": False})
    application = create_app(base)
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await application.state.database.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@dataclass
class Keys:
    """One organisation in Paris, one in Nantes, and a key of each kind."""

    paris: Organisation
    nantes: Organisation
    admin: dict[str, str]
    partner: dict[str, str]
    other_partner: dict[str, str]
    recruiter: dict[str, str]
    other_recruiter: dict[str, str]


@pytest.fixture
async def keys(session: AsyncSession) -> Keys:
    paris = await make_organisation(
        session, slug="paris", city="Paris", postcode="75011", departement="75", region="11"
    )
    nantes = await make_organisation(session, slug="nantes")
    return Keys(
        paris=paris,
        nantes=nantes,
        admin=bearer(await make_key(session, "admin")),
        partner=bearer(await make_key(session, "partner")),
        other_partner=bearer(await make_key(session, "partner")),
        recruiter=bearer(await make_key(session, "recruiter", paris)),
        other_recruiter=bearer(await make_key(session, "recruiter", nantes)),
    )


async def subscribe(
    client: httpx.AsyncClient, headers: dict[str, str], url: str, events: list[str], **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/v1/webhooks", json={"url": url, "events": events, **extra}, headers=headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def drain(app: Any) -> int:
    """Send every message due now, as the serving process's dispatcher does."""
    tried: int = await app.state.outbox.drain()
    return tried


async def deliveries(
    client: httpx.AsyncClient, headers: dict[str, str], webhook_id: str
) -> list[dict[str, Any]]:
    """The webhook's attempts, oldest first."""
    response = await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items[::-1]


async def publish(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    """An offer written through the API, as recruiters write them (its events with it)."""
    response = await client.post("/v1/offers", json=offer_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


PARIS = {"city": "Paris", "postcode": "75011", "departement": "75"}
