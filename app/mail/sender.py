"""The outbox's sender for e-mail."""

import logging

import aiosmtplib

from app.core.config import Settings
from app.core.types import utcnow
from app.mail.compose import compose
from app.mail.render import render
from app.mail.transport import SmtpRelay, Transport, TransportRefused, folder_transport
from app.outbox.models import OutboxMessage
from app.outbox.sending import Outcome, Sender

_log = logging.getLogger("vocation.mail")


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url is None or not settings.smtp_url.get_secret_value():
        return folder_transport(settings.mail_dir)
    relay = SmtpRelay.from_url(settings.smtp_url.get_secret_value())
    return relay.transport(settings.smtp_timeout_seconds)


def mail_sender(settings: Settings) -> Sender:
    transport = transport_for(settings)

    async def send(message: OutboxMessage) -> Outcome:
        data = message.data
        if "template" not in data:
            return Outcome(False, "its content was erased", give_up=True)
        rendered = render(data["template"], data["context"])
        composed = compose(
            rendered,
            to=data["to"],
            mail_from=settings.mail_from,
            outbox_id=message.id,
            at=utcnow(),
        )
        try:
            await transport(composed)
        except TransportRefused as error:
            # Never the address in the log: the id leads to it for whoever may see it.
            return Outcome(False, str(error), give_up=True)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return Outcome(False, f"{type(error).__name__}: {_reason(error)}")
        return Outcome(True)

    return send


def _reason(error: Exception) -> str:
    # SMTP replies may quote the recipient; keep the code only.
    code = getattr(error, "code", None)
    return f"SMTP {code}" if code else type(error).__name__
