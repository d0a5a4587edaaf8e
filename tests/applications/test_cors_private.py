"""CORS on reads that need a key: only the origins of VOCATION_CORS_WRITE_ORIGINS, never
`*` (issue 15, security item 9)."""

import json
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.core.config import Settings
from app.core.middleware import private_read_routes
from tests.applications.conftest import World, apply, candidate_token
from tests.factories import bearer

BACK_OFFICE = "https://recrutement.example.org"
EVIL = "https://evil.example"
SPEC = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"cors_write_origins": [BACK_OFFICE]})


@pytest.fixture
async def private_reads(client: httpx.AsyncClient, world: World) -> dict[str, tuple[str, str]]:
    """Each family of private read: (path, the key that reads it)."""
    token = await candidate_token(client, "camille@example.org")
    applied = await apply(
        client, world.offer.id, email="camille@example.org", headers=bearer(token)
    )
    assert applied.status_code == 201, applied.text
    application = applied.json()["id"]
    detail = await client.get(f"/v1/applications/{application}", headers=bearer(world.recruiter))
    document = detail.json()["documents"][0]["id"]
    return {
        "applications": ("/v1/applications", world.recruiter),
        "an application": (f"/v1/applications/{application}", world.recruiter),
        "its document": (f"/v1/applications/{application}/documents/{document}", world.recruiter),
        "CSV export": (f"/v1/offers/{world.offer.id}/applications.csv", world.recruiter),
        "the candidate": ("/v1/me", token),
        "the candidate's applications": ("/v1/me/applications", token),
        "the candidate's export": ("/v1/me/export", token),
        "by follow-up token": (
            f"/v1/applications/{application}",
            applied.json()["follow_up_token"],
        ),
        "the organisation's private fields": (
            f"/v1/organisations/{world.organisation.slug}/private",
            world.recruiter,
        ),
    }


FAMILIES = [
    "applications",
    "an application",
    "its document",
    "CSV export",
    "the candidate",
    "the candidate's applications",
    "the candidate's export",
    "by follow-up token",
    "the organisation's private fields",
]


@pytest.mark.parametrize("family", FAMILIES)
async def test_a_private_read_answers_only_listed_origins(
    client: httpx.AsyncClient, private_reads: dict[str, tuple[str, str]], family: str
) -> None:
    path, key = private_reads[family]
    asked = {
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization",
    }

    evil = await client.get(path, headers={"Origin": EVIL, **bearer(key)})
    listed = await client.get(path, headers={"Origin": BACK_OFFICE, **bearer(key)})
    evil_preflight = await client.options(path, headers={"Origin": EVIL, **asked})
    listed_preflight = await client.options(path, headers={"Origin": BACK_OFFICE, **asked})

    assert evil.status_code == listed.status_code == 200
    assert "Access-Control-Allow-Origin" not in evil.headers
    assert listed.headers["Access-Control-Allow-Origin"] == BACK_OFFICE
    assert "Origin" in listed.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in listed.headers
    assert evil_preflight.status_code == 400
    assert "Access-Control-Allow-Origin" not in evil_preflight.headers
    assert listed_preflight.status_code == 200
    assert listed_preflight.headers["Access-Control-Allow-Origin"] == BACK_OFFICE
    assert "Origin" in listed_preflight.headers["Vary"]


async def test_a_public_read_with_a_key_still_answers_any_origin(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.get(
        f"/v1/offers/{world.offer.id}", headers={"Origin": EVIL, **bearer(world.partner)}
    )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_every_read_the_spec_says_needs_a_key_is_private(app: FastAPI) -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    needs_key = {
        (path, method)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method == "get" and operation.get("security") and {} not in operation["security"]
    }

    # The spec names a parameter without its route's convertor (`{application_id:uuid}`).
    private = {
        (re.sub(r":\w+}", "}", route.path), "get") for route in private_read_routes(app.routes)
    }

    assert private == needs_key


@pytest.mark.parametrize("family", ["its document", "CSV export"])
async def test_files_are_never_sniffed_nor_framed(
    client: httpx.AsyncClient, private_reads: dict[str, tuple[str, str]], family: str
) -> None:
    path, key = private_reads[family]

    response = await client.get(path, headers=bearer(key))

    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
