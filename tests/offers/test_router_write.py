from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers.models import Offer
from tests.factories import bearer, make_key, make_offer, make_organisation, offer_body


async def _recruiter(session: AsyncSession) -> tuple[Any, str]:
    organisation = await make_organisation(session, slug="etat-lin")
    return organisation, await make_key(session, "recruiter", organisation)


async def test_recruiter_creates_a_published_offer(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation, key = await _recruiter(session)
    response = await client.post("/v1/offers", json=offer_body(), headers=bearer(key))

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "published"
    assert body["organisation"]["id"] == str(organisation.id)
    assert body["region"] == "52"  # derived from the département
    assert body["published_at"] is not None
    assert response.headers["location"].endswith(f"/v1/offers/{body['id']}")
    listed = (await client.get("/v1/offers")).json()["items"]
    assert [item["id"] for item in listed] == [body["id"]]
    detail = await client.get(response.headers["location"])
    assert detail.headers["etag"] == response.headers["etag"]


async def test_a_draft_is_not_listed_until_published(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _organisation, key = await _recruiter(session)
    created = await client.post("/v1/offers", json=offer_body(status="draft"), headers=bearer(key))
    assert created.json()["published_at"] is None
    assert (await client.get("/v1/offers")).json()["items"] == []
    published = await client.patch(
        f"/v1/offers/{created.json()['id']}", json={"status": "published"}, headers=bearer(key)
    )
    assert published.status_code == 200
    assert published.json()["published_at"] is not None
    assert len((await client.get("/v1/offers")).json()["items"]) == 1


async def test_recruiter_cannot_post_for_another_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _organisation, key = await _recruiter(session)
    other = await make_organisation(session)
    response = await client.post(
        "/v1/offers", json=offer_body(organisation_id=str(other.id)), headers=bearer(key)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "organisation_id"
    rows = (await session.execute(select(Offer))).scalars().all()
    assert rows == []


async def test_admin_must_name_an_existing_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    admin = await make_key(session, "admin")
    missing = await client.post("/v1/offers", json=offer_body(), headers=bearer(admin))
    assert missing.status_code == 422
    unknown = await client.post(
        "/v1/offers",
        json=offer_body(organisation_id="6f1c4d5e-0000-4000-8000-000000000000"),
        headers=bearer(admin),
    )
    assert unknown.status_code == 422
    ok = await client.post(
        "/v1/offers", json=offer_body(organisation_id=str(organisation.id)), headers=bearer(admin)
    )
    assert ok.status_code == 201


async def test_duplicate_reference_is_409(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _organisation, key = await _recruiter(session)
    first = await client.post("/v1/offers", json=offer_body(reference="R-1"), headers=bearer(key))
    assert first.status_code == 201
    again = await client.post("/v1/offers", json=offer_body(reference="R-1"), headers=bearer(key))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "x" * 10_000}, "title"),
        ({"title": "Chargé\x00e de mission"}, "title"),
        ({"description": "ok\x00"}, "description"),
        ({"title": ""}, "title"),
        ({"departement": "99"}, "departement"),
        ({"departement": "20"}, "departement"),
        ({"contract_type": "freelance"}, "contract_type"),
        ({"salary_min": 4000, "salary_max": 3000, "salary_period": "month"}, "body"),
        ({"salary_min": 3500}, "body"),
        ({"salary_min": 10**12, "salary_period": "month"}, "salary_min"),
        ({"apply_via": "email", "apply_url": None}, "body"),
        ({"country": "DE"}, "body"),
        ({"region": "11"}, "body"),
        ({"deadline": "2026-02-30"}, "deadline"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"status": "closed"}, "status"),
        ({"published_at": "2999-01-01T00:00:00Z"}, "published_at"),
    ],
)
async def test_invalid_bodies_are_422_problems(
    client: httpx.AsyncClient, session: AsyncSession, change: dict[str, Any], field: str
) -> None:
    _organisation, key = await _recruiter(session)
    response = await client.post("/v1/offers", json=offer_body(**change), headers=bearer(key))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert any(error["field"] == field for error in problem["errors"]), problem
    assert "\x00" not in response.text
    assert (await session.execute(select(Offer))).scalars().all() == []


