"""Accounts by e-mail, against a real SMTP server (aiosmtpd): the app sends through it."""

import re
from email.message import EmailMessage
from typing import Any

import pytest

from app.core.config import Settings
from tests.mail import SmtpServer, mail_settings
from tests.mail import smtp_server as smtp_server


@pytest.fixture
def settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    # The per-address limit (10 a minute) has its own test (test_limits.py); a flow here
    # makes more requests than that from the one test address.
    return mail_settings(settings, smtp_server).model_copy(update={"rate_limit_sign_in": ""})


async def delivered(app: Any, smtp_server: SmtpServer) -> list[EmailMessage]:
    """Send what the outbox holds, now, as the serving process would; every mail the SMTP
    server has received since the test began."""
    await app.state.outbox.drain()
    return list(smtp_server.messages)


def addressed_to(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


def assert_french_text_and_html(message: EmailMessage) -> None:
    """What every account e-mail is: French, plain text and HTML, a Message-ID that the
    outbox keeps across attempts, and a machine's message (no out-of-office answers)."""
    assert message["Content-Language"] == "fr"
    assert message["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<[0-9a-f]{32}@localhost>", message["Message-ID"]), message["Message-ID"]
    assert message.get_body(preferencelist=("plain",)) is not None
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert '<html lang="fr">' in str(html.get_content())
