"""The Docker image, built and run as the README says: migrations as their own command,
then the server, healthy on /readyz, without the server header. Building it is skipped
where no Docker daemon answers; its health check runs everywhere."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import PostgresDatabases, SqliteDatabases
from tests.live_server import serve_process

ROOT = Path(__file__).resolve().parents[1]


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "info"], capture_output=True, check=False)  # noqa: S607
    return done.returncode == 0


needs_docker = pytest.mark.skipif(
    not _docker_answers(), reason="Docker image test skipped: no Docker daemon answers"
)


def _docker(*arguments: str, timeout: float = 600) -> str:
    done = subprocess.run(  # noqa: S603 (docker, on our own image)
        ["docker", *arguments],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    tag = f"vocation-test:{uuid.uuid4().hex[:8]}"
    _docker("build", "--tag", tag, str(ROOT), timeout=1200)
    yield tag
    _docker("image", "rm", "--force", tag)


@needs_docker
def test_the_image_migrates_once_then_serves_healthy(image: str) -> None:
    volume = _docker("volume", "create")
    container = ""
    try:
        migrated = _docker(
            "run", "--rm", "-v", f"{volume}:/srv/vocation/var", image, "vocation", "migrate"
        )
        container = _docker(
            "run", "-d", "-p", "127.0.0.1::8000", "-v", f"{volume}:/srv/vocation/var", image
        )
        port = _docker("port", container, "8000/tcp").splitlines()[0].rsplit(":", 1)[1]
        deadline = time.monotonic() + 120
        health = ""
        while time.monotonic() < deadline:
            health = _docker("inspect", "--format", "{{json .State.Health.Status}}", container)
            if json.loads(health) == "healthy":
                break
            time.sleep(2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            server_header = response.headers.get("server")
        config = json.loads(_docker("inspect", "--format", "{{json .Config}}", image))
    finally:
        if container:
            _docker("rm", "--force", container)
        _docker("volume", "rm", volume)

    assert "migrated" in migrated
    assert json.loads(health) == "healthy"
    assert server_header is None
    assert "/srv/vocation/var" in config["Volumes"]
    assert "VOCATION_TRUSTED_PROXIES=" in config["Env"]


def _health_check() -> list[str]:
    """The image's HEALTHCHECK command, as the Dockerfile gives it."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("HEALTHCHECK"))
    command: list[str] = json.loads(line.split(" CMD ", 1)[1])
    return command


@pytest.mark.parametrize("migrated", [True, False], ids=["migrated", "not-migrated"])
def test_the_health_check_follows_readyz(
    migrated: bool, databases: SqliteDatabases | PostgresDatabases, tmp_path: Path
) -> None:
    url = databases.fresh() if migrated else databases.blank()
    with serve_process(
        ["serve", "--workers", "1"], {"VOCATION_DATABASE_URL": url}, tmp_path / "server.log"
    ) as server:
        command = [
            sys.executable if part == "python" else part.replace(":8000/", f":{server.port}/")
            for part in _health_check()
        ]
        done = subprocess.run(command, capture_output=True, timeout=30, check=False)  # noqa: S603

    assert (done.returncode == 0) is migrated


def _command() -> list[str]:
    """The image's CMD, as the Dockerfile gives it."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith("CMD"))
    command: list[str] = json.loads(line.removeprefix("CMD").strip())
    return command


def test_the_image_command_serves_without_migrating(
    databases: SqliteDatabases | PostgresDatabases,
) -> None:
    """Replicas must not migrate at start-up: the image's command, run on a database that is
    not migrated, serves /healthz and leaves /readyz at 503 until `vocation migrate` runs."""
    url = databases.blank()
    port = _free_port()
    command = [
        part.replace("0.0.0.0", "127.0.0.1").replace("8000", str(port))  # noqa: S104
        for part in _command()
    ]
    bin_folder = str(Path(sys.executable).parent)
    server = subprocess.Popen(  # noqa: S603 - the image's own command
        command,
        env={
            **os.environ,
            "PATH": f"{bin_folder}{os.pathsep}{os.environ.get('PATH', '')}",
            "VOCATION_DATABASE_URL": url,
            "WEB_CONCURRENCY": "1",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the image's command stopped"
            assert time.monotonic() < deadline, "the image's command did not serve"
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:  # noqa: S310
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.3)
        with pytest.raises(urllib.error.HTTPError) as not_ready:
            urllib.request.urlopen(f"{base}/readyz", timeout=5)  # noqa: S310
        assert not_ready.value.code == 503
    finally:
        server.terminate()
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
