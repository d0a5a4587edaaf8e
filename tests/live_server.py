"""Real servers for tests that need real HTTP and real concurrency: uvicorn in a thread
(``serve``), or the `vocation serve` command in its own process (``serve_process``)."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class ServerProcess:
    """A server started as an operator starts it, in its own process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def rss_kib(self) -> int:
        """Resident memory of the server process, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS for the server process")


@contextmanager
def serve_process(
    arguments: list[str], env: dict[str, str], log_path: Path
) -> Iterator[ServerProcess]:
    """Run ``vocation ARGUMENTS --host 127.0.0.1 --port <free>``, the command `make run`
    and the Dockerfile use, with ``env`` over this environment; yields it once it accepts
    connections (uvicorn listens only after the app's start-up). Waiting by connecting
    rather than by a request keeps the request counters of the rate limit untouched."""
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("vocation")),
        *arguments,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log_path.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own command)
            command,
            cwd=Path(__file__).resolve().parents[1],
            env={**os.environ, "VOCATION_BULK_CHECK_PROCESSES": "0", **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(process, port, log_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"the server stopped:\n{server.log()}"
            assert time.monotonic() < deadline, f"the server did not start:\n{server.log()}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
