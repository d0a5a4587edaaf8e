"""What the service tells people of received applications (issue 16), against a real SMTP
server: the candidate of each status a recruiter gives, the organisation of each new
application at once or in a daily digest, at the hour it is due."""

import asyncio
import re
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.digest import DigestWorker
from app.core.config import Settings
from app.events import HANDLERS, Event
from tests.applications.confirming import CONFIRM, apply_confirmed, confirm, token_of
from tests.applications.conftest import World, apply, candidate_token
from tests.applications.mailbox import by_recipient, deliver, to
from tests.factories import bearer, make_offer
from tests.mail import SmtpServer, html_of, link_in, mail_settings, text_of

PARIS = ZoneInfo("Europe/Paris")
NOTIFY = "recrutement@etat-lin.example.org"
# What the candidate sent, which the recruiter's e-mails must not carry.
CANDIDATE_DATA = ["Camille", "Durand", "camille.durand@example.org", "0612345678", "Très motivée"]


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return mail_settings(settings, smtp_server)


async def notify(client: httpx.AsyncClient, world: World, frequency: str) -> httpx.Response:
    changed = await client.patch(
        f"/v1/organisations/{world.organisation.slug}",
        json={"notification_email": NOTIFY, "notification_frequency": frequency},
        headers=bearer(world.recruiter),
    )
    assert changed.status_code == 200, changed.text
    return changed


async def signed_in_application(client: httpx.AsyncClient, world: World, **fields: Any) -> str:
    token = await candidate_token(client, "camille.durand@example.org")
    applied = await apply(
        client,
        world.offer.id,
        headers=bearer(token),
        phone="0612345678",
        message="Très motivée",
        **fields,
    )
    assert applied.status_code == 201, applied.text
    return str(applied.json()["id"])


async def test_the_settings_are_the_organisations_own(
    client: httpx.AsyncClient, world: World
) -> None:
    changed = await notify(client, world, "daily")
    assert changed.json()["notification_email"] == NOTIFY
    assert changed.json()["notification_frequency"] == "daily"

    private = f"/v1/organisations/{world.organisation.slug}/private"
    read = await client.get(private, headers=bearer(world.recruiter))
    assert read.status_code == 200
    assert read.headers["cache-control"] == "private, no-store"
    assert (read.json()["notification_email"], read.json()["notification_frequency"]) == (
        NOTIFY,
        "daily",
    )
    assert (await client.get(private, headers=bearer(world.admin))).status_code == 200
    assert (await client.get(private, headers=bearer(world.other_recruiter))).status_code == 403
    assert (await client.get(private, headers=bearer(world.partner))).status_code == 403
    assert (await client.get(private)).status_code == 401

    public = await client.get(f"/v1/organisations/{world.organisation.slug}")
    assert "notification" not in public.text
    assert NOTIFY not in public.text
    listed = await client.get("/v1/organisations")
    assert NOTIFY not in listed.text

    other = await client.patch(
        f"/v1/organisations/{world.organisation.slug}",
        json={"notification_email": "x@example.org"},
        headers=bearer(world.other_recruiter),
    )
    assert other.status_code == 403
    for wrong in ({"notification_frequency": "weekly"}, {"notification_frequency": None},
                  {"notification_email": "pas une adresse"}):  # fmt: skip
        refused = await client.patch(
            f"/v1/organisations/{world.organisation.slug}",
            json=wrong,
            headers=bearer(world.recruiter),
        )
        assert refused.status_code == 422, (wrong, refused.text)
    cleared = await client.patch(
        f"/v1/organisations/{world.organisation.slug}",
        json={"notification_email": None},
        headers=bearer(world.recruiter),
    )
    assert cleared.json()["notification_email"] is None


