"""The HTTP server: uvicorn, with bounds on what a client may send before the app sees it.

uvicorn's httptools protocol bounds neither the size nor the number of request headers, nor
the time a client takes to send them or its body: a header that never ends grows memory
without end, and a slow client holds its connection and buffers for ever. VocationProtocol
adds those bounds to that protocol, which stays the fast path; ``serve`` runs uvicorn with it,
without the ``server`` header, and without uvicorn's own trust of 127.0.0.1's
X-Forwarded-For (the app believes only ``VOCATION_TRUSTED_PROXIES``, see app/main.py).
"""

import asyncio
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import httptools
import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.core.config import Settings, get_settings
from app.core.errors import problem_type
from app.core.log_redaction import logging_config

log = logging.getLogger("uvicorn.error")

# Where a connection stands in its current request.
IDLE, HEADERS, BODY, REFUSED = range(4)
# After a refusal, how long what the client still sends is read and dropped before closing:
# closing with unread data would reset the connection, and the client might lose the answer.
LINGER_SECONDS = 2.0
WORKER_HEALTHCHECK_SECONDS = 60
# Counted for each header beside its name and value: ": " and CRLF.
HEADER_OVERHEAD = 4


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; the status is kept on the protocol."""


@dataclass(frozen=True, slots=True)
class Limits:
    header_bytes: int
    header_count: int
    header_timeout: float
    body_timeout: float
    body_min_rate: int

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(
            header_bytes=settings.max_header_bytes,
            header_count=settings.max_header_count,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            body_min_rate=settings.body_min_bytes_per_second,
        )


@lru_cache
def current_limits() -> Limits:
    # Each worker process reads the same environment as the command that started it.
    return Limits.of(get_settings())


class VocationProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with header bounds (431) and header and body timeouts
    (408, then the connection is closed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = current_limits()
        self.phase = IDLE
        # Bytes received since the last request's headers ended: bounds a header still
        # being sent, which httptools buffers before any callback sees it.
        self.unparsed = 0
        self.header_count = 0
        self.header_bytes = 0
        self.refusal: tuple[int, str] | None = None
        self.header_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None
        self.linger_timer: asyncio.TimerHandle | None = None
        self.body_started = 0.0
        self.body_read_at = 0.0
        self.body_bytes = 0

    # Connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        # A connection that never sends a whole request is closed too.
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self.linger_timer is not None:
            self.linger_timer.cancel()
            self.linger_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.phase == REFUSED:
            return
        if self.phase != BODY:
            self.unparsed += len(data)
        # As uvicorn's, except that a refusal from a callback is answered with its own
        # status instead of 400.
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self.refusal is not None:
                self._refuse(*self.refusal)
            else:
                self.send_400_response("Invalid HTTP request received.")
            return
        if self.phase == HEADERS and self.unparsed > self.limits.header_bytes:
            self._refuse(431, "Request headers too large.")
        elif self.phase == BODY:
            if self.body_timer is None:
                self.body_timer = self.loop.call_later(self.limits.body_timeout, self._check_body)
        elif self.header_timer is None and (self.phase == HEADERS or self._between_requests()):
            # Bytes that begin no request (stray line ends) do not keep a connection open.
            self._arm_header_timer()

    def send_400_response(self, msg: str) -> None:
        log.warning(msg)
        self._refuse(400, msg)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.phase = HEADERS
        self.header_count = 0
        self.header_bytes = 0

    def on_url(self, url: bytes) -> None:
        self.header_bytes += len(url)
        self._check_headers()
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        self.header_bytes += len(name) + len(value) + HEADER_OVERHEAD
        self._check_headers()
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self.phase = BODY
        self.unparsed = 0
        self._cancel_header_timer()
        self.body_started = self.body_read_at = self.loop.time()
        self.body_bytes = 0
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        self.body_read_at = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        self.phase = IDLE
        self._cancel_body_timer()
        super().on_message_complete()

    # Bounds

    def _check_headers(self) -> None:
        if self.header_count > self.limits.header_count:
            self.refusal = (431, f"More than {self.limits.header_count} request headers.")
            raise _Refused
        if self.header_bytes > self.limits.header_bytes:
            self.refusal = (431, "Request headers too large.")
            raise _Refused

    def _arm_header_timer(self) -> None:
        self.header_timer = self.loop.call_later(self.limits.header_timeout, self._headers_late)

    def _between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _headers_late(self) -> None:
        self.header_timer = None
        if self.phase == HEADERS or (self.phase == IDLE and self._between_requests()):
            self._refuse(408, "Request headers not received in time.")

    def _check_body(self) -> None:
        self.body_timer = None
        if self.phase != BODY:
            return
        now = self.loop.time()
        if self.flow.read_paused or self.cycle.waiting_for_100_continue:
            # The app has not read what came yet, or not yet asked for the body that the
            # client holds back until then: the wait is not the client's.
            self.body_started = self.body_read_at = now
            self.body_bytes = 0
        deadline = self.body_read_at + self.limits.body_timeout
        if self.limits.body_min_rate:
            # After the first body_timeout seconds, the body must keep the minimum rate.
            earned = self.body_bytes / self.limits.body_min_rate
            deadline = min(deadline, self.body_started + self.limits.body_timeout + earned)
        if now >= deadline:
            self._refuse(408, "Request body not received in time.")
        else:
            self.body_timer = self.loop.call_later(deadline - now, self._check_body)

    def _refuse(self, status: int, reason: str) -> None:
        """Answer ``status`` if no answer has begun, then drop the connection."""
        if status != 400:
            log.warning("%d: %s", status, reason)
        cycle = self.cycle
        if self.phase == BODY:
            # The cycle is this request's: once its answer has begun, no other can be sent.
            answer = cycle is None or not cycle.response_started
        else:
            # The cycle, if any, is the previous request's: answer once it is answered.
            answer = cycle is None or cycle.response_complete
        self.phase = REFUSED
        self._cancel_timers()
        if cycle is not None and not cycle.response_complete:
            # The app may be waiting for this body: it reads a disconnection, and whatever
            # it sends next goes nowhere.
            cycle.disconnected = True
            cycle.message_event.set()
        if self.transport.is_closing():
            return
        if answer:
            # The app never sees this request, so the answer is written here in the app's
            # own shape: a problem with our URN, and the headers every answer carries.
            body = orjson.dumps(
                {
                    "type": problem_type(status),
                    "title": HTTPStatus(status).phrase,
                    "status": status,
                    "detail": reason,
                }
            )
            content = [STATUS_LINE[status]]
            for name, value in self.server_state.default_headers:
                content.extend([name, b": ", value, b"\r\n"])
            content.extend(
                [
                    b"content-type: application/problem+json\r\n",
                    b"x-content-type-options: nosniff\r\n",
                    b"x-frame-options: DENY\r\n",
                    b"content-security-policy: frame-ancestors 'none'\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
            self.transport.write(b"".join(content))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()
        self.linger_timer = self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _cancel_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _cancel_body_timer(self) -> None:
        if self.body_timer is not None:
            self.body_timer.cancel()
            self.body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_header_timer()
        self._cancel_body_timer()


def default_workers() -> int:
    """One worker per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def serve(host: str, port: int, workers: int, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    uvicorn.run(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        # By name, so that each worker process imports it.
        http="app.server:VocationProtocol",
        server_header=False,
        # The app applies the trusted proxies itself (app/main.py), whatever server runs it;
        # uvicorn's own would believe 127.0.0.1 by default.
        proxy_headers=False,
        forwarded_allow_ips=settings.trusted_proxies,
        # A worker answers the supervisor's first ping only once its new interpreter has
        # imported the `vocation` command; on a busy machine that is more than uvicorn's
        # 5 s, and the worker would be killed and started again without end.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        log_config=logging_config(),
    )
