"""Outbound safety: what webhooks may not reach, refused when subscribing (422, saying
why) and again at delivery, inside the connection."""

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config import Settings
from app.main import create_app
from app.webhooks.models import WebhookSubscription
from tests.webhooks.conftest import Keys, deliveries, drain, publish, subscribe
from tests.webhooks.receiver import REDIRECT, Receiver


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/hooks", "must use https"),
        ("http://partner.example.org/hooks", "must use https"),
        ("https://127.0.0.1/hooks", "loopback address"),
        ("https://10.0.0.1/hooks", "private address"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata address"),
        ("https://[fd00:ec2::254]/", "cloud metadata address"),
        ("https://metadata.google.internal/", "cloud metadata service"),
        ("https://localhost/hooks", "resolves to a loopback address"),
        ("https://[::1]/hooks", "loopback address"),
        ("https://[::ffff:10.0.0.1]/hooks", "private address"),
        ("https://0.0.0.0/hooks", "unspecified address"),
        ("https://192.168.1.20:8443/hooks", "private address"),
        # Site-local IPv6 (deprecated, still routed inside some networks): global for
        # Python 3.11's ipaddress.
        ("https://[fec0::1]/hooks", "site-local address"),
        ("https://[fef0::1]/hooks", "site-local address"),
        # NAT64 reaches an IPv4 host through the local network's gateway, even a public one.
        ("https://[64:ff9b::808:808]/hooks", "NAT64 address"),
        ("https://[64:ff9b:1::808:808]/hooks", "NAT64 address"),
        ("https://[64:ff9b:1:ffff::1]/hooks", "NAT64 address"),
        ("ftp://partner.example.org/hooks", "https://"),
        ("https://user:password@partner.example.org/hooks", "credentials"),
    ],
)
async def test_subscribing_to_a_forbidden_receiver_is_refused(
    strict_client: httpx.AsyncClient, keys: Keys, url: str, reason: str
) -> None:
    response = await strict_client.post(
        "/v1/webhooks", json={"url": url, "events": ["offer.published"]}, headers=keys.partner
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"][0]["field"] == "url"
    assert reason in problem["detail"]


async def test_a_receiver_not_yet_in_dns_may_subscribe(
    strict_client: httpx.AsyncClient, keys: Keys
) -> None:
    # .invalid never resolves (RFC 6761): its deliveries fail until it does.
    response = await strict_client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.partner.invalid/vocation", "events": ["offer.published"]},
        headers=keys.partner,
    )
    assert response.status_code == 201, response.text


async def test_private_addresses_are_refused_when_only_http_is_allowed(
    client: httpx.AsyncClient, strict_client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    # `client` allows both (the tests' receiver is on loopback); `strict_client`, neither.
    allowed = await client.post(
        "/v1/webhooks", json={"url": receiver.url, "events": ["offer.closed"]}, headers=keys.admin
    )
    assert allowed.status_code == 201
    refused = await strict_client.patch(
        f"/v1/webhooks/{allowed.json()['id']}",
        json={"url": receiver.url.replace("http:", "https:")},
        headers=keys.admin,
    )
    assert refused.status_code == 422
    assert "loopback" in refused.json()["detail"]


async def _drained_by(settings: Settings, **rules: Any) -> None:
    """Deliver what is due with another process's rules, on the same database: as if the
    receiver's DNS, or the settings, had changed since it subscribed."""
    application = create_app(settings.model_copy(update=rules))
    try:
        await application.state.outbox.drain()
    finally:
        await application.state.database.dispose()


async def test_a_host_that_resolves_to_a_private_address_at_delivery_is_not_reached(
    client: httpx.AsyncClient, settings: Settings, keys: Keys, receiver: Receiver
) -> None:
    # Accepted while the rules allowed it (as a name that resolved to a public address
    # then); `localhost` answers 127.0.0.1 at delivery, under production rules.
    url = f"http://localhost:{receiver.port}/hooks"
    hook = await subscribe(client, keys.partner, url, ["offer.published"])
    await publish(client, keys.recruiter)

    await _drained_by(settings, webhook_allow_private=False)

    assert receiver.received == []
    [attempt] = await deliveries(client, keys.partner, hook["id"])
    assert attempt["status_code"] is None
    assert attempt["error"] == (
        "refused: the host resolves to a loopback address, which webhooks may not reach"
    )


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "the address is a loopback address"),
        ("10.0.0.1", "the address is a private address"),
        ("169.254.169.254", "the address is a cloud metadata address"),
    ],
)
async def test_forbidden_addresses_are_refused_at_delivery(
    app: Any,
    client: httpx.AsyncClient,
    settings: Settings,
    keys: Keys,
    receiver: Receiver,
    session: AsyncSession,
    host: str,
    reason: str,
) -> None:
    hook = await subscribe(client, keys.partner, receiver.url, ["offer.published"])
    # As if it had been stored before the rules tightened: the delivery checks again.
    await session.execute(
        update(WebhookSubscription)
        .where(col(WebhookSubscription.id) == uuid.UUID(hook["id"]))
        .values(url=f"http://{host}:{receiver.port}/hooks")
    )
    await session.commit()
    await publish(client, keys.recruiter)

    await _drained_by(settings, webhook_allow_private=False)

    [attempt] = await deliveries(client, keys.partner, hook["id"])
    assert attempt["error"] == f"refused: {reason}, which webhooks may not reach"
    assert receiver.received == []


async def test_plain_http_is_refused_at_delivery_without_the_setting(
    client: httpx.AsyncClient, settings: Settings, keys: Keys, receiver: Receiver
) -> None:
    hook = await subscribe(client, keys.partner, receiver.url, ["offer.published"])
    await publish(client, keys.recruiter)

    await _drained_by(settings, webhook_allow_http=False)

    [attempt] = await deliveries(client, keys.partner, hook["id"])
    assert attempt["error"].startswith("refused: the URL must use https")
    assert receiver.received == []


async def test_a_redirect_is_a_failed_delivery_and_is_not_followed(
    app: Any, client: httpx.AsyncClient, keys: Keys, receiver: Receiver
) -> None:
    receiver.answer("/moved", REDIRECT)
    hook = await subscribe(client, keys.partner, f"{receiver.url}/moved", ["offer.published"])
    await publish(client, keys.recruiter)
    await drain(app)

    [attempt] = await deliveries(client, keys.partner, hook["id"])
    assert (attempt["status_code"], attempt["succeeded"]) == (307, False)
    assert attempt["error"] == "redirect (307) not followed"
    assert [request.path for request in receiver.received] == ["/moved"]