async def test_the_candidate_is_told_of_each_status_and_of_the_note_when_shared(
    app: Any, client: httpx.AsyncClient, world: World, smtp_server: SmtpServer
) -> None:
    application_id = await signed_in_application(client, world)
    [receipt] = await deliver(app, smtp_server)
    assert receipt["Subject"] == f"Candidature reçue : {world.offer.title}"
    assert "espace candidat" in text_of(receipt)
    assert "app_" not in text_of(receipt)  # the token went in the answer, to the account

    url, key = f"/v1/applications/{application_id}", bearer(world.recruiter)
    kept_back = "Profil à comparer avec la candidature de Dominique"
    moved = await client.patch(url, json={"status": "in_review", "note": kept_back}, headers=key)
    assert moved.status_code == 200, moved.text
    [in_review] = await deliver(app, smtp_server)
    assert to(in_review) == "camille.durand@example.org"
    assert in_review["Subject"] == f"Votre candidature « {world.offer.title} » : en cours d'examen"
    assert "Dominique" not in text_of(in_review) + html_of(in_review)
    assert "Message du recruteur" not in text_of(in_review)

    shared = "Entretien mardi à 10 h <b>au 2e étage</b>"
    moved = await client.patch(
        url, json={"status": "interview", "note": shared, "share_note": True}, headers=key
    )
    assert moved.status_code == 200, moved.text
    [interview] = await deliver(app, smtp_server)
    assert "retenue pour un entretien" in interview["Subject"]
    assert shared in text_of(interview)
    assert "Entretien mardi à 10 h &lt;b&gt;au 2e étage&lt;/b&gt;" in html_of(interview)
    # The note is in the history either way, for the recruiter and the candidate.
    history = moved.json()["history"]
    assert [event["note"] for event in history[-2:]] == [kept_back, shared]

    refused = await client.patch(url, json={"status": "received"}, headers=key)
    assert refused.status_code == 409
    assert await deliver(app, smtp_server) == []  # a refused change tells nobody

    rejected = await client.patch(url, json={"status": "rejected", "share_note": True}, headers=key)
    assert rejected.status_code == 200
    [last] = await deliver(app, smtp_server)
    assert last["Subject"].endswith(": non retenue")
    assert "Message du recruteur" not in text_of(last)


async def test_the_organisation_is_told_at_once_without_the_candidates_data(
    app: Any, client: httpx.AsyncClient, world: World, smtp_server: SmtpServer
) -> None:
    """Must show 1, the recruiter's notification at once."""
    await notify(client, world, "immediate")
    application_id = await signed_in_application(client, world)
    mails = by_recipient(await deliver(app, smtp_server))
    [told] = mails[NOTIFY]
    assert told["Subject"] == f"Nouvelle candidature : {world.offer.title}"
    body = text_of(told) + html_of(told)
    assert f"http://testserver/v1/applications/{application_id}" in body
    assert f"http://testserver/v1/applications?offer_id={world.offer.id}" in text_of(told)
    assert world.organisation.name in body
    assert not [data for data in CANDIDATE_DATA if data in body]
    assert list(told.iter_attachments()) == []

    # A pending application tells nobody; its confirmation does.
    pending = await apply(client, world.offer.id, email="claude@example.org")
    [confirmation] = await deliver(app, smtp_server)
    assert to(confirmation) == "claude@example.org"
    token = token_of(link_in(confirmation, CONFIRM))
    assert (await client.post(CONFIRM, json={"token": token})).status_code == 200
    mails = by_recipient(await deliver(app, smtp_server))
    assert sorted(mails) == ["claude@example.org", NOTIFY]
    assert pending.json()["id"] in text_of(mails[NOTIFY][0])


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day.date(), time(hour, minute), PARIS)


