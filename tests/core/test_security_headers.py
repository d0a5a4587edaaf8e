"""Hardening headers on every kind of response: nosniff, no framing, and HSTS only behind
an https public URL (issue 15, security item 10)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from tests.factories import bearer, make_key, make_offer, make_organisation

HSTS = "max-age=31536000; includeSubDomains"

Call = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


async def _not_modified(client: httpx.AsyncClient) -> httpx.Response:
    first = await client.get("/v1/referentials/contract-types")
    return await client.get(
        "/v1/referentials/contract-types", headers={"If-None-Match": first.headers["etag"]}
    )


# Every kind of answer: success, 304, each error family, CORS's own, streams, files, HTML.
RESPONSES: dict[str, tuple[int, Call]] = {
    "JSON list": (200, lambda c: c.get("/v1/offers")),
    "HEAD": (200, lambda c: c.head("/v1/offers")),
    "304": (304, _not_modified),
    "404 problem": (404, lambda c: c.get("/v1/nowhere")),
    "405 problem": (405, lambda c: c.delete("/v1/offers")),
    "422 problem": (422, lambda c: c.get("/v1/offers?limit=0")),
    "401 problem": (401, lambda c: c.get("/v1/applications")),
    "413 problem": (413, lambda c: c.post("/v1/offers", content=b"x" * 2_000_000)),
    "421 problem": (421, lambda c: c.get("/v1/offers", headers={"Host": "evil.example"})),
    "500 problem": (500, lambda c: c.get("/v1/failing")),
    "redirect": (307, lambda c: c.get("/v1/offers/")),
    "CORS preflight": (
        200,
        lambda c: c.options(
            "/v1/offers",
            headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"},
        ),
    ),
    "refused preflight": (
        400,
        lambda c: c.options(
            "/v1/offers",
            headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"},
        ),
    ),
    "RSS feed": (200, lambda c: c.get("/v1/feeds/offers.rss")),
    "JSON-LD": (200, lambda c: c.get("/v1/feeds/offers.jsonld")),
    "OpenAPI": (200, lambda c: c.get("/openapi.json")),
    "docs page": (200, lambda c: c.get("/docs")),
    "docs asset": (200, lambda c: c.get("/docs/assets/swagger-ui-bundle.js")),
    "probe": (200, lambda c: c.get("/healthz")),
}


def _with_a_failing_route(application: FastAPI) -> FastAPI:
    # A bug in a route: the answer comes from Starlette's outermost error middleware.
    async def failing() -> None:
        raise RuntimeError("a bug")

    application.add_api_route("/v1/failing", failing, include_in_schema=False)
    return application


async def _client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application: Any = _with_a_failing_route(create_app(settings))
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await application.state.database.dispose()


@pytest.fixture
async def plain(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(settings):
        yield client


@pytest.fixture
async def https(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    public = settings.model_copy(update={"public_base_url": "https://emplois.example.org"})
    async for client in _client(public):
        yield client


@pytest.mark.parametrize("kind", RESPONSES)
async def test_every_response_is_hardened(plain: httpx.AsyncClient, kind: str) -> None:
    status, call = RESPONSES[kind]

    response = await call(plain)

    assert response.status_code == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert policy.count("frame-ancestors") == 1
    # The request said http and no public https URL is set: HSTS would be a lie.
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize("kind", RESPONSES)
async def test_hsts_when_the_public_url_is_https(https: httpx.AsyncClient, kind: str) -> None:
    status, call = RESPONSES[kind]

    response = await call(https)

    assert response.status_code == status
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_no_hsts_behind_an_http_public_url(settings: Settings) -> None:
    public = settings.model_copy(update={"public_base_url": "http://emplois.example.org"})
    async for client in _client(public):
        response = await client.get("/v1/offers")

        assert response.status_code == 200
        assert "Strict-Transport-Security" not in response.headers


async def test_a_docs_page_keeps_its_own_policy(plain: httpx.AsyncClient) -> None:
    policy = (await plain.get("/redoc")).headers["Content-Security-Policy"]

    assert policy.startswith("default-src 'none'; script-src 'self'")
    assert policy.endswith("frame-ancestors 'none'")


async def test_an_offer_and_its_json_ld_are_hardened(
    plain: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    offer = await make_offer(session, organisation)
    key = await make_key(session, "recruiter", organisation)

    for headers in ({}, {"Accept": "application/ld+json"}, bearer(key)):
        response = await plain.get(f"/v1/offers/{offer.id}", headers=headers)

        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
