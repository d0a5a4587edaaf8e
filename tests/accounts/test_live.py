"""The whole life of an account through a running server, as a person with a mailbox and
a browser lives it: the server's own outbox sends every e-mail to a real SMTP server, and
each link is opened and its form posted over HTTP."""

import re
from collections.abc import Iterator
from email.message import EmailMessage
from html import unescape

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app
from tests.accounts.conftest import addressed_to
from tests.live_server import serve
from tests.mail import SmtpServer, link_in

FIRST, SECOND = "jeanne.martin@example.org", "jeanne@exemple.fr"
PASSWORD, NEW_PASSWORD = "rivière pourpre sous la pluie", "lanterne ocre du matin"


@pytest.fixture
def live(settings: Settings) -> Iterator[str]:
    with serve(create_app(settings)) as base_url:
        yield base_url


def press_the_button(http: httpx.Client, page: httpx.Response, password: str) -> httpx.Response:
    """What a browser posts: the page's form, its hidden token, the typed password."""
    assert page.status_code == 200, page.text
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', page.text)[1])  # type: ignore[index]
    token = unescape(re.search(r'name="token" value="([^"]+)"', page.text)[1])  # type: ignore[index]
    return http.post(action, data={"token": token, "password": password})


def next_mail(smtp_server: SmtpServer, count: int) -> EmailMessage:
    return smtp_server.wait_for(count)[count - 1]


def test_sign_up_change_of_address_and_reset_through_a_running_server(
    live: str, smtp_server: SmtpServer
) -> None:
    with httpx.Client(base_url=live, timeout=10) as http:
        asked = http.post("/v1/candidates", json={"email": FIRST, "password": PASSWORD})
        assert asked.status_code == 202
        verify = next_mail(smtp_server, 1)
        assert addressed_to(verify) == FIRST
        done = press_the_button(http, http.get(link_in(verify, "/v1/candidates/verify")), PASSWORD)
        assert done.status_code == 200
        assert "Adresse confirmée" in unescape(done.text)

        signed_in = http.post("/v1/auth/token", data={"username": FIRST, "password": PASSWORD})
        me = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        assert http.get("/v1/me", headers=me).json()["email_verified"] is True

        changed = http.post(
            "/v1/me/email", json={"new_email": SECOND, "password": PASSWORD}, headers=me
        )
        assert changed.status_code == 202
        confirm = next_mail(smtp_server, 2)
        assert addressed_to(confirm) == SECOND
        page = http.get(link_in(confirm, "/v1/candidates/email-change/confirm"))
        assert press_the_button(http, page, PASSWORD).status_code == 200
        told = next_mail(smtp_server, 3)
        assert addressed_to(told) == FIRST
        assert http.get("/v1/me", headers=me).json()["email"] == SECOND

        assert http.post("/v1/candidates/password-reset", json={"email": SECOND}).status_code == 202
        reset = next_mail(smtp_server, 4)
        assert addressed_to(reset) == SECOND
        page = http.get(link_in(reset, "/v1/candidates/password-reset/confirm"))
        assert press_the_button(http, page, NEW_PASSWORD).status_code == 200
        assert addressed_to(next_mail(smtp_server, 5)) == SECOND  # the password changed

        assert http.get("/v1/me", headers=me).status_code == 401
        old = http.post("/v1/auth/token", data={"username": SECOND, "password": PASSWORD})
        assert old.status_code == 400
        new = http.post("/v1/auth/token", data={"username": SECOND, "password": NEW_PASSWORD})
        assert new.status_code == 200
        gone = http.post("/v1/auth/token", data={"username": FIRST, "password": NEW_PASSWORD})
        assert gone.status_code == 400
    assert [m["Message-ID"] for m in smtp_server.messages] == list(
        dict.fromkeys(m["Message-ID"] for m in smtp_server.messages)
    )
