"""Who may do what on every application route: anonymous, candidate A and B, the
organisation's recruiter, another organisation's recruiter, a partner, an admin, and the
follow-up tokens."""

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col

from app.applications.models import Application
from tests.applications.confirming import apply_confirmed
from tests.applications.conftest import World, apply, candidate_token
from tests.factories import bearer


@dataclass
class Actors:
    application: str
    document: str
    token_a: str
    token_b: str
    follow_up: str
    other_follow_up: str


@pytest.fixture
async def actors(client: httpx.AsyncClient, world: World) -> Actors:
    token_a = await candidate_token(client, "a@example.org")
    token_b = await candidate_token(client, "b@example.org")
    mine = await apply(client, world.offer.id, email="a@example.org", headers=bearer(token_a))
    other = await apply(client, world.offer.id, email="b@example.org", headers=bearer(token_b))
    assert mine.status_code == other.status_code == 201
    application = mine.json()["id"]
    detail = await client.get(f"/v1/applications/{application}", headers=bearer(world.admin))
    return Actors(
        application=application,
        document=detail.json()["documents"][0]["id"],
        token_a=token_a,
        token_b=token_b,
        follow_up=mine.json()["follow_up_token"],
        other_follow_up=other.json()["follow_up_token"],
    )


def _who(world: World, actors: Actors) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "candidate_a": bearer(actors.token_a),
        "candidate_b": bearer(actors.token_b),
        "follow_up": bearer(actors.follow_up),
        "other_follow_up": bearer(actors.other_follow_up),
        "recruiter": bearer(world.recruiter),
        "other_recruiter": bearer(world.other_recruiter),
        "partner": bearer(world.partner),
        "admin": bearer(world.admin),
    }


EXPECTED = {
    # route: status per actor
    "read": {
        "anonymous": 401,
        "candidate_a": 200,
        "candidate_b": 404,
        "follow_up": 200,
        "other_follow_up": 404,
        "recruiter": 200,
        "other_recruiter": 404,
        "partner": 403,
        "admin": 200,
    },
    "document": {
        "anonymous": 401,
        "candidate_a": 200,
        "candidate_b": 404,
        "follow_up": 200,
        "other_follow_up": 404,
        "recruiter": 200,
        "other_recruiter": 404,
        "partner": 403,
        "admin": 200,
    },
    "list": {
        "anonymous": 401,
        "candidate_a": 403,
        "candidate_b": 403,
        "follow_up": 403,
        "other_follow_up": 403,
        "recruiter": 200,
        "other_recruiter": 200,
        "partner": 403,
        "admin": 200,
    },
    "csv": {
        "anonymous": 401,
        "candidate_a": 403,
        "candidate_b": 403,
        "follow_up": 403,
        "other_follow_up": 403,
        "recruiter": 200,
        "other_recruiter": 404,
        "partner": 403,
        "admin": 200,
    },
    "patch": {
        "anonymous": 401,
        "candidate_a": 403,
        "candidate_b": 403,
        "follow_up": 403,
        "other_follow_up": 403,
        "recruiter": 200,
        "other_recruiter": 404,
        "partner": 403,
        "admin": 200,
    },
    "withdraw": {
        "anonymous": 401,
        "candidate_a": 200,
        "candidate_b": 404,
        "follow_up": 200,
        "other_follow_up": 404,
        "recruiter": 403,
        "other_recruiter": 403,
        "partner": 403,
        "admin": 403,
    },
    "my_applications": {
        "anonymous": 401,
        "candidate_a": 200,
        "candidate_b": 200,
        "follow_up": 403,
        "other_follow_up": 403,
        "recruiter": 403,
        "other_recruiter": 403,
        "partner": 403,
        "admin": 403,
    },
    # Candidate A erases their own application first; its follow-up token dies with it.
    "erase_one": {
        "anonymous": 401,
        "candidate_a": 204,
        "candidate_b": 404,
        "follow_up": 401,
        "other_follow_up": 404,
        "recruiter": 403,
        "other_recruiter": 403,
        "partner": 403,
        "admin": 403,
    },
    # Each with an address other than a verified account's own: pending (202).
    "apply": {
        "anonymous": 202,
        "candidate_a": 202,
        "candidate_b": 202,
        "follow_up": 403,
        "other_follow_up": 403,
        "recruiter": 403,
        "other_recruiter": 403,
        "partner": 202,
        "admin": 403,
    },
    "export": {
        "anonymous": 401,
        "candidate_a": 200,
        "candidate_b": 200,
        "follow_up": 403,
        "other_follow_up": 403,
        "recruiter": 403,
        "other_recruiter": 403,
        "partner": 403,
        "admin": 403,
    },
    # Candidate A erases first, which kills the follow-up token of A's application (401);
    # B's erasure kills the other one.
    "erase": {
        "anonymous": 401,
        "candidate_a": 204,
        "candidate_b": 204,
        "follow_up": 401,
        "other_follow_up": 401,
        "recruiter": 403,
        "other_recruiter": 403,
        "partner": 403,
        "admin": 403,
    },
    "me": {
        "anonymous": 401,
        "candidate_a": 200,
        "candidate_b": 200,
        "follow_up": 403,
        "other_follow_up": 403,
        "recruiter": 403,
        "other_recruiter": 403,
        "partner": 403,
        "admin": 403,
    },
}


