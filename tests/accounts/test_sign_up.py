"""Sign-up proves the address: nothing is created until the e-mailed link is used, with the
password chosen at sign-up, once, within 24 hours. Against a real SMTP server."""

from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import time_machine
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidates.models import Candidate
from tests.accounts.conftest import addressed_to, assert_french_text_and_html, delivered
from tests.accounts.flows import token_of
from tests.factories import bearer, make_candidate
from tests.mail import SmtpServer, html_of, link_in, text_of

EMAIL, PASSWORD = "jeanne.martin@example.org", "rivière pourpre sous la pluie"
VERIFY = "/v1/candidates/verify"


async def accounts(session: AsyncSession) -> int:
    session.expire_all()
    return int((await session.execute(select(func.count()).select_from(Candidate))).scalar_one())


async def test_sign_up_mails_a_link_that_makes_the_account_proven(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    asked = await client.post("/v1/candidates", json={"email": EMAIL, "password": PASSWORD})
    assert asked.status_code == 202, asked.text
    assert asked.json() == {
        "status": "check_your_email",
        "detail": "An e-mail is on its way to this address: follow its link.",
    }
    assert asked.headers["cache-control"] == "private, no-store"
    # Nothing exists yet: not signing in, not an account.
    assert await accounts(session) == 0
    early = await client.post("/v1/auth/token", data={"username": EMAIL, "password": PASSWORD})
    assert early.status_code == 400

    [mail] = await delivered(app, smtp_server)
    assert addressed_to(mail) == EMAIL
    assert mail["Subject"] == "Confirmez votre adresse pour créer votre compte Vocation"
    assert_french_text_and_html(mail)
    assert "Ce lien sert une seule fois et expire dans 24 heures." in text_of(mail)
    assert "Confirmer mon adresse" in html_of(mail)
    link = link_in(mail, VERIFY)
    assert link.startswith("http://testserver/v1/candidates/verify?token=")
    assert link in html_of(mail)

    # Opening the link (a person, or a mail scanner) shows a form and changes nothing.
    page = await client.get(link)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="fr">' in page.text
    assert f'value="{token_of(link)}"' in page.text
    assert '<label for="password">' in page.text
    assert EMAIL in page.text
    assert await accounts(session) == 0

    # The form's button: the account is made, its address proven.
    done = await client.post(VERIFY, data={"token": token_of(link), "password": PASSWORD})
    assert done.status_code == 200, done.text
    assert done.headers["content-type"] == "text/html; charset=utf-8"
    assert "Adresse confirmée" in done.text
    candidate = (await session.execute(select(Candidate))).scalar_one()
    assert candidate.email == EMAIL
    assert candidate.email_verified_at is not None
    assert candidate.password_hash.startswith("$argon2")

    signed_in = await client.post("/v1/auth/token", data={"username": EMAIL, "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    me = await client.get("/v1/me", headers=bearer(signed_in.json()["access_token"]))
    assert me.json()["email_verified"] is True

    # Once only: the page, the form and JSON all refuse it now.
    again = await client.get(link)
    assert again.status_code == 400
    assert "Ce lien n'est plus valide" in unescape(again.text)
    reused = await client.post(VERIFY, json={"token": token_of(link), "password": PASSWORD})
    assert reused.status_code == 400
    assert reused.headers["content-type"] == "application/problem+json"
    assert reused.json()["type"] == "urn:vocation:problem:invalid-link"
    assert await accounts(session) == 1


async def test_signing_up_with_an_address_that_has_an_account_answers_the_same(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    owner = await make_candidate(session, EMAIL, PASSWORD)
    owner_id, hash_before = owner.id, owner.password_hash

    async def sign_up(email: str, password: str) -> httpx.Response:
        return await client.post("/v1/candidates", json={"email": email, "password": password})

    def shape(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "date"]
        return response.status_code, response.content, headers

    stranger = "personne.nouvelle@example.org"
    existing = await sign_up(EMAIL, "cheval agrafe batterie correcte")
    new = await sign_up(stranger, "cheval agrafe batterie correcte")
    assert existing.status_code == 202
    assert shape(existing) == shape(new)
    # A weak password is refused alike too: the reason names the password, not the account.
    weak_existing, weak_new = (
        await sign_up(EMAIL, "password123"),
        await sign_up(stranger, "password123"),
    )
    assert weak_existing.status_code == 422
    assert shape(weak_existing) == shape(weak_new)

    mails = {addressed_to(mail): mail for mail in await delivered(app, smtp_server)}
    assert set(mails) == {EMAIL, stranger}
    warning = mails[EMAIL]
    assert_french_text_and_html(warning)
    assert warning["Subject"] == "Quelqu'un a voulu créer un compte Vocation avec votre adresse"
    assert "Aucun compte n'a été créé et le vôtre n'a pas changé." in text_of(warning)
    assert mails[stranger]["Subject"].startswith("Confirmez votre adresse")
    # The account is as it was: same row, same password; the new password opens nothing.
    assert await accounts(session) == 1
    stored = await session.get(Candidate, owner_id)
    assert stored is not None
    assert stored.password_hash == hash_before
    taken = await client.post(
        "/v1/auth/token",
        data={"username": EMAIL, "password": "cheval agrafe batterie correcte"},
    )
    assert taken.status_code == 400
    # The warning's link lets an owner who forgot the password choose another.
    reset = link_in(warning, "/v1/candidates/password-reset/confirm")
    assert (await client.get(reset)).status_code == 200


async def test_the_link_asks_for_the_password_chosen_at_sign_up(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    # Someone signs up with Jeanne's address: Jeanne gets the link, but using it needs the
    # password the other person chose, so her click cannot hand them a proven account.
    await client.post("/v1/candidates", json={"email": EMAIL, "password": PASSWORD})
    [mail] = await delivered(app, smtp_server)
    token = token_of(link_in(mail, VERIFY))

    wrong = await client.post(VERIFY, json={"token": token, "password": "un autre mot de passe"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"field": "password", "message": "not the account's password"}
    ]
    page = await client.post(VERIFY, data={"token": token, "password": "pas le bon"})
    assert page.status_code == 422
    assert "Erreur : ce n'est pas le mot de passe choisi pour ce compte." in unescape(page.text)
    assert 'aria-invalid="true"' in page.text
    assert f'value="{token}"' in page.text
    assert await accounts(session) == 0
    # A wrong password does not spend the link.
    right = await client.post(VERIFY, json={"token": token, "password": PASSWORD})
    assert right.status_code == 200, right.text
    assert right.json()["email"] == EMAIL
    assert right.json()["email_verified"] is True


async def test_the_link_expires_after_24_hours(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False) as clock:
        await client.post("/v1/candidates", json={"email": EMAIL, "password": PASSWORD})
        [mail] = await delivered(app, smtp_server)
        link = link_in(mail, VERIFY)
        clock.shift(timedelta(hours=23, minutes=59))
        assert (await client.get(link)).status_code == 200
        clock.shift(timedelta(minutes=2))
        assert (await client.get(link)).status_code == 400
        late = await client.post(VERIFY, json={"token": token_of(link), "password": PASSWORD})
        assert late.status_code == 400
        assert late.json()["type"] == "urn:vocation:problem:invalid-link"
    assert await accounts(session) == 0


async def test_of_two_links_for_one_address_the_first_used_makes_the_account(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    for _ in range(2):
        await client.post("/v1/candidates", json={"email": EMAIL, "password": PASSWORD})
    first, second = (token_of(link_in(m, VERIFY)) for m in await delivered(app, smtp_server))
    assert (await client.post(VERIFY, json={"token": second, "password": PASSWORD})).is_success
    late = await client.post(VERIFY, json={"token": first, "password": PASSWORD})
    assert late.status_code == 400
    assert await accounts(session) == 1


async def test_an_older_account_signs_in_and_proves_its_address_when_it_asks(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    await make_candidate(session, EMAIL, PASSWORD, verified=False)
    signed_in = await client.post("/v1/auth/token", data={"username": EMAIL, "password": PASSWORD})
    assert signed_in.status_code == 200
    token = bearer(signed_in.json()["access_token"])
    assert (await client.get("/v1/me", headers=token)).json()["email_verified"] is False

    sent = await client.post("/v1/candidates/verification", headers=token)
    assert sent.status_code == 202, sent.text
    [mail] = await delivered(app, smtp_server)
    assert mail["Subject"] == "Confirmez l'adresse de votre compte Vocation"
    link = link_in(mail, VERIFY)
    proven = await client.post(VERIFY, json={"token": token_of(link), "password": PASSWORD})
    assert proven.status_code == 200, proven.text
    assert (await client.get("/v1/me", headers=token)).json()["email_verified"] is True
    assert (await client.post("/v1/candidates/verification", headers=token)).status_code == 409
    assert (await client.post("/v1/candidates/verification")).status_code == 401
