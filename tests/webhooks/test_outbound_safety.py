"""Outbound safety: what webhooks may not reach, refused when subscribing (422, saying
why) and again at delivery, inside the connection."""

import httpx
import pytest

from tests.webhooks.conftest import Keys
from tests.webhooks.receiver import Receiver


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
