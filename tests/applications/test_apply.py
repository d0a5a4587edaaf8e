import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Application, ApplicationDocument
from app.core.idempotency import IdempotencyRecord
from tests.applications.confirming import apply_confirmed, confirm
from tests.applications.conftest import World, apply, candidate_token, form, letter
from tests.applications.files import odt, pdf, zip_bomb
from tests.factories import bearer, make_offer, paris_today


def stored_files(upload_dir: Path) -> list[Path]:
    return [path for path in upload_dir.rglob("*") if path.is_file()] if upload_dir.exists() else []


async def count(session: AsyncSession, model: type) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_anonymous_application_stores_rows_and_files(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path
) -> None:
    cv = pdf(50_000)
    response = await apply(
        client,
        world.offer.id,
        cv=("cv.pdf", cv, "application/pdf"),
        cover_letter=letter(),
        phone="+33 6 12 34 56 78",
        message="Bonjour, je suis très motivée.",
    )
    # Pending until the address's owner confirms it: no token for whoever typed it.
    assert response.status_code == 202, response.text
    assert response.json() == {
        "id": response.json()["id"],
        "status": "pending",
        "follow_up_token": None,
    }
    pending = (await session.execute(select(Application))).scalar_one()
    assert (pending.status, pending.email_hash, pending.follow_up_token_hash) == (
        "pending",
        None,
        None,
    )

    confirmed = await confirm(client, response)
    assert confirmed.status_code == 200, confirmed.text
    body = confirmed.json()
    assert body["id"] == response.json()["id"]
    assert body["status"] == "received"
    assert body["follow_up_token"].startswith("app_")
    assert set(body) == {"id", "status", "follow_up_token"}

    session.expire_all()
    application = (await session.execute(select(Application))).scalar_one()
    assert application.status == "received"
    assert application.follow_up_token_hash != body["follow_up_token"]
    assert application.consent_at is not None
    documents = (await session.execute(select(ApplicationDocument))).scalars().all()
    by_kind = {document.kind: document for document in documents}
    assert by_kind["cv"].content_type == "application/pdf"
    assert by_kind["cv"].size == len(cv)
    assert by_kind["cv"].sha256 == hashlib.sha256(cv).hexdigest()
    assert by_kind["cover_letter"].content_type.endswith("wordprocessingml.document")
    files = stored_files(upload_dir)
    assert len(files) == 2
    assert sorted(path.read_bytes() == cv for path in files) == [False, True]
    # Random names on disk: nothing of the candidate's file name.
    assert all("cv" not in path.name and "lettre" not in path.name for path in files)


async def test_odt_is_accepted(client: httpx.AsyncClient, world: World) -> None:
    response = await apply(client, world.offer.id, cv=("cv.odt", odt(), "text/plain"))
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("cv", "status"),
    [
        (("cv.pdf", b"", "application/pdf"), 422),
        (("cv.pdf", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf"), 415),
        (("cv.pdf", b"#!/bin/sh\nrm -rf /\n", "application/pdf"), 415),
        (("cv.docx", b"PK\x03\x04 not really a zip", "application/pdf"), 422),
        (("cv.pdf", pdf(10 * 1024 * 1024 + 1), "application/pdf"), 413),
        (("cv.docx", zip_bomb(), "application/octet-stream"), 422),
    ],
    ids=["empty", "executable", "script", "corrupt-zip", "over-limit", "zip-bomb"],
)
async def test_bad_files_are_refused_and_leave_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    upload_dir: Path,
    cv: tuple[str, bytes, str],
    status: int,
) -> None:
    response = await apply(client, world.offer.id, cv=cv)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "cv"
    assert await count(session, Application) == 0
    assert await count(session, ApplicationDocument) == 0
    assert stored_files(upload_dir) == []


