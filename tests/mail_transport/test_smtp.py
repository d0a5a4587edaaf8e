"""The e-mail transport against a real SMTP server: plain, with a login, with STARTTLS;
refusals and failures; the folder used when no relay is set."""

import json
import stat
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.core.config import Settings
from app.mail.compose import compose
from app.mail.render import Rendered
from app.mail.sender import mail_sender
from app.mail.transport import SmtpRelay
from app.outbox.models import OutboxMessage
from tests.databases import engine_independent
from tests.mail import SmtpServer, html_of, start_smtp, text_of

pytestmark = engine_independent

FROM = "Vocation <ne-pas-repondre@vocation.test>"


def rendered() -> Rendered:
    return Rendered(
        subject="Votre candidature à « Chargé·e de plaidoyer »",
        text="Bonjour Élise,\nMerci.\n",
        html="<p>Bonjour Élise,</p><p>Merci.</p>",
    )


def message_for(template_text: Rendered, to: str) -> tuple[uuid.UUID, object]:
    outbox_id = uuid.uuid4()
    return outbox_id, compose(
        template_text, to=to, mail_from=FROM, outbox_id=outbox_id, at=datetime.now(UTC)
    )


async def send_through(server: SmtpServer, to: str = "élise@example.org") -> uuid.UUID:
    relay = SmtpRelay.from_url(server.url)
    outbox_id, message = message_for(rendered(), to)
    await relay.transport(timeout=5)(message)  # type: ignore[arg-type]
    return outbox_id


@pytest.mark.parametrize(
    "options", [{}, {"auth": True}, {"tls": True}, {"tls": True, "auth": True}]
)
async def test_a_message_reaches_the_relay_in_french_text_and_html(
    options: dict[str, bool],
) -> None:
    server, controller = start_smtp(**options)
    try:
        outbox_id = await send_through(server)
    finally:
        controller.stop()
    [received] = server.messages
    assert received["Message-ID"] == f"<{outbox_id.hex}@vocation.test>"
    assert received["Subject"] == "Votre candidature à « Chargé·e de plaidoyer »"
    assert received["Content-Language"] == "fr"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["To"].addresses[0].addr_spec == "élise@example.org"
    assert text_of(received) == "Bonjour Élise,\nMerci.\n"
    assert "<p>Bonjour Élise,</p>" in html_of(received)


async def test_a_refused_recipient_is_given_up_at_once() -> None:
    server, controller = start_smtp()
    server.refuse_recipients = True
    try:
        outcome = await mail_sender(settings_for(server))(outbox_row())
    finally:
        controller.stop()
    assert (outcome.delivered, outcome.give_up, outcome.error) == (False, True, "SMTP 550")


async def test_a_wrong_password_is_a_failure_to_retry_not_a_delivery() -> None:
    server, controller = start_smtp(auth=True)
    server.url = server.url.replace("relay-user", "someone-else")
    try:
        outcome = await mail_sender(settings_for(server))(outbox_row())
    finally:
        controller.stop()
    assert (outcome.delivered, outcome.give_up) == (False, False)
    assert server.messages == []


async def test_starttls_required_refuses_a_relay_without_it() -> None:
    server, controller = start_smtp()
    server.url += "?starttls=required"
    try:
        outcome = await mail_sender(settings_for(server))(outbox_row())
    finally:
        controller.stop()
    assert not outcome.delivered
    assert server.messages == []


@pytest.mark.parametrize(
    ("reply", "give_up"),
    [("550 5.1.1 No such user", True), ("451 4.3.0 Try again later", False)],
)
async def test_a_permanent_refusal_gives_up_and_a_temporary_one_retries(
    reply: str, give_up: bool
) -> None:
    server, controller = start_smtp()
    server.reply = reply
    try:
        outcome = await mail_sender(settings_for(server))(outbox_row())
    finally:
        controller.stop()
    assert (outcome.delivered, outcome.give_up) == (False, give_up)
    # The reply may quote the address: only its code is kept.
    assert outcome.error is not None
    assert "example.org" not in outcome.error


async def test_no_relay_writes_private_eml_files_named_by_message_id(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, mail_dir=Path("mail"))
    row = outbox_row()
    send = mail_sender(settings)
    assert (await send(row)).delivered
    assert (await send(row)).delivered  # a retry: the same file, not a second one
    [written] = list((tmp_path / "mail").iterdir())
    assert written.name == f"{row.id.hex}.eml"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "mail").stat().st_mode) == 0o700
    assert f"Message-ID: <{row.id.hex}@localhost>" in written.read_text()


def settings_for(server: SmtpServer) -> Settings:
    return Settings(smtp_url=SecretStr(server.url), smtp_timeout_seconds=5)


def outbox_row() -> OutboxMessage:
    """A message the way the dispatcher hands it over, with a template of the service."""
    return OutboxMessage(
        channel="email",
        topic="_transport_check",
        payload=json.dumps(
            {"to": "élise@example.org", "template": "_transport_check", "context": {"name": "É"}}
        ),
    )
