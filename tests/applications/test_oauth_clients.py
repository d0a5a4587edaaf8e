"""Issue 14's proof: two OAuth2 client libraries, used as their documentation says, sign a
candidate in, refresh, sign out, and raise their own error on a wrong password."""

import asyncio
import warnings
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from oauthlib.oauth2 import LegacyApplicationClient
from oauthlib.oauth2.rfc6749.errors import InvalidGrantError
from requests_oauthlib import OAuth2Session

from app.core.config import Settings
from app.core.db import Database, create_engine
from app.main import create_app
from tests.factories import make_candidate
from tests.live_server import serve

with warnings.catch_warnings():
    # Authlib 1.9 prefers the httpx2 package and warns when it finds httpx instead; its
    # httpx client works the same, and the app's tests use httpx.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

EMAIL, PASSWORD = "camille.durand@example.org", "un mot de passe solide"
TOKEN, REVOKE, ME = "/v1/auth/token", "/v1/auth/revoke", "/v1/me"
CLIENT_ID = "vocation-tests"


@pytest.fixture
async def authlib_client(app: Any, client: httpx.AsyncClient) -> AsyncIterator[AsyncOAuth2Client]:
    async with app.state.database.sessions() as session:
        await make_candidate(session, EMAIL, PASSWORD)
    async with AsyncOAuth2Client(
        client_id=CLIENT_ID,
        token_endpoint_auth_method="none",
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
    ) as oauth_client:
        yield oauth_client


async def test_authlib_signs_in_refreshes_and_revokes(authlib_client: AsyncOAuth2Client) -> None:
    client = authlib_client
    first = await client.fetch_token(TOKEN, username=EMAIL, password=PASSWORD)
    assert (await client.get(ME)).status_code == 200

    second = await client.refresh_token(TOKEN, refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get(ME)).json()["email"] == EMAIL

    await client.revoke_token(
        REVOKE, token=second["refresh_token"], token_type_hint="refresh_token"
    )
    assert (await client.get(ME)).status_code == 401
    with pytest.raises(OAuthError) as reused:
        await client.refresh_token(TOKEN, refresh_token=first["refresh_token"])
    assert reused.value.error == "invalid_grant"


async def test_authlib_raises_its_error_on_a_reused_refresh_token(
    authlib_client: AsyncOAuth2Client,
) -> None:
    client = authlib_client
    first = await client.fetch_token(TOKEN, username=EMAIL, password=PASSWORD)
    second = await client.refresh_token(TOKEN, refresh_token=first["refresh_token"])
    with pytest.raises(OAuthError) as reused:
        await client.refresh_token(TOKEN, refresh_token=first["refresh_token"])
    assert reused.value.error == "invalid_grant"
    # The reuse ended the family: the rotated token is dead too.
    with pytest.raises(OAuthError):
        await client.refresh_token(TOKEN, refresh_token=second["refresh_token"])


async def test_authlib_raises_invalid_grant_on_a_wrong_password(
    authlib_client: AsyncOAuth2Client,
) -> None:
    with pytest.raises(OAuthError) as wrong:
        await authlib_client.fetch_token(TOKEN, username=EMAIL, password="mauvais mot de passe")
    assert wrong.value.error == "invalid_grant"
    assert authlib_client.token is None


@pytest.fixture
def live(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    # oauthlib refuses plain HTTP unless told; the loopback test server has no TLS.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    asyncio.run(_account(settings.database_url))
    with serve(create_app(settings)) as base_url:
        yield base_url


async def _account(database_url: str) -> None:
    database = Database(create_engine(database_url))
    try:
        async with database.sessions() as session:
            await make_candidate(session, EMAIL, PASSWORD)
    finally:
        await database.dispose()


def test_requests_oauthlib_signs_in_refreshes_and_revokes(live: str) -> None:
    session = OAuth2Session(client=LegacyApplicationClient(client_id=CLIENT_ID))
    first = session.fetch_token(live + TOKEN, username=EMAIL, password=PASSWORD)
    assert session.get(live + ME, timeout=10).status_code == 200

    second = session.refresh_token(live + TOKEN, refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert session.get(live + ME, timeout=10).json()["email"] == EMAIL

    # requests-oauthlib has no revocation helper: RFC 7009's form, posted by the session.
    revoked = session.post(
        live + REVOKE,
        data={"token": second["refresh_token"], "token_type_hint": "refresh_token"},
        timeout=10,
    )
    assert revoked.status_code == 200
    assert session.get(live + ME, timeout=10).status_code == 401
    with pytest.raises(InvalidGrantError):
        session.refresh_token(live + TOKEN, refresh_token=first["refresh_token"])


def test_requests_oauthlib_raises_invalid_grant(live: str) -> None:
    session = OAuth2Session(client=LegacyApplicationClient(client_id=CLIENT_ID))
    with pytest.raises(InvalidGrantError):
        session.fetch_token(live + TOKEN, username=EMAIL, password="mauvais mot de passe")
    first = session.fetch_token(live + TOKEN, username=EMAIL, password=PASSWORD)
    session.refresh_token(live + TOKEN, refresh_token=first["refresh_token"])
    with pytest.raises(InvalidGrantError):
        session.refresh_token(live + TOKEN, refresh_token=first["refresh_token"])
