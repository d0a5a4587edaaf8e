"""Applications made without a proven address (issue 16): pending until the link e-mailed
to the address is used, seen by nobody until then, blocking nobody, answered the same
whatever that address did before, and erased with their files 48 hours after they were
made. Against a real SMTP server."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Application, ApplicationDocument
from app.applications.purge import purge
from app.core.config import Settings
from tests.applications.confirming import CONFIRM, confirmation_token, token_of
from tests.applications.conftest import World, apply, candidate_token, letter
from tests.applications.mailbox import deliver, to
from tests.applications.test_apply import stored_files
from tests.factories import bearer
from tests.mail import SmtpServer, html_of, link_in, mail_settings, text_of

PARIS = ZoneInfo("Europe/Paris")
PENDING = {"status": "pending", "follow_up_token": None}


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return mail_settings(settings, smtp_server)


async def count(session: AsyncSession, model: type) -> int:
    session.expire_all()
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def recruiter_sees(client: httpx.AsyncClient, world: World) -> list[str]:
    listed = await client.get("/v1/applications", headers=bearer(world.recruiter))
    assert listed.status_code == 200
    return [item["id"] for item in listed.json()["items"]]


async def test_an_application_is_confirmed_by_the_link_e_mailed_to_its_address(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    smtp_server: SmtpServer,
) -> None:
    """Must show 1, applications: the confirmation, then the receipt."""
    recruiter = bearer(world.recruiter)
    applied = await apply(client, world.offer.id, cover_letter=letter(), phone="0612345678")
    assert applied.status_code == 202, applied.text
    application_id = applied.json()["id"]
    assert applied.json() == {"id": application_id, **PENDING}

    # Nobody sees it: no list, no detail, no document, no export line.
    assert await recruiter_sees(client, world) == []
    assert (
        await client.get(f"/v1/applications/{application_id}", headers=recruiter)
    ).status_code == 404
    document = (await session.execute(select(ApplicationDocument))).scalars().first()
    assert document is not None
    download = f"/v1/applications/{application_id}/documents/{document.id}"
    assert (await client.get(download, headers=bearer(world.admin))).status_code == 404
    export = await client.get(f"/v1/offers/{world.offer.id}/applications.csv", headers=recruiter)
    assert export.content.decode("utf-8-sig").strip().count("\n") == 0

    [confirmation] = await deliver(app, smtp_server)
    assert to(confirmation) == "camille.durand@example.org"
    assert confirmation["Subject"] == f"Confirmez votre candidature : {world.offer.title}"
    assert "Si ce n'est pas vous, ne faites rien" in text_of(confirmation)
    assert "48 heures" in text_of(confirmation)
    link = link_in(confirmation, CONFIRM)
    assert link.startswith("http://testserver/v1/applications/confirm?token=")
    assert link in html_of(confirmation).replace("&amp;", "&")

    # Opening the link (or a mail scanner doing so) changes nothing.
    for _ in range(2):
        page = await client.get(link)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["cache-control"] == "no-store"
        assert world.offer.title in page.text
        assert 'method="post"' in page.text
        assert "Confirmer ma candidature" in page.text
    assert await recruiter_sees(client, world) == []

    # The page's button posts the token as a form.
    confirmed = await client.post(CONFIRM, data={"token": token_of(link)})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.headers["content-type"].startswith("text/html")
    assert "Candidature confirmée" in confirmed.text
    assert await recruiter_sees(client, world) == [application_id]

    [receipt] = await deliver(app, smtp_server)
    assert to(receipt) == "camille.durand@example.org"
    assert receipt["Subject"] == f"Candidature reçue : {world.offer.title}"
    assert receipt["Message-ID"] != confirmation["Message-ID"]
    follow_up = re.search(r"app_[A-Za-z0-9_-]{40,}", text_of(receipt))
    assert follow_up is not None
    assert follow_up.group() in html_of(receipt)
    mine = await client.get(f"/v1/applications/{application_id}", headers=bearer(follow_up.group()))
    assert mine.status_code == 200
    assert mine.json()["status"] == "received"
    assert [event["to_status"] for event in mine.json()["history"]] == ["received"]

    # The link worked once.
    assert (await client.get(link)).status_code == 400
    again = await client.post(CONFIRM, data={"token": token_of(link)})
    assert again.status_code == 400
    assert "plus valide" in again.text


async def test_a_program_confirms_with_json(
    app: Any, client: httpx.AsyncClient, world: World, smtp_server: SmtpServer
) -> None:
    applied = await apply(client, world.offer.id)
    [confirmation] = await deliver(app, smtp_server)
    token = token_of(link_in(confirmation, CONFIRM))

    confirmed = await client.post(CONFIRM, json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.headers["cache-control"] == "private, no-store"
    body = confirmed.json()
    assert (body["id"], body["status"]) == (applied.json()["id"], "received")
    detail = await client.get(
        f"/v1/applications/{body['id']}", headers=bearer(body["follow_up_token"])
    )
    assert detail.status_code == 200

    spent = await client.post(CONFIRM, json={"token": token})
    assert spent.status_code == 400
    assert spent.headers["content-type"] == "application/problem+json"
    assert spent.json()["type"].endswith("invalid-link")
    unknown = await client.post(CONFIRM, json={"token": "x" * 43})
    assert unknown.json() == spent.json()
    assert (await client.post(CONFIRM, json={"token": ""})).status_code == 422
    assert (await client.post(CONFIRM, json=["token"])).status_code == 422
    assert (await client.get(CONFIRM)).status_code == 400


async def test_the_answer_is_the_same_whatever_the_address_did_before(
    client: httpx.AsyncClient, world: World
) -> None:
    """No answer tells whether an address applied, or has an account."""
    known = "dominique@example.org"
    token = await candidate_token(client, known)
    assert (
        await apply(client, world.offer.id, email=known, headers=bearer(token))
    ).status_code == 201

    answers = [
        await apply(client, world.offer.id, email="nouvelle@example.org"),
        await apply(client, world.offer.id, email=known),
        await apply(client, world.offer.id, email="NOUVELLE@example.org"),
        await apply(client, world.offer.id, email=known.upper()),
        await apply(client, world.offer.id, email=known, headers=bearer(world.partner)),
    ]
    assert {answer.status_code for answer in answers} == {202}
    bodies = {answer.content.replace(answer.json()["id"].encode(), b"<id>") for answer in answers}
    assert bodies == {b'{"id":"<id>","status":"pending","follow_up_token":null}'}
    # The same headers too, but the ETag, a digest of the body and so of its fresh id.
    headers = {
        tuple(sorted((name, value) for name, value in answer.headers.items() if name != "etag"))
        for answer in answers
    }
    assert len(headers) == 1
    assert len({answer.json()["id"] for answer in answers}) == len(answers)


async def test_pending_applications_block_nobody_and_a_duplicate_is_told_on_its_page(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    smtp_server: SmtpServer,
    upload_dir: Path,
) -> None:
    first = await apply(client, world.offer.id)
    second = await apply(client, world.offer.id, cover_letter=letter())
    assert first.status_code == second.status_code == 202
    mails = await deliver(app, smtp_server)
    tokens = [
        await confirmation_token(session, answer.json()["id"], mails) for answer in (first, second)
    ]
    assert len(stored_files(upload_dir)) == 3

    assert (await client.post(CONFIRM, data={"token": tokens[0]})).status_code == 200
    duplicate = await client.post(CONFIRM, data={"token": tokens[1]})
    assert duplicate.status_code == 409
    assert "déjà postulé" in duplicate.text
    # The duplicate is gone at once, files and rows; the first stays as it was.
    assert await count(session, Application) == 1
    assert len(stored_files(upload_dir)) == 1
    assert (await client.get(CONFIRM, params={"token": tokens[1]})).status_code == 400


async def test_unconfirmed_applications_are_erased_with_their_files_after_48_hours(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    smtp_server: SmtpServer,
    upload_dir: Path,
) -> None:
    made = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    with time_machine.travel(made, tick=False) as clock:
        pending = await apply(client, world.offer.id, cover_letter=letter())
        confirmed = await apply(client, world.offer.id, email="claude@example.org")
        assert pending.status_code == confirmed.status_code == 202
        messages = await deliver(app, smtp_server)
        link = {to(m): link_in(m, CONFIRM) for m in messages}
        claude = token_of(link["claude@example.org"])
        assert (await client.post(CONFIRM, json={"token": claude})).status_code == 200
        assert len(stored_files(upload_dir)) == 3

        # The serving process's worker, 1 s before its time: nothing goes.
        clock.move_to(made + timedelta(hours=48) - timedelta(seconds=1))
        assert await app.state.pending_sweeper.sweep() == 0
        assert (await client.get(link["camille.durand@example.org"])).status_code == 200

        clock.move_to(made + timedelta(hours=48))
        sweeper = app.state.pending_sweeper
        sweeper.start()  # as at start-up: it sweeps at once, then every poll
        await sweeper.stop()
        assert await count(session, Application) == 1
        assert await count(session, ApplicationDocument) == 1
        assert len(stored_files(upload_dir)) == 1
        assert (await client.get(link["camille.durand@example.org"])).status_code == 400
        # The confirmed one stays, whatever its age.
        remaining = (await session.execute(select(Application))).scalar_one()
        assert (remaining.email, remaining.status) == ("claude@example.org", "received")


async def test_vocation_purge_erases_them_too(
    client: httpx.AsyncClient, session: AsyncSession, world: World, upload_dir: Path, app: Any
) -> None:
    applied = await apply(client, world.offer.id, cover_letter=letter())
    made = await session.get(Application, uuid.UUID(applied.json()["id"]))
    assert made is not None
    storage, grace = app.state.storage, timedelta(hours=1)
    early = await purge(
        session, storage, made.created_at + timedelta(hours=47), PARIS, 24, orphan_grace=grace
    )
    assert early.unconfirmed_applications == 0
    late = await purge(
        session, storage, made.created_at + timedelta(hours=48), PARIS, 24, orphan_grace=grace
    )
    assert late.unconfirmed_applications == 1
    assert "unconfirmed applications deleted: 1" in late.lines()
    assert await count(session, Application) == 0
    assert stored_files(upload_dir) == []
