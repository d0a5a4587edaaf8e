"""A real HTTP receiver for webhook tests: a threaded http.server on 127.0.0.1 that
records every request and answers as the test tells it (a status, a redirect, or no
answer at all)."""

import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook

HANG = "hang"
REDIRECT = "redirect"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> Any:
        """The payload, once its signature is verified with ``secret`` (raises otherwise)."""
        return Webhook(secret).verify(self.body, self.headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The dispatcher sends ten at a time: http.server's backlog of 5 would drop
    # connections, which then wait a second for the kernel to try again.
    request_queue_size = 64


class Receiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.received: list[Received] = []
        self._answers: dict[str, deque[int | str]] = defaultdict(deque)
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    queued = receiver._answers[self.path]
                    answer = queued.popleft() if queued else 200
                if answer == HANG:
                    # Never answers while the test runs: the sender's deadline must end it.
                    receiver._release.wait(timeout=60)
                    return
                if answer == REDIRECT:
                    self.send_response(307)
                    self.send_header("Location", f"{receiver.url}/elsewhere")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                assert isinstance(answer, int)
                reply = f"answer {answer} ".encode() * 200  # longer than 1 KiB
                self.send_response(answer)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = _Server((host, 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = f"http://{host}:{self.port}"

    def answer(self, path: str, *answers: int | str) -> None:
        """The next answers to requests on ``path``, in order (200 once they run out)."""
        with self._lock:
            self._answers[path].extend(answers)

    def on(self, path: str) -> list[Received]:
        with self._lock:
            return [request for request in self.received if request.path == path]

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()
