"""A rendered e-mail as a MIME message: plain text and HTML alternatives."""

import email.policy
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from app.mail.render import Rendered


def message_id(outbox_id: uuid.UUID, mail_from: str) -> str:
    """The same for every attempt of one outbox message, so that a mail sent twice after a
    crash is one message to the receiving servers and clients."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<{outbox_id.hex}@{domain}>"


def compose(
    rendered: Rendered, *, to: str, mail_from: str, outbox_id: uuid.UUID, at: datetime
) -> EmailMessage:
    # SMTPUTF8: addresses may be internationalised (« élise@… »), which the API accepts;
    # aiosmtplib then asks the relay for the SMTPUTF8 extension.
    message = EmailMessage(policy=email.policy.default.clone(utf8=True))
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id(outbox_id, mail_from)
    # RFC 3834: no out-of-office answer to a machine's message.
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable bodies stay 7-bit: any relay carries them unchanged.
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    # After the content: setting it clears the Content-* headers.
    message["Content-Language"] = "fr"
    return message
