"""Reading what the service e-mailed, from the real SMTP server the tests start
(tests/mail.py): the outbox is drained explicitly, as a serving process would by itself."""

import re
from email.message import EmailMessage
from typing import Any

from tests.mail import SmtpServer, html_of, text_of

MESSAGE_ID = re.compile(r"<[0-9a-f]{32}@[^>]+>")


async def deliver(app: Any, smtp: SmtpServer) -> list[EmailMessage]:
    """Send what is due, and return what arrived since the last call."""
    seen = getattr(smtp, "_seen", 0)
    await app.state.outbox.drain()
    fresh = smtp.messages[seen:]
    smtp._seen = len(smtp.messages)  # type: ignore[attr-defined]
    for message in fresh:
        assert_french_mail(message)
    return fresh


def assert_french_mail(message: EmailMessage) -> None:
    """What every e-mail of the service is: French, plain text and HTML, with an id."""
    assert message["Content-Language"] == "fr"
    assert MESSAGE_ID.fullmatch(message["Message-ID"]), message["Message-ID"]
    assert message.get_content_type() == "multipart/alternative"
    assert text_of(message).strip()
    assert html_of(message).lstrip().startswith("<!DOCTYPE html>")
    assert list(message.iter_attachments()) == []


def to(message: EmailMessage) -> str:
    return str(message["To"].addresses[0].addr_spec)


def by_recipient(messages: list[EmailMessage]) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    for message in messages:
        found.setdefault(to(message), []).append(message)
    return found
