"""`vocation serve`, the command `make run` and the Docker image start: one worker per
core unless WEB_CONCURRENCY says otherwise, and every worker keeps the header bounds."""

import os
import socket
import time
from pathlib import Path

import pytest

from tests.databases import engine_independent
from tests.live_server import ServerProcess, serve_process

pytestmark = engine_independent


def _workers_started(server: ServerProcess, expected: int) -> int:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        started = server.log().count("Started server process")
        if started >= expected:
            break
        time.sleep(0.2)
    time.sleep(1)  # room for a worker too many to show itself
    return server.log().count("Started server process")


def _status_of(port: int, request: bytes) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        response = sock.recv(65536)
    return int(response[9:12])


def _many_headers(count: int) -> bytes:
    headers = b"".join(b"X-H%d: v\r\n" % number for number in range(count))
    return b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n"


def test_one_worker_per_core_by_default_each_with_the_bounds(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    cores = len(os.sched_getaffinity(0))
    env = {"VOCATION_DATABASE_URL": database_url, "VOCATION_MAX_HEADER_COUNT": "20"}
    with serve_process(["serve"], env, tmp_path / "server.log") as server:
        workers = _workers_started(server, cores)
        # Whichever worker takes them, the connections meet the setting.
        statuses = {_status_of(server.port, _many_headers(30)) for _ in range(6)}
        fine = {_status_of(server.port, _many_headers(10)) for _ in range(6)}

    assert workers == cores
    assert statuses == {431}
    assert fine == {200}


def test_web_concurrency_sets_the_workers(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    env = {"VOCATION_DATABASE_URL": database_url}
    with serve_process(["serve"], env, tmp_path / "server.log") as server:
        workers = _workers_started(server, 1)
        log = server.log()

    assert workers == 1
    assert "Started parent process" not in log
