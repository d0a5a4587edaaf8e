"""Changing the address against a real SMTP server: confirmed on the new address with the
password, told to the old one; the same answer whether the new address is free or not."""

from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import httpx
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts.conftest import addressed_to, assert_french_text_and_html, delivered
from tests.accounts.flows import token_of
from tests.factories import bearer, make_candidate
from tests.mail import SmtpServer, link_in, text_of

OLD, NEW, PASSWORD = "jeanne.martin@example.org", "jeanne@exemple.fr", "un mot de passe solide"
CONFIRM = "/v1/candidates/email-change/confirm"


async def signed_in(client: httpx.AsyncClient, email: str = OLD) -> dict[str, str]:
    tokens = await client.post("/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert tokens.status_code == 200, tokens.text
    return bearer(tokens.json()["access_token"])


async def ask(client: httpx.AsyncClient, headers: dict[str, str], **body: str) -> httpx.Response:
    return await client.post(
        "/v1/me/email", json={"new_email": NEW, "password": PASSWORD, **body}, headers=headers
    )


async def test_the_new_address_confirms_and_the_old_one_is_told(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    await make_candidate(session, OLD, PASSWORD)
    me = await signed_in(client)
    asked = await ask(client, me)
    assert asked.status_code == 202, asked.text
    # Nothing changes until the new address answers.
    assert (await client.get("/v1/me", headers=me)).json()["email"] == OLD

    [mail] = await delivered(app, smtp_server)
    assert addressed_to(mail) == NEW
    assert_french_text_and_html(mail)
    assert mail["Subject"] == "Confirmez la nouvelle adresse de votre compte Vocation"
    link = link_in(mail, CONFIRM)
    page = await client.get(link)
    assert page.status_code == 200
    assert NEW in page.text
    assert (await client.get("/v1/me", headers=me)).json()["email"] == OLD

    done = await client.post(CONFIRM, json={"token": token_of(link), "password": PASSWORD})
    assert done.status_code == 200, done.text
    assert done.json()["email"] == NEW
    assert done.json()["email_verified"] is True
    assert (await client.get("/v1/me", headers=me)).json()["email"] == NEW

    [_, notice] = await delivered(app, smtp_server)
    assert addressed_to(notice) == OLD
    assert_french_text_and_html(notice)
    assert notice["Subject"] == "L'adresse de votre compte Vocation a changé"
    # Enough for the owner to recognise, not the address itself.
    assert "j•••@exemple.fr" in text_of(notice)
    assert NEW not in text_of(notice)

    # The old address no longer signs in; the new one does.
    old = await client.post("/v1/auth/token", data={"username": OLD, "password": PASSWORD})
    assert old.status_code == 400
    await signed_in(client, NEW)
    # Once only.
    again = await client.post(CONFIRM, json={"token": token_of(link), "password": PASSWORD})
    assert again.status_code == 400
    form_again = await client.post(CONFIRM, data={"token": token_of(link), "password": PASSWORD})
    assert form_again.status_code == 400
    assert "Ce lien n'est plus valide" in unescape(form_again.text)


async def test_an_address_that_has_an_account_gets_the_same_answer_and_its_owner_a_notice(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    await make_candidate(session, OLD, PASSWORD)
    await make_candidate(session, NEW, "le mot de passe de l'autre")
    me = await signed_in(client)

    def shape(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "date"]
        return response.status_code, response.content, headers

    taken = await ask(client, me)
    free = await ask(client, me, new_email="libre@example.org")
    assert taken.status_code == 202
    assert shape(taken) == shape(free)
    mails = {addressed_to(mail): mail for mail in await delivered(app, smtp_server)}
    notice = mails[NEW]
    assert notice["Subject"] == "Quelqu'un a voulu donner votre adresse à un autre compte Vocation"
    assert "http" not in text_of(notice)
    assert (await client.get("/v1/me", headers=me)).json()["email"] == OLD


async def test_a_new_address_taken_meanwhile_spends_the_link(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    await make_candidate(session, OLD, PASSWORD)
    me = await signed_in(client)
    await ask(client, me)
    [mail] = await delivered(app, smtp_server)
    await make_candidate(session, NEW, "le mot de passe de l'autre")
    late = await client.post(
        CONFIRM, json={"token": token_of(link_in(mail, CONFIRM)), "password": PASSWORD}
    )
    assert late.status_code == 400
    assert late.json()["type"] == "urn:vocation:problem:invalid-link"
    assert (await client.get("/v1/me", headers=me)).json()["email"] == OLD


async def test_the_request_and_the_link_need_the_password(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    await make_candidate(session, OLD, PASSWORD)
    me = await signed_in(client)
    wrong = await ask(client, me, password="pas le bon mot de passe")
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [
        {"field": "password", "message": "not the account's password"}
    ]
    same = await ask(client, me, new_email=OLD)
    assert same.status_code == 422
    assert (
        await client.post("/v1/me/email", json={"new_email": NEW, "password": "x"})
    ).status_code == 401
    assert await delivered(app, smtp_server) == []
    # Wrong passwords here count towards the account's lockout, as at sign-in.
    for _ in range(app.state.settings.sign_in_lockout_failures - 1):
        await ask(client, me, password="pas le bon mot de passe")
    assert (await ask(client, me)).status_code == 429

    # Whoever receives the link must know the account's password too: a stranger cannot
    # tie someone else's address to their own account by sending that person a link.
    await make_candidate(session, "autre@example.org", PASSWORD)
    other = await signed_in(client, "autre@example.org")
    await ask(client, other)
    [mail] = await delivered(app, smtp_server)
    token = token_of(link_in(mail, CONFIRM))
    refused = await client.post(CONFIRM, data={"token": token, "password": "je ne le connais pas"})
    assert refused.status_code == 422
    assert "Erreur : ce n'est pas le mot de passe de ce compte." in unescape(refused.text)
    assert (await client.get("/v1/me", headers=other)).json()["email"] == "autre@example.org"


async def test_the_link_expires_after_24_hours(
    app: Any, client: httpx.AsyncClient, session: AsyncSession, smtp_server: SmtpServer
) -> None:
    await make_candidate(session, OLD, PASSWORD)
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False) as clock:
        me = await signed_in(client)
        await ask(client, me)
        [mail] = await delivered(app, smtp_server)
        link = link_in(mail, CONFIRM)
        clock.shift(timedelta(hours=24, minutes=1))
        assert (await client.get(link)).status_code == 400
        late = await client.post(CONFIRM, json={"token": token_of(link), "password": PASSWORD})
        assert late.status_code == 400
    assert await signed_in(client)  # the old address still signs in
