"""Password reset against a real SMTP server: the same answer whatever the address; the
link works once, for an hour, and signs every session out."""

from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidates.models import Candidate
from tests.accounts.conftest import addressed_to, assert_french_text_and_html, delivered
from tests.accounts.flows import token_of
from tests.factories import bearer, make_candidate
from tests.mail import SmtpServer, link_in, text_of

EMAIL, OLD, NEW = "jeanne.martin@example.org", "un mot de passe solide", "lanterne ocre du matin"
REQUEST, CONFIRM = "/v1/candidates/password-reset", "/v1/candidates/password-reset/confirm"


async def sign_in(client: httpx.AsyncClient, password: str) -> httpx.Response:
    return await client.post("/v1/auth/token", data={"username": EMAIL, "password": password})


async def test_a_reset_ends_to_end_and_signs_every_session_out(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    # An account from before addresses were proven, locked by wrong passwords.
    candidate_id = (await make_candidate(session, EMAIL, OLD, verified=False)).id
    tokens = (await sign_in(client, OLD)).json()
    for _ in range(app.state.settings.sign_in_lockout_failures):
        await sign_in(client, "pas le bon mot de passe")
    assert (await sign_in(client, OLD)).status_code == 429

    asked = await client.post(REQUEST, json={"email": EMAIL})
    assert asked.status_code == 202
    assert asked.json()["status"] == "check_your_email"
    [mail] = await delivered(app, smtp_server)
    assert_french_text_and_html(mail)
    assert mail["Subject"] == "Choisissez un nouveau mot de passe Vocation"
    assert "expire dans une heure" in text_of(mail)
    link = link_in(mail, CONFIRM)
    token = token_of(link)

    page = await client.get(link)
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.text
    # A password too easy to guess is refused, next to its field, and the link still works.
    weak = await client.post(CONFIRM, data={"token": token, "password": "azertyuiop"})
    assert weak.status_code == 422
    assert "trop facile à deviner" in unescape(weak.text)
    weak_json = await client.post(CONFIRM, json={"token": token, "password": "password123"})
    assert weak_json.status_code == 422
    assert weak_json.json()["errors"][0]["field"] == "password"

    done = await client.post(CONFIRM, data={"token": token, "password": NEW})
    assert done.status_code == 200, done.text
    assert "Mot de passe changé" in unescape(done.text)

    # The old password no longer opens the account, the new one does, lock or no lock.
    assert (await sign_in(client, OLD)).status_code == 400
    assert (await sign_in(client, NEW)).status_code == 200
    # Every session from before is over: access and refresh tokens.
    assert (await client.get("/v1/me", headers=bearer(tokens["access_token"]))).status_code == 401
    refreshed = await client.post(
        "/v1/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
    )
    assert refreshed.status_code == 400
    # The link proved the address.
    session.expire_all()
    stored = await session.get(Candidate, candidate_id)
    assert stored is not None
    assert stored.email_verified_at is not None
    # Once only.
    again = await client.post(CONFIRM, json={"token": token, "password": "encore un autre mot"})
    assert again.status_code == 400
    assert again.json()["type"] == "urn:vocation:problem:invalid-link"
    assert (await client.get(link)).status_code == 400
    # And the owner is told.
    [*_, notice] = await delivered(app, smtp_server)
    assert addressed_to(notice) == EMAIL
    assert notice["Subject"] == "Le mot de passe de votre compte Vocation a changé"
    assert_french_text_and_html(notice)


async def test_the_request_answers_the_same_whatever_the_address(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    await make_candidate(session, EMAIL, OLD)
    nobody = "personne@example.org"

    def shape(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "date"]
        return response.status_code, response.content, headers

    known = await client.post(REQUEST, json={"email": EMAIL})
    unknown = await client.post(REQUEST, json={"email": nobody})
    assert known.status_code == 202
    assert shape(known) == shape(unknown)
    mails = {addressed_to(mail): mail for mail in await delivered(app, smtp_server)}
    # What the address holds is told to its owner alone.
    assert mails[EMAIL]["Subject"] == "Choisissez un nouveau mot de passe Vocation"
    assert mails[nobody]["Subject"] == "Votre demande de mot de passe Vocation"
    assert "aucun compte ne l'utilise" in text_of(mails[nobody])
    assert "http" not in text_of(mails[nobody])


async def test_the_link_expires_after_an_hour(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    await make_candidate(session, EMAIL, OLD)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False) as clock:
        await client.post(REQUEST, json={"email": EMAIL})
        [mail] = await delivered(app, smtp_server)
        link = link_in(mail, CONFIRM)
        clock.shift(timedelta(minutes=59))
        assert (await client.get(link)).status_code == 200
        clock.shift(timedelta(minutes=2))
        assert (await client.get(link)).status_code == 400
        late = await client.post(CONFIRM, json={"token": token_of(link), "password": NEW})
        assert late.status_code == 400
    assert (await sign_in(client, OLD)).status_code == 200


async def test_a_new_password_spends_every_link_sent_before_it(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    await make_candidate(session, EMAIL, OLD)
    for _ in range(2):
        await client.post(REQUEST, json={"email": EMAIL})
    first, second = (token_of(link_in(m, CONFIRM)) for m in await delivered(app, smtp_server))
    used = await client.post(CONFIRM, json={"token": second, "password": NEW})
    assert used.status_code == 200, used.text
    assert used.json()["email"] == EMAIL
    stale = await client.post(CONFIRM, json={"token": first, "password": "lanterne bleue du soir"})
    assert stale.status_code == 400
    assert (await sign_in(client, NEW)).status_code == 200
