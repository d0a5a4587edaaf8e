"""A real SMTP server for the tests (aiosmtpd, in a thread of its own), and the ways to read
what it received."""

import asyncio
import email
import email.policy
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import SecretStr

from app.core.config import Settings

USER, PASSWORD = "relay-user", "relay-pässword"


@dataclass
class SmtpServer:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # Set, and the server answers DATA with this reply (a relay refusing or failing).
    reply: str | None = None
    # Set, and each recipient waits for it before being accepted (a stalled relay, before
    # any message was handed over); `stalled` counts the sessions waiting.
    hold: threading.Event | None = None
    stalled: int = 0
    refuse_recipients: bool = False
    logins: list[str] = field(default_factory=list)
    url: str = ""
    ca_file: str = ""
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 No such user"
        if self.hold is not None:
            self.stalled += 1
            # Set from the test's thread: waited for in another, not on this loop.
            await asyncio.to_thread(self.hold.wait)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reply is not None:
            return self.reply
        # SMTPUTF8 messages carry raw UTF-8 headers, which mail clients read as such.
        content = envelope.original_content or envelope.content
        text = content.decode("utf-8").replace("\r\n", "\n")
        parsed = email.message_from_string(text, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._arrived:
            self.messages.append(parsed)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """The messages once at least ``count`` have arrived (a live server sends them)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.messages)} e-mails arrived, not {count}")
                self._arrived.wait(left)
            return list(self.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [
            message for message in self.messages if message["To"].addresses[0].addr_spec == address
        ]


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


def start_smtp(*, tls: bool = False, auth: bool = False) -> tuple[SmtpServer, Controller]:
    handler = SmtpServer(host="127.0.0.1", port=0)
    options: dict[str, Any] = {"enable_SMTPUTF8": True}
    if tls:
        authority = trustme.CA()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        options |= {"tls_context": context, "require_starttls": True}
        handler.ca_file = _write_ca(authority)
    if auth:
        options |= {"authenticator": _authenticate, "auth_require_tls": tls}
    handler.port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port, **options)
    controller.start()
    credentials = f"{USER}:{PASSWORD.replace('ä', '%C3%A4')}@" if auth else ""
    query = f"?starttls=required&ca_file={handler.ca_file}" if tls else ""
    handler.url = f"smtp://{credentials}127.0.0.1:{handler.port}{query}"
    return handler, controller


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_ca(authority: trustme.CA) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as pem:
        pem.write(authority.cert_pem.bytes())
        return pem.name


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server, controller = start_smtp()
    yield server
    if server.hold is not None:
        server.hold.set()
    controller.stop()


def mail_settings(settings: Settings, server: SmtpServer) -> Settings:
    return settings.model_copy(update={"smtp_url": SecretStr(server.url)})


_LINK = re.compile(r"https?://[^\s<>\"']+")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def link_in(message: EmailMessage, path_prefix: str) -> str:
    """The first link of the plain text whose path starts with ``path_prefix``."""
    for url in _LINK.findall(text_of(message)):
        if path_prefix in url:
            return url
    raise AssertionError(f"no link to {path_prefix} in the e-mail")
