"""Inputs that reach past schema validation into queries: NUL bytes, lone surrogates and
dates at the edge of the calendar must be 422 (or a harmless 404/200), never 500."""

import base64
import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import bearer, make_key, make_organisation, offer_body

SOME_ID = "6f1c4d5e-0000-4000-8000-000000000000"


def forged_cursor(*parts: str) -> str:
    raw = json.dumps(list(parts)).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "url",
    [
        "/v1/offers?organisation=a%00b",
        "/v1/offers?organisation=%ED%A0%80",
        "/v1/organisations/a%00b",
        "/v1/organisations/%ED%A0%80",
        f"/v1/organisations?cursor={forged_cursor('a' + chr(0))}",
        f"/v1/organisations?cursor={forged_cursor('x', 'y')}",
        f"/v1/offers?cursor={forged_cursor('9999-12-31T23:59:59-01:00', SOME_ID)}",
        f"/v1/offers?cursor={forged_cursor('0001-01-01T00:30:00+01:00', SOME_ID)}",
        f"/v1/offers?cursor={forged_cursor('2026-01-01T00:00:00', SOME_ID)}",
        "/v1/offers/6f1c4d5e-0000-4000-8000-00000000000%00",
    ],
)
async def test_hostile_query_and_path_values_are_refused(
    client: httpx.AsyncClient, url: str
) -> None:
    response = await client.get(url)
    assert response.status_code in {404, 422}, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "published_at",
    ["0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00", "1900-01-01T00:00:00Z"],
)
async def test_out_of_range_dates_are_422(
    client: httpx.AsyncClient, session: AsyncSession, published_at: str
) -> None:
    organisation = await make_organisation(session)
    key = await make_key(session, "recruiter", organisation)
    response = await client.post(
        "/v1/offers", json=offer_body(published_at=published_at), headers=bearer(key)
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "published_at"


async def test_if_match_compares_strongly(client: httpx.AsyncClient, session: AsyncSession) -> None:
    organisation = await make_organisation(session)
    key = await make_key(session, "recruiter", organisation)
    created = await client.post("/v1/offers", json=offer_body(), headers=bearer(key))
    etag = created.headers["etag"]
    weak = await client.patch(
        f"/v1/offers/{created.json()['id']}",
        json={"title": "Weak"},
        headers=bearer(key) | {"If-Match": "W/" + etag},
    )
    assert weak.status_code == 412
    weak_get = await client.get(
        f"/v1/offers/{created.json()['id']}", headers={"If-None-Match": "W/" + etag}
    )
    assert weak_get.status_code == 304


async def test_siret_digits_must_be_ascii(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = await make_key(session, "admin")
    response = await client.post(
        "/v1/organisations",
        json={"slug": "x-y", "name": "X", "kind": "association", "siret": "١٣٠٠٢٥٢٦٥٠٠٠١٣"},
        headers=bearer(admin),
    )
    assert response.status_code == 422


async def test_forged_application_cursor_is_422(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    key = await make_key(session, "recruiter", organisation)
    for cursor in [forged_cursor("0001-01-01T00:30:00+01:00", SOME_ID), forged_cursor("x")]:
        response = await client.get(f"/v1/applications?cursor={cursor}", headers=bearer(key))
        assert response.status_code == 422
