from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.organisations.models import Organisation
from tests.factories import bearer, make_key, make_organisation

VALID_SIRET = "13002526500013"
# A La Poste establishment: Luhn fails, the digits sum to a multiple of 5.
LA_POSTE_SIRET = "35600000000010"


def labo(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": "le-labo-de-l-ess",
        "name": "Le Labo de l'ESS",
        "kind": "think_tank",
        "website": "https://www.lelabo-ess.org",
        "city": "Paris",
        "postcode": "75007",
        "departement": "75",
        "contact_email": "contact@example.org",
    }
    body.update(overrides)
    return body


async def test_admin_creates_and_anyone_reads(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await make_key(session, "admin")
    created = await client.post("/v1/organisations", json=labo(), headers=bearer(admin))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["region"] == "11"
    assert body["contact_email"] == "contact@example.org"

    by_slug = await client.get("/v1/organisations/le-labo-de-l-ess")
    by_id = await client.get(f"/v1/organisations/{body['id']}")
    assert by_slug.status_code == by_id.status_code == 200
    assert by_slug.json() == by_id.json()
    assert "contact_email" not in by_slug.json()
    assert by_slug.headers["etag"] == created.headers["etag"]


async def test_slug_is_unique(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = await make_key(session, "admin")
    assert (
        await client.post("/v1/organisations", json=labo(), headers=bearer(admin))
    ).status_code == 201
    again = await client.post("/v1/organisations", json=labo(name="Autre"), headers=bearer(admin))
    assert again.status_code == 409


@pytest.mark.parametrize("siret", [VALID_SIRET, LA_POSTE_SIRET, "130 025 265 00013"])
async def test_valid_siret_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, siret: str
) -> None:
    admin = await make_key(session, "admin")
    response = await client.post("/v1/organisations", json=labo(siret=siret), headers=bearer(admin))
    assert response.status_code == 201, response.text
    assert response.json()["siret"] == siret.replace(" ", "")


@pytest.mark.parametrize(
    "siret", ["13002526500014", "1300252650001", "ABCDEFGHIJKLMN", "35600000000011"]
)
async def test_invalid_siret_is_422(
    client: httpx.AsyncClient, session: AsyncSession, siret: str
) -> None:
    admin = await make_key(session, "admin")
    response = await client.post("/v1/organisations", json=labo(siret=siret), headers=bearer(admin))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "siret"
    assert (await session.execute(select(Organisation))).scalars().all() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"departement": "96"}, "departement"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"kind": "entreprise"}, "kind"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"region": "84"}, "body"),
    ],
)
async def test_invalid_organisation_is_422(
    client: httpx.AsyncClient, session: AsyncSession, change: dict[str, Any], field: str
) -> None:
    admin = await make_key(session, "admin")
    response = await client.post("/v1/organisations", json=labo(**change), headers=bearer(admin))
    assert response.status_code == 422, response.text
    assert any(error["field"] == field for error in response.json()["errors"])


async def test_list_pages_and_filters(client: httpx.AsyncClient, session: AsyncSession) -> None:
    for index in range(5):
        await make_organisation(session, slug=f"org-{index}", kind="association")
    await make_organisation(
        session, slug="ville", kind="collectivite_territoriale", departement="75", region="11"
    )
    first = await client.get("/v1/organisations?limit=4")
    assert [o["slug"] for o in first.json()["items"]] == ["org-0", "org-1", "org-2", "org-3"]
    second = await client.get(f"/v1/organisations?limit=4&cursor={first.json()['next_cursor']}")
    assert [o["slug"] for o in second.json()["items"]] == ["org-4", "ville"]
    assert second.json()["next_cursor"] is None
    kinds = await client.get("/v1/organisations?kind=collectivite_territoriale")
    assert [o["slug"] for o in kinds.json()["items"]] == ["ville"]
    paris = await client.get("/v1/organisations?departement=75")
    assert [o["slug"] for o in paris.json()["items"]] == ["ville"]


async def test_recruiter_updates_own_organisation_with_if_match(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session, slug="etat-lin")
    key = await make_key(session, "recruiter", organisation)
    etag = (await client.get("/v1/organisations/etat-lin")).headers["etag"]
    updated = await client.patch(
        "/v1/organisations/etat-lin",
        json={"description": "Laboratoire d'innovation publique", "departement": "49"},
        headers=bearer(key) | {"If-Match": etag},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["region"] == "52"
    stale = await client.patch(
        "/v1/organisations/etat-lin", json={"name": "x"}, headers=bearer(key) | {"If-Match": etag}
    )
    assert stale.status_code == 412
    assert (await client.get("/v1/organisations/etat-lin")).json()["name"] == organisation.name


async def test_unknown_organisation_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/organisations/nobody")).status_code == 404