async def test_an_offer_abroad_has_no_departement(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _organisation, key = await _recruiter(session)
    body = offer_body(
        country="de", city="Berlin", postcode="10115", departement=None, language="en"
    )
    response = await client.post("/v1/offers", json=body, headers=bearer(key))
    assert response.status_code == 201, response.text
    assert response.json()["country"] == "DE"
    assert response.json()["departement"] is None


async def test_patch_with_if_match(client: httpx.AsyncClient, session: AsyncSession) -> None:
    organisation, key = await _recruiter(session)
    offer = await make_offer(session, organisation)
    read = await client.get(f"/v1/offers/{offer.id}")
    etag = read.headers["etag"]

    updated = await client.patch(
        f"/v1/offers/{offer.id}",
        json={"title": "Nouveau titre", "departement": "75"},
        headers=bearer(key) | {"If-Match": etag},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["title"] == "Nouveau titre"
    assert updated.json()["region"] == "11"
    assert updated.headers["etag"] != etag

    stale = await client.patch(
        f"/v1/offers/{offer.id}", json={"title": "Perdu"}, headers=bearer(key) | {"If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/v1/offers/{offer.id}")).json()["title"] == "Nouveau titre"

    fresh = await client.patch(
        f"/v1/offers/{offer.id}",
        json={"title": "Encore"},
        headers=bearer(key) | {"If-Match": updated.headers["etag"]},
    )
    assert fresh.status_code == 200
    assert (await client.get(f"/v1/offers/{offer.id}")).headers["etag"] == fresh.headers["etag"]


async def test_patch_keeps_cross_field_rules(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation, key = await _recruiter(session)
    offer = await make_offer(
        session, organisation, salary_min=2000, salary_max=2500, salary_period="month"
    )
    response = await client.patch(
        f"/v1/offers/{offer.id}", json={"salary_max": 1000}, headers=bearer(key)
    )
    assert response.status_code == 422
    cleared = await client.patch(
        f"/v1/offers/{offer.id}", json={"title": None}, headers=bearer(key)
    )
    assert cleared.status_code == 422


async def test_delete_closes_and_keeps_a_tombstone(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation, key = await _recruiter(session)
    offer = await make_offer(session, organisation)

    response = await client.delete(f"/v1/offers/{offer.id}", headers=bearer(key))
    assert response.status_code == 204
    assert (await client.get("/v1/offers")).json()["items"] == []
    tombstone = await client.get(f"/v1/offers/{offer.id}")
    assert tombstone.status_code == 200
    assert tombstone.json()["status"] == "closed"
    assert tombstone.json()["closed_at"] is not None
    assert (await client.delete(f"/v1/offers/{offer.id}", headers=bearer(key))).status_code == 204
    reopen = await client.patch(
        f"/v1/offers/{offer.id}", json={"status": "published"}, headers=bearer(key)
    )
    assert reopen.status_code == 409


async def test_delete_honours_if_match(client: httpx.AsyncClient, session: AsyncSession) -> None:
    organisation, key = await _recruiter(session)
    offer = await make_offer(session, organisation)
    response = await client.delete(
        f"/v1/offers/{offer.id}", headers=bearer(key) | {"If-Match": '"stale"'}
    )
    assert response.status_code == 412
    assert (await client.get(f"/v1/offers/{offer.id}")).json()["status"] == "published"


async def test_oversized_body_is_413(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _organisation, key = await _recruiter(session)
    body = offer_body(description="x" * 2_000_000)
    response = await client.post("/v1/offers", json=body, headers=bearer(key))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_malformed_json_is_422(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _organisation, key = await _recruiter(session)
    response = await client.post(
        "/v1/offers",
        content=b"{not json",
        headers=bearer(key) | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_oversized_chunked_body_is_413_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _organisation, key = await _recruiter(session)

    async def chunks() -> Any:
        yield b'{"title": "'
        for _ in range(300):
            yield b"x" * 4096
        yield b'"}'

    response = await client.post(
        "/v1/offers",
        content=chunks(),
        headers=bearer(key) | {"Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert (await session.execute(select(Offer))).scalars().all() == []
