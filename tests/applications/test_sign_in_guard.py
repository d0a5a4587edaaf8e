"""Issue 15, item 4: wrong passwords in bulk must not starve a real sign-in. Sign-ins are
throttled per account (and per address, by the middleware) before any hash is computed,
and hashing waits in a bounded queue: when it is full, 503 at once."""

import asyncio
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from app.core.config import Settings
from app.main import create_app
from tests.core.test_rate_limit import STORES
from tests.factories import make_candidate

PASSWORD = "un mot de passe solide"


@pytest.fixture
async def guarded(settings: Settings) -> AsyncIterator[Any]:
    app = create_app(
        settings.model_copy(update={"password_hash_threads": 2, "password_hash_queue": 4})
    )
    yield app
    await app.state.database.dispose()


def from_address(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=120)


def one_hash_seconds() -> float:
    hasher = PasswordHasher()
    stored = hasher.hash("a password to time")
    started = time.perf_counter()
    with pytest.raises(VerificationError):
        hasher.verify(stored, "another password")
    return time.perf_counter() - started


def assert_refusal(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1


async def test_eighty_wrong_passwords_do_not_starve_a_real_sign_in(guarded: Any) -> None:
    async with guarded.state.database.sessions() as session:
        await make_candidate(session, "camille@example.org", PASSWORD)
    hash_seconds = one_hash_seconds()

    async def wrong(number: int) -> httpx.Response:
        # Eight addresses, ten each: within the per-address limit (10 a minute).
        async with from_address(guarded, f"10.1.{number % 8}.1") as attacker:
            form = {"username": "victime@example.org", "password": f"essai {number}"}
            return await attacker.post("/v1/auth/token", data=form)

    async def sign_in() -> float:
        await asyncio.sleep(0.05)  # into the thick of it
        started = time.perf_counter()
        async with from_address(guarded, "10.0.0.1") as real:
            form = {"username": "camille@example.org", "password": PASSWORD}
            response = await real.post("/v1/auth/token", data=form)
            for _ in range(5):  # as a client does, it honours Retry-After
                if response.status_code != 503:
                    break
                await asyncio.sleep(int(response.headers["retry-after"]))
                response = await real.post("/v1/auth/token", data=form)
        assert response.status_code == 200, response.text
        assert response.json()["access_token"].startswith("cnd_")
        return time.perf_counter() - started

    *attacks, elapsed = await asyncio.gather(*[wrong(n) for n in range(80)], sign_in())
    statuses = [response.status_code for response in attacks]
    assert set(statuses) <= {400, 429, 503}
    # At most the per-account limit (10 a minute) is hashed; the rest is refused unhashed.
    assert statuses.count(400) <= 10
    assert statuses.count(429) >= 70
    for response in attacks:
        if response.status_code != 400:
            assert_refusal(response, response.status_code)
    # Before: the real sign-in queued behind the 80 hashes (16 s in the report; here the
    # database pool ran dry first and answered 500 after 30 s). Now at most the ten hashes
    # the per-account limit lets through are ahead of it, and a Retry-After second or two.
    assert elapsed < 2 + 15 * hash_seconds, (elapsed, hash_seconds)


async def test_a_full_hashing_queue_answers_503_at_once(settings: Settings) -> None:
    app = create_app(
        settings.model_copy(update={"password_hash_threads": 1, "password_hash_queue": 0})
    )
    try:

        async def attempt(number: int) -> tuple[httpx.Response, float]:
            async with from_address(app, f"10.2.{number}.1") as client:
                started = time.perf_counter()
                form = {"username": f"personne{number}@example.org", "password": "mauvais!!"}
                response = await client.post("/v1/auth/token", data=form)
                return response, time.perf_counter() - started

        results = await asyncio.gather(*[attempt(n) for n in range(6)])
        refused = [
            (response, seconds) for response, seconds in results if response.status_code != 400
        ]
        assert refused, [response.status_code for response, _ in results]
        hash_seconds = one_hash_seconds()
        for response, seconds in refused:
            assert_refusal(response, 503)
            assert seconds < hash_seconds + 0.5  # answered without waiting for the hash

        async def sign_up(number: int) -> httpx.Response:
            async with from_address(app, f"10.3.{number}.1") as client:
                body = {"email": f"c{number}@example.org", "password": PASSWORD}
                return await client.post("/v1/candidates", json=body)

        signed_up = await asyncio.gather(*[sign_up(n) for n in range(4)])
        assert 503 in [response.status_code for response in signed_up]
        for response in signed_up:
            if response.status_code != 202:
                assert_refusal(response, 503)
    finally:
        await app.state.database.dispose()


@pytest.mark.parametrize("store", STORES)
async def test_attempts_per_account_are_throttled_before_hashing(
    settings: Settings, store: str
) -> None:
    app = create_app(
        settings.model_copy(
            update={"rate_limit_sign_in_account": "3/minute", "rate_limit_storage_url": store}
        )
    )
    # A fresh account per run: Redis keeps counters between runs.
    victim = f"victime.{uuid.uuid4().hex[:8]}@example.org"
    try:
        statuses = []
        for number in range(4):
            # A new address each time: the per-address limit is not what stops it.
            async with from_address(app, f"10.4.{number}.1") as client:
                form = {"username": victim.capitalize(), "password": "mauvais!!"}
                response = await client.post("/v1/auth/token", data=form)
                statuses.append(response.status_code)
        assert statuses == [400, 400, 400, 429]
        assert_refusal(response, 429)
        async with from_address(app, "10.4.9.1") as client:
            # The same account, written otherwise, is the same account.
            fullwidth = unicodedata.normalize("NFKD", victim.upper()).replace("V", "Ｖ")
            refused = await client.post(
                "/v1/auth/token", data={"username": fullwidth, "password": "x"}
            )
            assert_refusal(refused, 429)
            sign_up = await client.post(
                "/v1/candidates", json={"email": victim, "password": PASSWORD}
            )
            assert_refusal(sign_up, 429)
            other = await client.post(
                "/v1/candidates", json={"email": "autre@example.org", "password": PASSWORD}
            )
            assert other.status_code == 202
    finally:
        await app.state.database.dispose()
