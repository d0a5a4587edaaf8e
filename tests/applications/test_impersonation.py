"""Must show 2 of issue 16: impersonation is harmless.

Someone applies as jeanne@example.org. Jeanne then applies herself, signed in with her
verified address: she gets through, sees only her own application, and the impersonator's
unconfirmed one is erased after 48 hours (frozen clock). No answer tells a third party
whether she applied or has an account."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Application, ApplicationDocument
from app.core.config import Settings
from tests.applications.confirming import CONFIRM, confirmation_token
from tests.applications.conftest import World, apply, candidate_token, letter
from tests.applications.files import pdf
from tests.applications.mailbox import deliver, to
from tests.applications.test_apply import stored_files
from tests.factories import PASSWORD, bearer
from tests.mail import SmtpServer, link_in, mail_settings, text_of

JEANNE = "jeanne@example.org"


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return mail_settings(settings, smtp_server)


def anonymised(answer: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    """What a third party reads of an answer, but the fresh id (and the ETag, its digest)."""
    body = answer.content.replace(answer.json()["id"].encode(), b"<id>")
    headers = sorted((name, value) for name, value in answer.headers.items() if name != "etag")
    return answer.status_code, body, headers


async def test_impersonation_is_harmless(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    smtp_server: SmtpServer,
    upload_dir: Path,
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    # The impersonator is another machine: its own client, its own address.
    transport = httpx.ASGITransport(app=app, client=("203.0.113.66", 40000))
    impersonator = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    fake_cv = ("cv.pdf", pdf(20_000), "application/pdf")
    with time_machine.travel(start, tick=False) as clock:
        async with impersonator:
            # Before Jeanne applies, and before she has an account.
            before = await apply(
                impersonator, world.offer.id, email=JEANNE, first_name="Jeanne", cv=fake_cv,
                cover_letter=letter(), message="Je retire tout ce que j'ai dit.",
            )  # fmt: skip
            unknown = await apply(impersonator, world.offer.id, email="nobody@example.org")
            assert before.status_code == 202, before.text
            fake_id = before.json()["id"]

            # Jeanne, signed in with her verified address, gets through at once.
            clock.shift(timedelta(hours=1))
            jeanne = bearer(await candidate_token(client, JEANNE))
            hers = await apply(
                client, world.offer.id, email=JEANNE, first_name="Jeanne", headers=jeanne
            )
            assert hers.status_code == 201, hers.text
            assert hers.json()["status"] == "received"
            hers_id = hers.json()["id"]

            # After she applied, with her account: the third party reads the same answers.
            after = await apply(impersonator, world.offer.id, email=JEANNE, cv=fake_cv)
            assert after.status_code == 202
            assert anonymised(before) == anonymised(after) == anonymised(unknown)
            # Nor do the account routes tell whether she has an account.
            for path, body in (
                ("/v1/candidates", {"password": "Rivière pourpre sous la pluie"}),
                ("/v1/candidates/password-reset", {}),
            ):
                hers_answer = await impersonator.post(path, json={**body, "email": JEANNE})
                nobodys = await impersonator.post(path, json={**body, "email": "nul@example.org"})
                assert hers_answer.status_code == nobodys.status_code == 202, path
                assert hers_answer.content == nobodys.content, path

        # She sees her own application only; the impersonator's is nowhere she looks.
        mine = await client.get("/v1/me/applications", headers=jeanne)
        assert [item["id"] for item in mine.json()["items"]] == [hers_id]
        exported = (await client.get("/v1/me/export", headers=jeanne)).json()
        assert [application["id"] for application in exported["applications"]] == [hers_id]
        assert (await client.get(f"/v1/applications/{fake_id}", headers=jeanne)).status_code == 404
        # Nor does the recruiter see it: the one application is Jeanne's.
        listed = await client.get("/v1/applications", headers=bearer(world.recruiter))
        assert [item["id"] for item in listed.json()["items"]] == [hers_id]
        export = await client.get(
            f"/v1/offers/{world.offer.id}/applications.csv", headers=bearer(world.recruiter)
        )
        assert "retire" not in export.text
        assert export.text.count(hers_id) == 1

        # Her mailbox: two links for what she did not send, the receipt of what she did.
        mails = await deliver(app, smtp_server)
        about_applications = [m for m in mails if "candidature" in m["Subject"].lower()]
        assert sorted(to(m) for m in about_applications) == [
            JEANNE,
            JEANNE,
            JEANNE,
            "nobody@example.org",
        ]
        subjects = sorted(m["Subject"] for m in about_applications if to(m) == JEANNE)
        assert subjects == [
            f"Candidature reçue : {world.offer.title}",
            f"Confirmez votre candidature : {world.offer.title}",
            f"Confirmez votre candidature : {world.offer.title}",
        ]
        links = [m for m in about_applications if CONFIRM in text_of(m) and to(m) == JEANNE]
        assert all("Si ce n'est pas vous, ne faites rien" in text_of(m) for m in links)
        fake_link = link_in(links[0], CONFIRM)
        await confirmation_token(session, fake_id, mails)  # one of them is the first fake's

        fake_files = (
            (
                await session.execute(
                    select(ApplicationDocument.storage_key).where(
                        ApplicationDocument.application_id.in_(  # type: ignore[attr-defined]
                            [uuid.UUID(a.json()["id"]) for a in (before, after, unknown)]
                        )
                    )
                )
            )
            .scalars()
            .all()
        )
        assert len(fake_files) == 4
        assert len(stored_files(upload_dir)) == 5
        # The recruiter cannot open the fake, nor its files, by id either.
        recruiter = bearer(world.recruiter)
        fake_detail = await client.get(f"/v1/applications/{fake_id}", headers=recruiter)
        assert fake_detail.status_code == 404
        fake_document = (
            await session.execute(
                select(ApplicationDocument.id).where(
                    ApplicationDocument.application_id == uuid.UUID(fake_id)  # type: ignore[arg-type]
                )
            )
        ).first()
        assert fake_document is not None
        opened = await client.get(
            f"/v1/applications/{fake_id}/documents/{fake_document.id}", headers=recruiter
        )
        assert opened.status_code == 404

        # 48 hours after the last fake: the worker of the serving process erases them all,
        # with their files; Jeanne's stays, with hers.
        clock.move_to(start + timedelta(hours=49))
        assert await app.state.pending_sweeper.sweep() == 3
        session.expire_all()
        remaining = (await session.execute(select(Application))).scalars().all()
        assert [str(application.id) for application in remaining] == [hers_id]
        assert len(stored_files(upload_dir)) == 1
        assert not [key for key in fake_files if (upload_dir / key).exists()]
        # The link she ignored leads nowhere now.
        assert (await client.get(fake_link)).status_code == 400
        signed_in = await client.post(
            "/v1/auth/token", data={"username": JEANNE, "password": PASSWORD}
        )
        jeanne = bearer(signed_in.json()["access_token"])
        assert [
            item["id"]
            for item in (await client.get("/v1/me/applications", headers=jeanne)).json()["items"]
        ] == [hers_id]
        detail = await client.get(f"/v1/applications/{hers_id}", headers=jeanne)
        assert detail.status_code == 200
        assert len(detail.json()["documents"]) == 1
