"""X-Forwarded-For is believed only from VOCATION_TRUSTED_PROXIES, in a server started as
`make run` and the Dockerfile start it: otherwise anyone could pick the address the rate
limit counts and the log shows."""

import re
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.core.config import Settings
from tests.databases import engine_independent
from tests.live_server import serve_process

pytestmark = engine_independent

FORGED = "203.0.113."


def _rotate(base_url: str, count: int) -> list[int]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        return [
            client.get("/healthz", headers={"X-Forwarded-For": f"{FORGED}{number}"}).status_code
            for number in range(count)
        ]


def _logged_clients(log: str) -> set[str]:
    return set(re.findall(r'(\S+):\d+ - "GET /healthz', log))


def test_a_rotating_forwarded_for_from_loopback_does_not_escape_the_rate_limit(
    database_url: str, tmp_path: Path
) -> None:
    env = {"VOCATION_DATABASE_URL": database_url, "VOCATION_RATE_LIMIT_DEFAULT": "5/minute"}
    with serve_process(["serve", "--workers", "1"], env, tmp_path / "server.log") as server:
        statuses = _rotate(server.base_url, 8)
        log = server.log()

    assert statuses == [200] * 5 + [429] * 3
    assert _logged_clients(log) == {"127.0.0.1"}
    assert FORGED not in log


def test_a_listed_proxy_is_believed(database_url: str, tmp_path: Path) -> None:
    env = {
        "VOCATION_DATABASE_URL": database_url,
        "VOCATION_RATE_LIMIT_DEFAULT": "5/minute",
        "VOCATION_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
    }
    with serve_process(["serve", "--workers", "1"], env, tmp_path / "server.log") as server:
        statuses = _rotate(server.base_url, 8)
        # The same forwarded client, over its limit: the limit counts it, not the proxy.
        same = [
            httpx.get(
                f"{server.base_url}/healthz", headers={"X-Forwarded-For": f"{FORGED}1"}
            ).status_code
            for _ in range(5)
        ]
        log = server.log()

    assert statuses == [200] * 8
    assert same == [200] * 4 + [429]
    assert _logged_clients(log) == {f"{FORGED}{number}" for number in range(8)}


def test_trusted_proxies_read_as_a_list_or_json_and_refuse_a_typo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VOCATION_TRUSTED_PROXIES", "")
    assert Settings().trusted_proxies == []
    monkeypatch.setenv("VOCATION_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7")
    assert Settings().trusted_proxies == ["10.0.0.0/8", "192.168.1.7"]
    monkeypatch.setenv("VOCATION_TRUSTED_PROXIES", '["::1"]')
    assert Settings().trusted_proxies == ["::1"]
    monkeypatch.setenv("VOCATION_TRUSTED_PROXIES", "10.0.0.256")
    with pytest.raises(ValidationError, match=r"10\.0\.0\.256"):
        Settings()
