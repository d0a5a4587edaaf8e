"""What a client may send before the app sees it is bounded, in the server that `make run`
and the Dockerfile start: header size and count (431), the time to send the headers and
the body (408, then the connection is closed), and the server's memory meanwhile."""

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.databases import PostgresDatabases, SqliteDatabases, engine_independent
from tests.live_server import ServerProcess, serve_process

pytestmark = engine_independent

LIMITS = {
    "VOCATION_MAX_HEADER_BYTES": "16384",
    "VOCATION_MAX_HEADER_COUNT": "50",
    "VOCATION_HEADER_TIMEOUT_SECONDS": "1",
    "VOCATION_BODY_TIMEOUT_SECONDS": "1",
    "VOCATION_BODY_MIN_BYTES_PER_SECOND": "1000",
}
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(
    databases: SqliteDatabases | PostgresDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = {"VOCATION_DATABASE_URL": databases.fresh(), **LIMITS}
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with serve_process(["serve", "--workers", "1"], env, log_path) as process:
        yield process


def _connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def _read_until_closed(sock: socket.socket, within: float) -> tuple[bytes, bool]:
    """What the server sent, and whether it closed the connection within ``within`` s."""
    received = b""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return received, True
        if not chunk:
            return received, True
        received += chunk
    return received, False


def _send_in_background(sock: socket.socket, chunks: Iterator[bytes]) -> threading.Thread:
    def send() -> None:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server closed the connection: what these tests expect

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread


def _status(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response[9:12])


def _request(*headers: bytes) -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(headers) + b"\r\n"


def test_a_normal_request_is_served_without_naming_the_server(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        first = client.get("/healthz")
        # The same connection serves the next request, with a JSON body sent at once.
        second = client.post("/v1/candidates", content=b"{" + b" " * 50_000)

    assert first.status_code == 200
    assert "server" not in first.headers
    assert second.status_code == 422


def test_a_ten_megabyte_header_is_refused_with_431(server: ServerProcess) -> None:
    before = server.rss_kib()
    with _connect(server) as sock:
        big = _request(b"X-Big: " + b"a" * (10 * MIB) + b"\r\n")
        # The first bytes at once, so that the header timeout plays no part.
        sock.sendall(big[:65536])
        sender = _send_in_background(
            sock, (big[start : start + MIB] for start in range(65536, len(big), MIB))
        )
        response, closed = _read_until_closed(sock, within=10)
        sender.join(timeout=10)

    assert _status(response) == 431
    assert closed
    assert server.rss_kib() - before < 20 * 1024


def test_a_hundred_thousand_headers_are_refused_with_431(server: ServerProcess) -> None:
    with _connect(server) as sock:
        many = _request(*(b"X-H%d: v\r\n" % number for number in range(100_000)))
        sock.sendall(many[:65536])
        _send_in_background(sock, iter([many[65536:]]))
        response, closed = _read_until_closed(sock, within=10)

    assert _status(response) == 431
    assert closed


def test_more_headers_than_the_setting_are_refused_even_when_small(
    server: ServerProcess,
) -> None:
    with _connect(server) as sock:
        sock.sendall(_request(*(b"X-H%d: v\r\n" % number for number in range(60))))
        response, closed = _read_until_closed(sock, within=10)
    assert _status(response) == 431
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower()
    assert b"x-content-type-options: nosniff" in head.lower()
    assert b"x-frame-options: deny" in head.lower()
    assert b"frame-ancestors 'none'" in head.lower()
    problem = json.loads(body)
    assert problem["type"] == "urn:vocation:problem:request-header-fields-too-large"
    assert problem["status"] == 431
    assert "More than 50 request headers" in problem["detail"]
    assert closed

    with _connect(server) as sock:
        sock.sendall(_request(*(b"X-H%d: v\r\n" % number for number in range(40))))
        response, _ = _read_until_closed(sock, within=1)
    assert _status(response) == 200


def test_a_header_that_never_ends_does_not_grow_the_server(server: ServerProcess) -> None:
    before = server.rss_kib()
    sockets: list[socket.socket] = []
    try:
        for _ in range(3):
            sock = _connect(server)
            sockets.append(sock)
            # The first bytes at once, so that the header timeout plays no part.
            sock.sendall(b"GET / HTTP/1.1\r\nX-Endless: " + b"a" * 65536)
            _send_in_background(sock, (b"a" * MIB for _ in range(100)))
        results = [_read_until_closed(sock, within=20) for sock in sockets]
        grown = server.rss_kib() - before
    finally:
        for sock in sockets:
            sock.close()

    assert [(_status(response), closed) for response, closed in results] == [(431, True)] * 3
    assert grown < 30 * 1024, f"the server grew by {grown} KiB"


def test_a_header_sent_too_slowly_is_cut_after_the_timeout(server: ServerProcess) -> None:
    with _connect(server) as sock:
        started = time.monotonic()

        def trickle() -> Iterator[bytes]:
            yield b"GET /healthz HTTP/1.1\r\nX-Slow: "
            for _ in range(100):
                time.sleep(0.2)
                yield b"a"

        _send_in_background(sock, trickle())
        response, closed = _read_until_closed(sock, within=8)
        took = time.monotonic() - started

    assert _status(response) == 408
    assert closed
    assert took < 5


def test_a_connection_that_sends_nothing_is_closed(server: ServerProcess) -> None:
    with _connect(server) as sock:
        response, closed = _read_until_closed(sock, within=8)
    assert _status(response) == 408
    assert closed


def _post_head(length: int) -> bytes:
    return (
        b"POST /v1/candidates HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % length
    )


def test_a_body_that_trickles_is_cut(server: ServerProcess) -> None:
    """One byte every 0.3 s never pauses as long as the body timeout (1 s), but stays
    far below the minimum rate."""
    with _connect(server) as sock:
        started = time.monotonic()

        def trickle() -> Iterator[bytes]:
            yield _post_head(1000) + b'{"email": "'
            for _ in range(100):
                time.sleep(0.3)
                yield b"a"

        _send_in_background(sock, trickle())
        response, closed = _read_until_closed(sock, within=10)
        took = time.monotonic() - started

    assert _status(response) == 408
    assert closed
    assert took < 5


def test_a_body_that_stops_is_cut(server: ServerProcess) -> None:
    with _connect(server) as sock:
        sock.sendall(_post_head(MIB) + b"{" + b" " * (MIB // 2))
        response, closed = _read_until_closed(sock, within=10)
    assert _status(response) == 408
    assert closed


def test_a_slow_but_steady_body_goes_through(server: ServerProcess) -> None:
    """2,000 bytes a second for two seconds: above the minimum rate, never pausing long."""
    body = b"[" + b" " * 3998 + b"]"
    with _connect(server) as sock:

        def steady() -> Iterator[bytes]:
            yield _post_head(len(body))
            for start in range(0, len(body), 200):
                time.sleep(0.1)
                yield body[start : start + 200]

        _send_in_background(sock, steady())
        response, _ = _read_until_closed(sock, within=6)
    assert _status(response) == 422
