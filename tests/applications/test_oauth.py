"""The token endpoint (RFC 6749), refresh rotation, revocation (RFC 7009) and the bearer
challenges (RFC 6750), over HTTP as any client sees them."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidates.models import CandidateRefreshToken, CandidateToken
from app.candidates.tokens import purge_expired_tokens
from tests.accounts.flows import app_of
from tests.factories import bearer, make_candidate

EMAIL, PASSWORD = "camille.durand@example.org", "un mot de passe solide"


async def _sign_up(client: httpx.AsyncClient) -> None:
    async with app_of(client).state.database.sessions() as session:
        await make_candidate(session, EMAIL, PASSWORD)


async def _sign_in(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": EMAIL, "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(
        "/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def _assert_oauth_error(answer: httpx.Response, error: str) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == error
    assert answer.json()["error_description"]
    assert answer.headers["cache-control"] == "no-store"


async def test_sign_in_answers_rfc_6749_tokens(client: httpx.AsyncClient) -> None:
    await _sign_up(client)
    answer = await client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": EMAIL, "password": PASSWORD},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["pragma"] == "no-cache"
    body = answer.json()
    assert body.keys() == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    assert body["access_token"].startswith("cnd_")
    assert body["refresh_token"].startswith("cnr_")
    assert (await client.get("/v1/me", headers=bearer(body["access_token"]))).status_code == 200
    # A refresh token is not a bearer token.
    refused = await client.get("/v1/me", headers=bearer(body["refresh_token"]))
    assert refused.status_code == 401


async def test_sign_in_without_grant_type_still_works(client: httpx.AsyncClient) -> None:
    await _sign_up(client)
    answer = await client.post("/v1/auth/token", data={"username": EMAIL, "password": PASSWORD})
    assert answer.status_code == 200
    assert answer.json()["refresh_token"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": EMAIL, "password": "mauvais!!"}, "invalid_grant"),
        (
            {"grant_type": "password", "username": "nobody@example.org", "password": PASSWORD},
            "invalid_grant",
        ),
        ({"grant_type": "password", "username": EMAIL, "password": "x" * 201}, "invalid_grant"),
        ({"grant_type": "password", "username": EMAIL}, "invalid_request"),
        ({"grant_type": "password"}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "cnr_nothing"}, "invalid_grant"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "x"}, "unsupported_grant_type"),
    ],
)
async def test_token_errors_are_rfc_6749_json(
    client: httpx.AsyncClient, form: dict[str, str], error: str
) -> None:
    await _sign_up(client)
    _assert_oauth_error(await client.post("/v1/auth/token", data=form), error)


async def test_an_empty_or_json_body_is_invalid_request(client: httpx.AsyncClient) -> None:
    _assert_oauth_error(await client.post("/v1/auth/token"), "invalid_request")
    as_json = await client.post("/v1/auth/token", json={"username": EMAIL, "password": PASSWORD})
    _assert_oauth_error(as_json, "invalid_request")


async def test_client_authentication_is_ignored(client: httpx.AsyncClient) -> None:
    # Libraries send a public client's id as Basic credentials with an empty secret.
    await _sign_up(client)
    answer = await client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": EMAIL, "password": PASSWORD},
        auth=("vocation-app", ""),
    )
    assert answer.status_code == 200


async def test_refresh_rotates_and_a_reused_token_ends_the_family(
    client: httpx.AsyncClient,
) -> None:
    await _sign_up(client)
    first = await _sign_in(client)
    other_device = await _sign_in(client)

    second = await _refresh(client, first["refresh_token"])
    assert second.status_code == 200
    assert second.headers["cache-control"] == "no-store"
    second_tokens = second.json()
    assert second_tokens["refresh_token"] != first["refresh_token"]
    assert second_tokens["access_token"] != first["access_token"]
    third = await _refresh(client, second_tokens["refresh_token"])
    assert third.status_code == 200

    # The first refresh token comes back: everything of that sign-in is revoked.
    _assert_oauth_error(await _refresh(client, first["refresh_token"]), "invalid_grant")
    _assert_oauth_error(await _refresh(client, third.json()["refresh_token"]), "invalid_grant")
    for access in (first, second_tokens, third.json()):
        me = await client.get("/v1/me", headers=bearer(access["access_token"]))
        assert me.status_code == 401
    # Another sign-in is another family.
    me = await client.get("/v1/me", headers=bearer(other_device["access_token"]))
    assert me.status_code == 200
    assert (await _refresh(client, other_device["refresh_token"])).status_code == 200


async def test_an_expired_refresh_token_is_invalid_grant(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _sign_up(client)
    tokens = await _sign_in(client)
    await session.execute(update(CandidateRefreshToken).values(expires_at=datetime.now(UTC)))
    await session.commit()
    _assert_oauth_error(await _refresh(client, tokens["refresh_token"]), "invalid_grant")


async def test_revoking_the_refresh_token_signs_out(client: httpx.AsyncClient) -> None:
    await _sign_up(client)
    first = await _sign_in(client)
    second = (await _refresh(client, first["refresh_token"])).json()
    other_device = await _sign_in(client)

    revoked = await client.post(
        "/v1/auth/revoke",
        data={"token": second["refresh_token"], "token_type_hint": "refresh_token"},
    )
    assert revoked.status_code == 200
    assert revoked.content == b""
    _assert_oauth_error(await _refresh(client, second["refresh_token"]), "invalid_grant")
    for access in (first, second):
        assert (await client.get("/v1/me", headers=bearer(access["access_token"]))).status_code == (
            401
        )
    me = await client.get("/v1/me", headers=bearer(other_device["access_token"]))
    assert me.status_code == 200


async def test_revoking_an_access_token_revokes_it_alone(client: httpx.AsyncClient) -> None:
    await _sign_up(client)
    tokens = await _sign_in(client)
    # A wrong hint does not stop the server from finding the token (RFC 7009 §2.1).
    revoked = await client.post(
        "/v1/auth/revoke",
        data={"token": tokens["access_token"], "token_type_hint": "refresh_token"},
    )
    assert revoked.status_code == 200
    me = await client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 401
    assert (await _refresh(client, tokens["refresh_token"])).status_code == 200


@pytest.mark.parametrize("token", ["cnd_unknown", "cnr_unknown", "voc_whatever", "x"])
async def test_revoking_an_unknown_token_is_200_too(client: httpx.AsyncClient, token: str) -> None:
    answer = await client.post("/v1/auth/revoke", data={"token": token})
    assert answer.status_code == 200
    assert answer.content == b""


async def test_revoking_without_a_token_is_invalid_request(client: httpx.AsyncClient) -> None:
    _assert_oauth_error(await client.post("/v1/auth/revoke", data={}), "invalid_request")


async def test_erasing_the_account_deletes_its_refresh_tokens(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _sign_up(client)
    tokens = await _sign_in(client)
    assert (await client.delete("/v1/me", headers=bearer(tokens["access_token"]))).status_code == (
        204
    )
    assert (await session.execute(select(CandidateRefreshToken))).scalars().all() == []
    _assert_oauth_error(await _refresh(client, tokens["refresh_token"]), "invalid_grant")


async def test_purge_deletes_expired_access_and_refresh_tokens(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _sign_up(client)
    first = await _sign_in(client)
    await _refresh(client, first["refresh_token"])
    past = datetime.now(UTC) - timedelta(seconds=1)
    for model in (CandidateToken, CandidateRefreshToken):
        await session.execute(update(model).values(expires_at=past))
    await session.commit()
    fresh = await _sign_in(client)

    # Two access and two refresh tokens (one used), then the fresh sign-in's pair stays.
    assert await purge_expired_tokens(session, datetime.now(UTC)) == 4
    for model in (CandidateToken, CandidateRefreshToken):
        assert await session.scalar(select(func.count()).select_from(model)) == 1
    assert (await _refresh(client, fresh["refresh_token"])).status_code == 200


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, 'Bearer realm="vocation"'),
        (
            bearer("cnd_" + "x" * 40),
            'Bearer realm="vocation", error="invalid_token", '
            'error_description="The token is unknown, expired or revoked."',
        ),
        (
            bearer("nothing-we-issue"),
            'Bearer realm="vocation", error="invalid_token", '
            'error_description="The token is malformed."',
        ),
        (
            {"Authorization": "Basic eDp5"},
            'Bearer realm="vocation", error="invalid_request", '
            'error_description="Use `Authorization: Bearer <key>`."',
        ),
    ],
)
async def test_bearer_errors_carry_rfc_6750_challenges(
    client: httpx.AsyncClient, headers: dict[str, str], challenge: str
) -> None:
    answer = await client.get("/v1/me", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == challenge


async def test_a_revoked_access_token_gets_invalid_token(client: httpx.AsyncClient) -> None:
    await _sign_up(client)
    tokens = await _sign_in(client)
    await client.post("/v1/auth/revoke", data={"token": tokens["access_token"]})
    answer = await client.get("/v1/me", headers=bearer(tokens["access_token"]))
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]
