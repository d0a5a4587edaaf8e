"""What takes a password or sends a mail is under the sign-in limit per client address
(`VOCATION_RATE_LIMIT_SIGN_IN`): guessing a link's password, or flooding a mailbox with
resets, is as slow as guessing a sign-in."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app

POSTS = [
    ("/v1/candidates", {"email": "x@example.org", "password": "x"}),
    ("/v1/candidates/verify", {"token": "x", "password": "x"}),
    ("/v1/candidates/verification", {}),
    ("/v1/candidates/password-reset", {"email": "x@example.org"}),
    ("/v1/candidates/password-reset/confirm", {"token": "x", "password": "x"}),
    ("/v1/me/email", {"new_email": "x@example.org", "password": "x"}),
    ("/v1/candidates/email-change/confirm", {"token": "x", "password": "x"}),
]


@pytest.fixture
async def limited_app(settings: Settings) -> AsyncIterator[Any]:
    app = create_app(settings.model_copy(update={"rate_limit_sign_in": "2/minute"}))
    yield app
    await app.state.database.dispose()


@pytest.mark.parametrize(("path", "body"), POSTS)
async def test_each_post_counts_against_the_sign_in_limit(
    limited_app: Any, path: str, body: dict[str, str]
) -> None:
    transport = httpx.ASGITransport(app=limited_app, client=("10.9.9.9", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        statuses = [(await client.post(path, json=body)).status_code for _ in range(3)]
        assert 429 not in statuses[:2], statuses
        assert statuses[2] == 429
        # The pages a link opens are not: opening one is no attempt.
        page = await client.get("/v1/candidates/verify?token=x")
        assert page.status_code == 400
