"""The one HTTP client that talks to webhook receivers, and what it refuses.

- **Addresses.** The receiver's host is resolved inside the connection itself (a network
  backend of httpcore's), each address checked (app.webhooks.addresses), and the socket
  opened to the address that was checked. Checking the URL first and letting the client
  resolve again would let a DNS answer that changes in between (rebinding) reach a private
  address. TLS still verifies the certificate against the URL's host name.
- **No redirects.** httpcore follows none; a 3xx is a failed delivery.
- **Time.** The connection has its own limit; the whole attempt, reading included, one
  deadline: a receiver that drips its answer a byte at a time holds nothing longer.
- **Size.** At most 1 KiB of the answer is read, then the connection is dropped.
- **Nothing else.** No proxy from the environment (it would resolve for us), no cookies,
  no pooled connection from an earlier delivery: each attempt resolves afresh.
"""

import asyncio
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from ssl import SSLContext
from typing import Any

import anyio
import httpcore
import httpx

from app.webhooks import addresses

BODY_LIMIT = 1024
USER_AGENT = "Vocation-Webhooks/1.0"
_RETRY_AFTER_STATUSES = {429, 503}


class Refused(Exception):
    """The receiver is one webhooks may not reach; the message says why, for its owner."""


class Unresolved(Refused):
    """The host has no address (yet): a failed delivery, but no reason to refuse a
    subscription whose receiver is still being set up."""


@dataclass(frozen=True, slots=True)
class Rules:
    allow_http: bool
    allow_private: bool
    connect_timeout: float
    total_timeout: float

    @classmethod
    def of(cls, settings: Any) -> "Rules":
        return cls(
            allow_http=settings.webhook_allow_http,
            allow_private=settings.webhook_allow_private,
            connect_timeout=settings.webhook_connect_timeout_seconds,
            total_timeout=settings.webhook_timeout_seconds,
        )


def check_url(url: str, rules: Rules) -> httpx.URL:
    """The URL parsed, or Refused: https (or http when allowed), a host, no credentials."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        raise Refused("not a valid URL") from None
    if parsed.scheme not in ("https", "http"):
        raise Refused("the URL must start with https://")
    if parsed.scheme == "http" and not rules.allow_http:
        raise Refused(
            "the URL must use https: http is accepted only where VOCATION_WEBHOOK_ALLOW_HTTP "
            "is set (development)"
        )
    if not parsed.host:
        raise Refused("the URL has no host")
    if parsed.userinfo:
        raise Refused("the URL must not hold credentials: receivers verify the signature")
    if parsed.fragment:
        raise Refused("the URL must not have a fragment")
    return parsed


async def resolve(host: str, port: int, rules: Rules) -> list[str]:
    """Every address of ``host``, or Refused when any of them is one webhooks may not
    reach (a name with one private address among public ones is refused whole: the
    connection could land on any of them)."""
    name = host.lower().rstrip(".")
    if name in addresses.METADATA_HOSTS:
        raise Refused("the host is a cloud metadata service")
    literal = addresses.literal(name)
    if literal is not None:
        found = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(name, port, type=socket.SOCK_STREAM)
        except (OSError, ValueError):
            # gaierror (an OSError), or a name the resolver cannot even take.
            raise Unresolved("the host does not resolve") from None
        found = []
        for info in infos:
            address = addresses.literal(str(info[4][0]))
            if address is not None and address not in found:
                found.append(address)
        if not found:
            raise Unresolved("the host does not resolve")
    for address in found:
        reason = addresses.refusal(address, allow_private=rules.allow_private)
        if reason is not None:
            # The category, not the address: a host name's private address is not the
            # subscriber's to learn.
            subject = "the address is" if literal is not None else "the host resolves to"
            raise Refused(f"{subject} {reason}, which webhooks may not reach")
    return [str(address) for address in found]


class CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, resolving and checking the host itself and connecting
    to the checked address only."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        # httpcore's signature; the rules' own limit applies (resolving included).
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(self.rules.connect_timeout):
                last_error: Exception = httpcore.ConnectError("no address")
                for address in await resolve(host, port, self.rules):
                    try:
                        return await self._inner.connect_tcp(
                            address,
                            port,
                            local_address=local_address,
                            socket_options=socket_options,
                        )
                    except httpcore.ConnectError as error:
                        last_error = error
                raise last_error
        except TimeoutError:
            raise httpcore.ConnectTimeout("connect timed out") from None

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused("webhooks go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@lru_cache(maxsize=1)
def _tls() -> SSLContext:
    # Loading the certificate store costs milliseconds: once per process. The context
    # verifies the chain and the host name (httpx's defaults, with certifi's roots).
    return httpx.create_ssl_context()


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: a status and the start of the body, or an error."""

    status_code: int | None
    body: str | None
    error: str | None
    duration_ms: int
    retry_after_seconds: float | None = None

    @property
    def delivered(self) -> bool:
        return self.error is None and self.status_code is not None


