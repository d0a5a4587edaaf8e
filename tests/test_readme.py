"""The README's tour, run literally: every `sh` block, in order, in one shell, against a
real server loaded with the demo data, as a newcomer pastes them after `make run`.

curl runs with `--fail-with-body`, so an example answered with an error fails the test
with the shell's output. Blocks that are not meant to be run (a crontab line, an answer)
are tagged with another language; an untagged block in the tour is refused, so that a
new example cannot escape this test.
"""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOUR_START = "## A tour with curl"
TOUR_END = "## Clients"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
RUNNABLE = "sh"
NOT_RUN = {"text", "crontab", "json", "nginx", "http"}
README_BASE = "http://127.0.0.1:8000"


def tour_blocks() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    tour = text[text.index(TOUR_START) : text.index(TOUR_END)]
    return [(match.group(1).strip(), match.group(2)) for match in FENCE.finditer(tour)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _vocation(*args: str, env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [str(Path(sys.executable).parent / "vocation"), *args],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def demo_server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = _free_port()
    env = {
        **os.environ,
        "VOCATION_DATABASE_URL": database_url,
        "VOCATION_UPLOAD_DIR": str(tmp_path / "uploads"),
        "VOCATION_BULK_CHECK_PROCESSES": "0",
        # The tour reads e-mails from var/mail/ in the folder it runs in, as `make run`
        # writes them in the checkout.
        "VOCATION_MAIL_DIR": str(tmp_path / "var" / "mail"),
    }
    _vocation("demo", "--if-empty", env=env)
    server = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        # As `make run` starts it.
        [
            str(Path(sys.executable).parent / "vocation"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield base, env
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_every_block_of_the_tour_is_run_or_marked_as_not_run() -> None:
    languages = [language for language, _ in tour_blocks()]
    assert RUNNABLE in languages
    assert set(languages) <= {RUNNABLE} | NOT_RUN, languages


def test_the_tour_runs_as_written(demo_server: tuple[str, dict[str, str]], tmp_path: Path) -> None:
    base, env = demo_server
    commands = "\n".join(code for language, code in tour_blocks() if language == RUNNABLE)
    commands = commands.replace(README_BASE, base).replace(".venv/bin/", f"{ROOT}/.venv/bin/")
    script = (
        "set -euxo pipefail\n"
        'curl() { command curl --fail-with-body --max-time 30 "$@"; }\n'
        f"{commands}\n"
        "echo TOUR-COMPLETE\n"
    )
    done = subprocess.run(  # noqa: S603 - bash running the README's own commands
        ["/bin/bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # The trace (set -x) ends with the command that failed.
    assert done.returncode == 0, f"{done.stdout[-2000:]}\n--- trace ---\n{done.stderr[-3000:]}"
    assert "TOUR-COMPLETE" in done.stdout