async def test_the_daily_digest_lists_what_came_since_the_last_one(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    smtp_server: SmtpServer,
) -> None:
    """Must show 1, the recruiter's notification as a digest, at VOCATION_DIGEST_HOUR (8)
    Paris time."""
    await notify(client, world, "daily")
    second_offer = await make_offer(session, world.organisation, reference="B-2")
    tomorrow = datetime.now(PARIS) + timedelta(days=1)
    worker: DigestWorker = app.state.digest_worker
    with time_machine.travel(at(tomorrow, 7, 30), tick=False) as clock:
        first = await signed_in_application(client, world)
        second = (await apply_confirmed(client, second_offer.id, email="b@example.org")).json()
        await apply(client, world.offer.id, email="never-confirmed@example.org")
        # Nothing for the organisation until the hour.
        assert NOTIFY not in by_recipient(await deliver(app, smtp_server))
        assert await worker.send_due() == 0
        assert await deliver(app, smtp_server) == []

        clock.move_to(at(tomorrow, 8, 0))
        assert await worker.send_due() == 1
        [digest] = await deliver(app, smtp_server)
        assert to(digest) == NOTIFY
        assert digest["Subject"] == f"2 nouvelles candidatures pour {world.organisation.name}"
        text = text_of(digest)
        assert f"« {world.offer.title} »" in text
        assert f"« {second_offer.title} » (référence B-2)" in text
        listed = re.findall(r"http://localhost:8000/v1/applications/([0-9a-f-]{36})", text)
        assert sorted(listed) == sorted([first, second["id"]])
        assert not [data for data in CANDIDATE_DATA if data in text + html_of(digest)]

        # Sent once: again in this process, or by another process's worker.
        clock.move_to(at(tomorrow, 9, 0))
        late = (await apply_confirmed(client, world.offer.id, email="late@example.org")).json()
        other_process = DigestWorker(
            app.state.database, zone=PARIS, hour=8, base="http://localhost:8000", poll_seconds=0
        )
        assert await worker.send_due() == 0
        assert await other_process.send_due() == 0
        assert NOTIFY not in by_recipient(await deliver(app, smtp_server))

        # Two processes' workers at the same moment: one digest, listing each once.
        clock.move_to(at(tomorrow + timedelta(days=1), 8, 0))
        both = await asyncio.gather(
            worker.send_due(), other_process.send_due(), return_exceptions=True
        )
        assert sum(sent for sent in both if isinstance(sent, int)) == 1
        [next_day] = await deliver(app, smtp_server)
        assert re.findall(r"/v1/applications/([0-9a-f-]{36})", text_of(next_day)) == [late["id"]]
        assert next_day["Subject"] == f"1 nouvelle candidature pour {world.organisation.name}"


async def test_no_notification_address_tells_nobody(
    app: Any, client: httpx.AsyncClient, world: World, smtp_server: SmtpServer
) -> None:
    await signed_in_application(client, world)
    assert [to(m) for m in await deliver(app, smtp_server)] == ["camille.durand@example.org"]
    assert await app.state.digest_worker.send_due() == 0


@pytest.fixture
def emitted(app: Any) -> list[Event]:
    """The domain events the application's sessions emit, as a subscriber receives them."""
    events: list[Event] = []

    async def record(_session: AsyncSession, batch: Sequence[Event]) -> None:
        events.extend(batch)

    app.state.database.sessions.kw["info"][HANDLERS].append(record)
    return events


async def test_application_received_is_emitted_when_received_with_ids_only(
    client: httpx.AsyncClient, world: World, emitted: list[Event]
) -> None:
    pending = await apply(
        client,
        world.offer.id,
        email="claude@example.org",
        phone="0612345678",
        message="Très motivée",
    )
    assert emitted == []  # nothing while pending
    confirmed = await confirm(client, pending)
    assert confirmed.status_code == 200
    signed_in = await signed_in_application(client, world)
    await client.patch(
        f"/v1/applications/{signed_in}",
        json={"status": "in_review"},
        headers=bearer(world.recruiter),
    )
    assert [event.type for event in emitted] == ["application.received"] * 2
    for event, application_id in zip(emitted, [pending.json()["id"], signed_in], strict=True):
        assert event.organisation_id == world.organisation.id
        assert event.offer_id == world.offer.id
        # Ids only: whatever is here may leave the service (webhooks add the links).
        assert event.data == {"application_id": application_id, "offer_id": str(world.offer.id)}
        assert not [data for data in CANDIDATE_DATA if data in repr(event)]
