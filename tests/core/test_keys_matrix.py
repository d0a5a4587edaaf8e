"""Who may do what: every write route against every kind of credentials."""

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.api_keys import ApiKey, hash_key
from tests.factories import bearer, make_key, make_offer, make_organisation, offer_body


@pytest.fixture
async def world(session: AsyncSession) -> dict[str, object]:
    own = await make_organisation(session, slug="own")
    other = await make_organisation(session, slug="other")
    revoked = await make_key(session, "recruiter", own)
    await session.execute(
        update(ApiKey)
        .where(ApiKey.key_hash == hash_key(revoked))
        .values(revoked_at=datetime.now(UTC))
    )
    await session.commit()
    return {
        "own": own,
        "other": other,
        "own_offer": await make_offer(session, own),
        "other_offer": await make_offer(session, other),
        "admin": await make_key(session, "admin"),
        "recruiter": await make_key(session, "recruiter", own),
        "partner": await make_key(session, "partner"),
        "revoked": revoked,
    }


def _requests(world: dict[str, object]) -> list[tuple[str, str, dict[str, object] | None]]:
    own_offer = world["own_offer"].id  # type: ignore[attr-defined]
    return [
        ("POST", "/v1/offers", offer_body()),
        ("PATCH", f"/v1/offers/{own_offer}", {"title": "Nouveau"}),
        ("DELETE", f"/v1/offers/{own_offer}", None),
        ("PATCH", "/v1/organisations/own", {"name": "Renommée"}),
        ("POST", "/v1/organisations", {"slug": "new-one", "name": "Nouvelle", "kind": "collectif"}),
    ]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, None),
        ({"Authorization": "Bearer voc_this-key-does-not-exist-at-all"}, "invalid_token"),
        ({"Authorization": "Bearer not-a-key"}, "invalid_token"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid_request"),
    ],
)
async def test_missing_or_bad_credentials_are_401_with_challenge(
    client: httpx.AsyncClient,
    world: dict[str, object],
    headers: dict[str, str],
    detail: str | None,
) -> None:
    for method, url, body in _requests(world):
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 401, (method, url)
        assert response.headers["content-type"] == "application/problem+json"
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith("Bearer")
        if detail:
            assert f'error="{detail}"' in challenge


async def test_revoked_key_is_401(client: httpx.AsyncClient, world: dict[str, object]) -> None:
    for method, url, body in _requests(world):
        response = await client.request(
            method, url, json=body, headers=bearer(str(world["revoked"]))
        )
        assert response.status_code == 401, (method, url)
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_partner_key_is_403_on_writes(
    client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    for method, url, body in _requests(world):
        response = await client.request(
            method, url, json=body, headers=bearer(str(world["partner"]))
        )
        assert response.status_code == 403, (method, url)


async def test_recruiter_may_not_create_organisations(
    client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    response = await client.post(
        "/v1/organisations",
        json={"slug": "new-one", "name": "Nouvelle", "kind": "collectif"},
        headers=bearer(str(world["recruiter"])),
    )
    assert response.status_code == 403


async def test_recruiter_of_another_organisation_gets_404_on_its_offers(
    client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    other_offer = world["other_offer"].id  # type: ignore[attr-defined]
    key = bearer(str(world["recruiter"]))
    patch = await client.patch(f"/v1/offers/{other_offer}", json={"title": "x"}, headers=key)
    delete = await client.delete(f"/v1/offers/{other_offer}", headers=key)
    assert patch.status_code == 404
    assert delete.status_code == 404
    unchanged = await client.get(f"/v1/offers/{other_offer}")
    assert unchanged.json()["status"] == "published"
    assert unchanged.json()["title"] != "x"


async def test_recruiter_may_not_update_another_organisation(
    client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    response = await client.patch(
        "/v1/organisations/other", json={"name": "x"}, headers=bearer(str(world["recruiter"]))
    )
    assert response.status_code == 403
    assert (await client.get("/v1/organisations/other")).json()["name"] != "x"


async def test_admin_and_owner_may_write(
    client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    own_offer = world["own_offer"].id  # type: ignore[attr-defined]
    other_offer = world["other_offer"].id  # type: ignore[attr-defined]
    recruiter = bearer(str(world["recruiter"]))
    admin = bearer(str(world["admin"]))
    assert (
        await client.patch(f"/v1/offers/{own_offer}", json={"title": "A"}, headers=recruiter)
    ).status_code == 200
    assert (
        await client.patch(f"/v1/offers/{other_offer}", json={"title": "B"}, headers=admin)
    ).status_code == 200
    assert (
        await client.patch("/v1/organisations/own", json={"name": "C"}, headers=recruiter)
    ).status_code == 200
    assert (
        await client.patch("/v1/organisations/other", json={"name": "D"}, headers=admin)
    ).status_code == 200


async def test_public_reads_need_no_key_but_refuse_a_bad_one(
    client: httpx.AsyncClient, world: dict[str, object]
) -> None:
    assert (await client.get("/v1/offers")).status_code == 200
    assert (await client.get("/v1/organisations/own")).status_code == 200
    bad = await client.get(
        f"/v1/offers/{world['own_offer'].id}",  # type: ignore[attr-defined]
        headers={"Authorization": "Bearer voc_revoked-or-unknown-key-000"},
    )
    assert bad.status_code == 401