async def test_a_bad_cover_letter_refuses_the_whole_application(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path
) -> None:
    response = await apply(
        client, world.offer.id, cover_letter=("lettre.pdf", b"GIF89a", "application/pdf")
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["field"] == "cover_letter"
    assert await count(session, Application) == 0
    assert stored_files(upload_dir) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x.pdf", "x.pdf"),
        ("cv.pdf\x00.php", "cv.pdf"),
        ("a" * 300 + ".pdf", None),
        ("\u202efdp.exe", None),
    ],
    ids=["traversal", "nul", "long", "rtl-override"],
)
async def test_hostile_names_are_sanitised(
    client: httpx.AsyncClient, world: World, upload_dir: Path, name: str, expected: str | None
) -> None:
    response = await apply_confirmed(client, world.offer.id, cv=(name, pdf(), "application/pdf"))
    detail = await client.get(
        f"/v1/applications/{response.json()['id']}", headers=bearer(world.recruiter)
    )
    file_name = detail.json()["documents"][0]["file_name"]
    if expected is not None:
        assert file_name == expected
    assert len(file_name) <= 120
    assert file_name.endswith(".pdf")
    assert not {"\u202e", "/", "\x00"} & set(file_name)
    assert all(path.is_relative_to(upload_dir) for path in stored_files(upload_dir))
    assert not (upload_dir.parent / "x.pdf").exists()