@pytest.mark.parametrize("route", sorted(EXPECTED))
async def test_authorisation_matrix(
    client: httpx.AsyncClient, world: World, actors: Actors, route: str
) -> None:
    app_url = f"/v1/applications/{actors.application}"
    for actor, headers in _who(world, actors).items():
        expected = EXPECTED[route][actor]
        if route == "read":
            response = await client.get(app_url, headers=headers)
        elif route == "document":
            response = await client.get(f"{app_url}/documents/{actors.document}", headers=headers)
        elif route == "list":
            response = await client.get("/v1/applications", headers=headers)
        elif route == "csv":
            response = await client.get(
                f"/v1/offers/{world.offer.id}/applications.csv", headers=headers
            )
        elif route == "patch":
            # "rejected" is reachable from every open state, so each allowed actor succeeds
            # only while the application is open: test on a fresh one each time.
            fresh = await apply_confirmed(client, world.offer.id, email=f"{actor}@example.org")
            response = await client.patch(
                f"/v1/applications/{fresh.json()['id']}",
                json={"status": "in_review"},
                headers=headers,
            )
        elif route == "withdraw":
            response = await client.post(f"{app_url}/withdraw", headers=headers)
            if response.status_code == 200:
                # Reopen the state for the next actor: withdraw is final otherwise.
                await _reset(client, world, actors)
        elif route == "apply":
            response = await apply(
                client, world.offer.id, email=f"{actor}-applies@example.org", headers=headers
            )
        elif route == "my_applications":
            response = await client.get("/v1/me/applications", headers=headers)
        elif route == "erase_one":
            response = await client.delete(app_url, headers=headers)
        elif route == "export":
            response = await client.get("/v1/me/export", headers=headers)
        elif route == "erase":
            response = await client.delete("/v1/me", headers=headers)
        else:
            response = await client.get("/v1/me", headers=headers)
        assert response.status_code == expected, (route, actor, response.text)
        if expected >= 400:
            assert response.headers["content-type"] == "application/problem+json"
            assert "camille" not in response.text.lower()
        if expected == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")


async def _reset(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    database = client._transport.app.state.database  # type: ignore[attr-defined]
    async with database.sessions() as session:
        await session.execute(
            update(Application)
            .where(col(Application.id) == uuid.UUID(actors.application))
            .values(status="received")
        )
        await session.commit()


async def test_recruiter_list_shows_only_its_organisation(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    own = await client.get("/v1/applications", headers=bearer(world.recruiter))
    assert len(own.json()["items"]) == 2
    other = await client.get("/v1/applications", headers=bearer(world.other_recruiter))
    assert other.json()["items"] == []


async def test_a_follow_up_token_opens_nothing_else(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    headers = bearer(actors.follow_up)
    assert (await client.get("/v1/me", headers=headers)).status_code == 403
    assert (await client.get("/v1/applications", headers=headers)).status_code == 403
    assert (await client.post("/v1/offers", json={}, headers=headers)).status_code == 403
    assert (await client.get(f"/v1/offers/{world.offer.id}", headers=headers)).status_code == 200
