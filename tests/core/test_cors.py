"""CORS: public reads from any origin, without credentials; writes only from the origins
in settings."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app

BACK_OFFICE = "https://recrutement.example.org"
PARTNER = "https://partenaire.example.net"


@pytest.fixture
async def cors_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application: Any = create_app(settings.model_copy(update={"cors_write_origins": [BACK_OFFICE]}))
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await application.state.database.dispose()


@pytest.mark.parametrize(
    "path", ["/v1/offers", "/v1/feeds/offers.rss", "/v1/referentials/contract-types"]
)
async def test_public_reads_allow_any_origin_without_credentials(
    cors_client: httpx.AsyncClient, path: str
) -> None:
    response = await cors_client.get(path, headers={"Origin": PARTNER})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    exposed = response.headers["Access-Control-Expose-Headers"]
    assert {"ETag", "Link", "Last-Modified"} <= {name.strip() for name in exposed.split(",")}


async def test_preflight_for_a_read_from_any_origin(cors_client: httpx.AsyncClient) -> None:
    response = await cors_client.options(
        "/v1/offers",
        headers={
            "Origin": PARTNER,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE", "PUT"])
async def test_preflight_for_a_write_is_refused_to_other_origins(
    cors_client: httpx.AsyncClient, method: str
) -> None:
    refused = await cors_client.options(
        "/v1/offers",
        headers={"Origin": PARTNER, "Access-Control-Request-Method": method},
    )
    allowed = await cors_client.options(
        "/v1/offers",
        headers={
            "Origin": BACK_OFFICE,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "Authorization, Content-Type, If-Match",
        },
    )

    assert refused.status_code == 400
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == BACK_OFFICE
    assert method in allowed.headers["Access-Control-Allow-Methods"]


async def test_a_write_from_another_origin_gets_no_cors_grant(
    cors_client: httpx.AsyncClient,
) -> None:
    response = await cors_client.post("/v1/offers", json={}, headers={"Origin": PARTNER})

    # The browser withholds the answer: nothing grants this origin.
    assert "Access-Control-Allow-Origin" not in response.headers
    from_back_office = await cors_client.post(
        "/v1/offers", json={}, headers={"Origin": BACK_OFFICE}
    )
    assert from_back_office.headers["Access-Control-Allow-Origin"] == BACK_OFFICE