async def post(url: str, body: bytes, headers: Mapping[str, str], rules: Rules) -> Answer:
    """POST ``body`` to ``url``; never raises for what a receiver or the network does."""
    started = time.monotonic()

    def answer(
        status: int | None = None,
        text: str | None = None,
        error: str | None = None,
        retry_after: float | None = None,
    ) -> Answer:
        elapsed = round((time.monotonic() - started) * 1000)
        return Answer(status, text, error, elapsed, retry_after)

    try:
        parsed = check_url(url, rules)
    except Refused as refused:
        return answer(error=f"refused: {refused}")
    target = httpcore.URL(
        scheme=parsed.raw_scheme,
        host=parsed.raw_host,
        port=parsed.port,
        target=parsed.raw_path,
    )
    request_headers = [
        (b"Host", parsed.netloc),
        (b"Content-Type", b"application/json"),
        (b"User-Agent", USER_AGENT.encode()),
        *((name.encode(), value.encode()) for name, value in headers.items()),
    ]
    limit = rules.total_timeout
    timeouts = {"connect": rules.connect_timeout, "read": limit, "write": limit, "pool": limit}
    try:
        async with (
            asyncio.timeout(limit),
            httpcore.AsyncConnectionPool(
                ssl_context=_tls(),
                network_backend=CheckedBackend(rules),
                max_connections=1,
                max_keepalive_connections=0,
            ) as pool,
            pool.stream(
                "POST",
                target,
                headers=request_headers,
                content=body,
                extensions={"timeout": timeouts},
            ) as response,
        ):
            kept = await _first_bytes(response)
            status = response.status
            retry_after = _retry_after(status, response.headers)
    except Refused as refused:
        return answer(error=f"refused: {refused}")
    except TimeoutError:
        return answer(error=f"no complete answer within {limit:g} s")
    except httpcore.ConnectTimeout:
        return answer(error=f"could not connect within {rules.connect_timeout:g} s")
    except httpcore.TimeoutException:
        return answer(error=f"no complete answer within {limit:g} s")
    except httpcore.ConnectError as error:
        return answer(error=_short("could not connect", error))
    except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as error:
        return answer(error=_short("the connection failed", error))
    text = kept.decode("utf-8", errors="replace")
    if 200 <= status < 300:
        return answer(status, text)
    if 300 <= status < 400:
        return answer(status, text, f"redirect ({status}) not followed")
    return answer(status, text, f"HTTP {status}", retry_after)


async def _first_bytes(response: httpcore.Response) -> bytes:
    kept = b""
    async for chunk in response.aiter_stream():
        kept += chunk
        if len(kept) >= BODY_LIMIT:
            # The rest is never read: leaving the block closes the connection.
            break
    return kept[:BODY_LIMIT]


def _retry_after(status: int, headers: list[tuple[bytes, bytes]]) -> float | None:
    """Retry-After in seconds (429, 503), when the receiver gives one as a number."""
    if status not in _RETRY_AFTER_STATUSES:
        return None
    for name, value in headers:
        if name.lower() == b"retry-after":
            try:
                seconds = float(value.decode("ascii").strip())
            except (UnicodeDecodeError, ValueError):
                return None
            return seconds if seconds >= 0 else None
    return None


def _short(prefix: str, error: Exception) -> str:
    detail = str(error).strip()
    return f"{prefix}: {detail}"[:300] if detail else prefix
