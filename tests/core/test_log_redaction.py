"""The tokens of e-mailed links never reach the access log of `vocation serve`: mail
scanners open the links, and whoever reads the log could use them."""

from pathlib import Path

import httpx

from tests.databases import engine_independent
from tests.live_server import serve_process

pytestmark = engine_independent

SECRET = "Zq9-secret-token-of-a-link"


def test_link_tokens_are_redacted_in_the_access_log(database_url: str, tmp_path: Path) -> None:
    env = {"VOCATION_DATABASE_URL": database_url}
    with serve_process(["serve", "--workers", "1"], env, tmp_path / "server.log") as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            for path in (
                "/v1/candidates/verify",
                "/v1/candidates/password-reset/confirm",
                "/v1/applications/confirm",
            ):
                answer = client.get(path, params={"token": SECRET, "lang": "fr"})
                assert answer.status_code in (200, 400, 422)
        log = server.log()
    assert SECRET not in log
    assert log.count("token=[redacted]&lang=fr") == 3
