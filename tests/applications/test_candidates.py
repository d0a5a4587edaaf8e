from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Application, ApplicationDocument
from app.candidates.models import Candidate, CandidateToken
from tests.applications.conftest import World, apply, candidate_token, letter
from tests.applications.test_apply import stored_files
from tests.factories import bearer


async def test_sign_up_and_sign_in(client: httpx.AsyncClient, session: AsyncSession) -> None:
    token = await candidate_token(client, "Claude.Martin@example.org")
    me = await client.get("/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["email"] == "claude.martin@example.org"
    candidate = (await session.execute(select(Candidate))).scalar_one()
    assert candidate.password_hash.startswith("$argon2")
    assert "solide" not in candidate.password_hash

    # Signing up again answers as for a new address, and changes nothing.
    again = await client.post(
        "/v1/candidates",
        json={"email": "claude.martin@example.org", "password": "cheval agrafe batterie correcte"},
    )
    assert again.status_code == 202
    await session.refresh(candidate)
    assert (await session.execute(select(Candidate.password_hash))).scalar_one() == (
        candidate.password_hash
    )
    wrong = await client.post(
        "/v1/auth/token", data={"username": "claude.martin@example.org", "password": "mauvais!!"}
    )
    unknown = await client.post(
        "/v1/auth/token", data={"username": "nobody@example.org", "password": "mauvais!!"}
    )
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"] == "invalid_grant"
    short = await client.post("/v1/candidates", json={"email": "z@example.org", "password": "x"})
    assert short.status_code == 422


async def test_withdraw_with_the_follow_up_token(client: httpx.AsyncClient, world: World) -> None:
    created = await apply(client, world.offer.id)
    url = f"/v1/applications/{created.json()['id']}"
    token = bearer(created.json()["follow_up_token"])
    assert (await client.get(url, headers=token)).json()["status"] == "received"
    withdrawn = await client.post(f"{url}/withdraw", headers=token)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["history"][-1]["actor"] == "candidate"
    assert (await client.post(f"{url}/withdraw", headers=token)).status_code == 409
    recruiter_move = await client.patch(
        url, json={"status": "in_review"}, headers=bearer(world.recruiter)
    )
    assert recruiter_move.status_code == 409


async def test_export_returns_everything_held(client: httpx.AsyncClient, world: World) -> None:
    token = await candidate_token(client, "camille.durand@example.org")
    await apply(
        client,
        world.offer.id,
        cover_letter=letter(),
        phone="0612345678",
        message="Motivée !",
        headers=bearer(token),
    )
    export = await client.get("/v1/me/export", headers=bearer(token))
    assert export.status_code == 200
    body = export.json()
    assert body["account"]["email"] == "camille.durand@example.org"
    [application] = body["applications"]
    assert (application["first_name"], application["phone"], application["message"]) == (
        "Camille",
        "0612345678",
        "Motivée !",
    )
    assert len(body["document_links"]) == 2
    for link in body["document_links"]:
        download = await client.get(link, headers=bearer(token))
        assert download.status_code == 200
        assert download.content


async def test_erasure_removes_account_rows_and_files(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path
) -> None:
    token = await candidate_token(client, "camille.durand@example.org")
    created = await apply(client, world.offer.id, cover_letter=letter(), headers=bearer(token))
    other = await apply(client, world.offer.id, email="someone@example.org")
    assert len(stored_files(upload_dir)) == 3
    await client.patch(
        f"/v1/applications/{created.json()['id']}",
        json={"status": "in_review", "note": "Camille a un beau parcours"},
        headers=bearer(world.recruiter),
    )

    erased = await client.delete("/v1/me", headers=bearer(token))
    assert erased.status_code == 204
    assert (await client.get("/v1/me", headers=bearer(token))).status_code == 401
    assert (await session.execute(select(Candidate))).scalars().all() == []
    assert (await session.execute(select(CandidateToken))).scalars().all() == []
    # Only the other candidate's file remains.
    assert len(stored_files(upload_dir)) == 1
    documents = (await session.execute(select(ApplicationDocument))).scalars().all()
    assert [str(d.application_id) for d in documents] == [other.json()["id"]]

    seen = await client.get(
        f"/v1/applications/{created.json()['id']}", headers=bearer(world.recruiter)
    )
    assert seen.status_code == 200
    body = seen.json()
    assert body["erased"] is True
    assert (body["first_name"], body["last_name"], body["email"], body["phone"]) == (None,) * 4
    assert body["documents"] == []
    assert all(event["note"] is None for event in body["history"])
    assert "camille" not in seen.text.lower()
    row = (
        await session.execute(
            select(Application).where(Application.email_hash.is_(None))  # type: ignore[union-attr]
        )
    ).scalar_one()
    assert row.email is None
    # The follow-up token died with the data.
    follow_up = bearer(created.json()["follow_up_token"])
    assert (await client.get(f"/v1/applications/{row.id}", headers=follow_up)).status_code == 401


async def test_an_expired_candidate_token_is_401(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await candidate_token(client, "late@example.org")
    await session.execute(update(CandidateToken).values(expires_at=datetime.now(UTC)))
    await session.commit()
    response = await client.get("/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_candidate_without_account_erases_with_the_follow_up_token(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path
) -> None:
    created = await apply(client, world.offer.id, cover_letter=letter())
    url = f"/v1/applications/{created.json()['id']}"
    token = bearer(created.json()["follow_up_token"])
    assert (await client.delete(url, headers=bearer(world.recruiter))).status_code == 403
    assert (await client.delete(url, headers=token)).status_code == 204
    assert stored_files(upload_dir) == []
    assert (await client.get(url, headers=token)).status_code == 401
    seen = (await client.get(url, headers=bearer(world.recruiter))).json()
    assert seen["erased"] is True
    assert seen["email"] is None


async def test_withdrawing_ends_the_process_and_shortens_retention(
    client: httpx.AsyncClient, world: World
) -> None:
    created = await apply(client, world.offer.id, keep_for_future_offers="false")
    url = f"/v1/applications/{created.json()['id']}"
    token = bearer(created.json()["follow_up_token"])
    before = (await client.get(url, headers=token)).json()["retention_until"]
    withdrawn = (await client.post(f"{url}/withdraw", headers=token)).json()
    assert withdrawn["retention_until"] < before


async def test_a_missing_stored_file_is_404_not_an_empty_200(
    client: httpx.AsyncClient, world: World, upload_dir: Path
) -> None:
    created = await apply(client, world.offer.id)
    url = f"/v1/applications/{created.json()['id']}"
    document = (await client.get(url, headers=bearer(world.recruiter))).json()["documents"][0]
    for path in stored_files(upload_dir):
        path.unlink()
    response = await client.get(
        f"{url}/documents/{document['id']}", headers=bearer(world.recruiter)
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