async def test_refused_offer_states(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    closed = await make_offer(
        session, world.organisation, status="closed", closed_at=datetime.now(UTC)
    )
    expired = await make_offer(
        session, world.organisation, deadline=paris_today() - timedelta(days=1)
    )
    draft = await make_offer(session, world.organisation, status="draft", published_at=None)
    by_email = await make_offer(
        session, world.organisation, apply_via="email", apply_email="jobs@example.org"
    )
    by_url = await make_offer(
        session,
        world.organisation,
        apply_via="url",
        apply_url="https://choisirleservicepublic.gouv.fr/",
    )
    for offer, status, words in [
        (closed, 409, "closed"),
        (expired, 409, "closed"),
        (draft, 404, "No offer"),
        (by_email, 422, "jobs@example.org"),
        (by_url, 422, "choisirleservicepublic"),
    ]:
        response = await apply(client, offer.id)
        assert response.status_code == status, (offer.status, response.text)
        assert words in response.json()["detail"]
    missing = await apply(client, "6f1c4d5e-0000-4000-8000-000000000000")
    assert missing.status_code == 404
    assert await count(session, Application) == 0


async def test_second_application_with_the_same_email_is_409(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path
) -> None:
    # The address's owner, proven: told at once.
    token = bearer(await candidate_token(client, "camille.durand@example.org"))
    assert (await apply(client, world.offer.id, headers=token)).status_code == 201
    again = await apply(client, world.offer.id, email="Camille.Durand@Example.org", headers=token)
    assert again.status_code == 409
    assert await count(session, Application) == 1
    assert len(stored_files(upload_dir)) == 1

    # Anyone else: told nothing, and the owner learns it only by the e-mailed link; the
    # second application is then erased with its file.
    anonymous = await apply(client, world.offer.id, email="ＣＡＭＩＬＬＥ.durand@example.org")
    assert anonymous.status_code == 202
    assert len(stored_files(upload_dir)) == 2
    refused = await confirm(client, anonymous)
    assert refused.status_code == 409, refused.text
    assert "already applied" in refused.json()["detail"]
    assert await count(session, Application) == 1
    assert len(stored_files(upload_dir)) == 1


async def test_consent_and_required_fields(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    no_consent = await apply(client, world.offer.id, consent="false")
    assert no_consent.status_code == 422
    assert no_consent.json()["errors"][0]["field"] == "consent"
    assert (await apply(client, world.offer.id, cv=None)).status_code == 422
    assert (await apply(client, world.offer.id, email="not-an-email")).status_code == 422
    assert (await apply(client, world.offer.id, first_name="Ca\x00mille")).status_code == 422
    assert await count(session, Application) == 0


async def test_idempotent_retry_creates_one_application(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path
) -> None:
    key = {"Idempotency-Key": "3f0c9a56-retry-1"}
    pending = await apply(client, world.offer.id, headers=key)
    pending_again = await apply(client, world.offer.id, headers=key)
    assert pending.status_code == pending_again.status_code == 202
    assert pending.content == pending_again.content
    # Confirmed meanwhile or not, a pending answer replays as it was.
    assert (await confirm(client, pending)).status_code == 200
    assert (await apply(client, world.offer.id, headers=key)).content == pending.content
    assert await count(session, Application) == 1
    assert len(stored_files(upload_dir)) == 1

    key = {"Idempotency-Key": "3f0c9a56-retry-2"}
    signed_in = {**key, **bearer(await candidate_token(client, "claude.martin@example.org"))}
    first = await apply(
        client, world.offer.id, email="claude.martin@example.org", headers=signed_in
    )
    second = await apply(
        client, world.offer.id, email="claude.martin@example.org", headers=signed_in
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert await count(session, Application) == 2
    assert len(stored_files(upload_dir)) == 2

    # Issue 15: whoever replays the key and body is not shown a token (the key is no
    # secret), and the candidate's own keeps working.
    url = f"/v1/applications/{first.json()['id']}"
    assert second.json()["follow_up_token"] is None
    assert second.json()["status"] == "received"
    assert (
        await client.get(url, headers=bearer(first.json()["follow_up_token"]))
    ).status_code == 200
    recorded = (await session.execute(select(IdempotencyRecord))).scalars().all()
    assert all("app_" not in (record.response_body or "") for record in recorded)

    other_body = await apply(
        client,
        world.offer.id,
        email="claude.martin@example.org",
        headers=signed_in,
        first_name="Dominique",
    )
    assert other_body.status_code == 422
    assert await count(session, Application) == 2


async def test_partner_and_candidate_and_recruiter_keys(
    client: httpx.AsyncClient, world: World
) -> None:
    # A partner site proves nobody's address: pending until confirmed.
    via_partner = await apply_confirmed(client, world.offer.id, headers=bearer(world.partner))
    detail = await client.get(
        f"/v1/applications/{via_partner.json()['id']}", headers=bearer(world.recruiter)
    )
    assert detail.json()["source_partner"] is True

    token = await candidate_token(client, "claude.martin@example.org")
    signed_in = await apply(
        client, world.offer.id, email="claude.martin@example.org", headers=bearer(token)
    )
    assert signed_in.status_code == 201
    mine = await client.get("/v1/me/applications", headers=bearer(token))
    assert [item["id"] for item in mine.json()["items"]] == [signed_in.json()["id"]]

    as_recruiter = await apply(
        client, world.offer.id, email="x@example.org", headers=bearer(world.recruiter)
    )
    assert as_recruiter.status_code == 403


async def test_concurrent_identical_requests_create_one_application(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path
) -> None:
    key = {"Idempotency-Key": "double-click"}
    responses = await asyncio.gather(
        *[apply(client, world.offer.id, headers=key) for _ in range(4)]
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(202) >= 1
    assert set(statuses) <= {202, 409}
    for response in responses:
        if response.status_code == 409:
            assert response.headers["retry-after"]
    assert await count(session, Application) == 1
    assert len(stored_files(upload_dir)) == 1


async def test_the_deadline_day_itself_still_takes_applications(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    last_day = await make_offer(session, world.organisation, deadline=paris_today())
    assert (await apply(client, last_day.id)).status_code == 202


async def test_a_cv_sent_as_text_is_refused_in_plain_words(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    # What a client generated from a spec without `format: binary` sends: the file's name.
    response = await client.post(
        f"/v1/offers/{world.offer.id}/applications", data={**form(), "cv": "cv.pdf"}
    )
    assert response.status_code == 422
    assert "<class" not in response.text
    assert "UploadFile" not in response.text
    assert {"field": "cv", "message": "must be a file"} in response.json()["errors"]
    assert await count(session, Application) == 0


async def test_a_replay_from_another_client_never_mints_a_token(
    app: object, client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    key = {"Idempotency-Key": "seen-in-a-proxy-log"}
    key |= bearer(await candidate_token(client, "camille.durand@example.org"))
    first = await apply(client, world.offer.id, headers=key)
    assert first.status_code == 201
    token_hash = (await session.execute(select(Application.follow_up_token_hash))).scalar_one()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        replay = await apply(other, world.offer.id, headers=key)
    assert replay.status_code == 201
    assert replay.json() == {
        "id": first.json()["id"],
        "status": "received",
        "follow_up_token": None,
    }
    session.expire_all()
    assert (
        await session.execute(select(Application.follow_up_token_hash))
    ).scalar_one() == token_hash
    url = f"/v1/applications/{first.json()['id']}"
    assert (
        await client.get(url, headers=bearer(first.json()["follow_up_token"]))
    ).status_code == 200
