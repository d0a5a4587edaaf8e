"""Where composed messages go: an SMTP relay (aiosmtplib), or a folder when none is set."""

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from app.core.private_files import make_private_folders

Transport = Callable[[EmailMessage], Awaitable[None]]


# 530: authentication required; 534 and 535: credentials refused; 538: encryption required.
_OPERATOR_ERRORS = frozenset({530, 534, 535, 538})


class TransportRefused(Exception):
    """The relay refused the message for good (a 5xx): trying again changes nothing."""


@dataclass(frozen=True, slots=True)
class SmtpRelay:
    hostname: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    # None: STARTTLS when the relay offers it.
    starttls: bool | None
    ca_file: str | None

    @classmethod
    def from_url(cls, url: str) -> "SmtpRelay":
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("the SMTP URL is smtp://host[:port] or smtps://host[:port]")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        starttls = {"required": True, "off": False, "": None, "auto": None}.get(
            query.get("starttls", "")
        )
        implicit = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            starttls=False if implicit else starttls,
            ca_file=query.get("ca_file"),
        )

    def transport(self, timeout: float) -> Transport:
        tls_context = ssl.create_default_context(cafile=self.ca_file)

        async def send(message: EmailMessage) -> None:
            try:
                await aiosmtplib.send(
                    message,
                    hostname=self.hostname,
                    port=self.port,
                    username=self.username,
                    password=self.password,
                    use_tls=self.implicit_tls,
                    start_tls=self.starttls,
                    tls_context=tls_context,
                    timeout=timeout,
                )
            except aiosmtplib.SMTPRecipientsRefused as error:
                # The one recipient refused: the address is wrong, trying again changes nothing.
                codes = sorted({refusal.code for refusal in error.recipients})
                raise TransportRefused(f"SMTP {codes[0] if codes else 550}") from None
            except aiosmtplib.SMTPResponseException as error:
                # Authentication refusals are the relay's settings, which an operator fixes:
                # retried like a relay that is down.
                if 500 <= error.code < 600 and error.code not in _OPERATOR_ERRORS:
                    raise TransportRefused(f"SMTP {error.code}") from None
                raise

        return send


def folder_transport(folder: Path) -> Transport:
    """Each message as an .eml file named by its Message-ID: a retry overwrites the same
    file instead of adding a copy. Private: the messages hold people's addresses."""

    async def write(message: EmailMessage) -> None:
        make_private_folders(folder)
        name = str(message["Message-ID"]).strip("<>").partition("@")[0]
        path = folder / f"{name}.eml"
        partial = path.with_suffix(".eml.part")
        partial.touch(mode=0o600)
        partial.write_bytes(message.as_bytes())
        partial.replace(path)

    return write
