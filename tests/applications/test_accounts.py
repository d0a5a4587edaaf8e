"""Issue 15, item 6: weak passwords, per-account lockout, and e-mail addresses that are the
same address written otherwise (fullwidth, upper case)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.models import Application
from app.candidates.models import Candidate
from app.core.config import Settings
from app.main import create_app
from tests.accounts.flows import queued_mails, sign_up
from tests.applications.conftest import World, apply
from tests.factories import bearer

PASSPHRASE = "cheval agrafe batterie correcte"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("aaaaaaaaaa", "Repeats"),
        ("password123", "very common password"),
        ("azertyuiop", "very common password"),
        ("camille.durand@example.org", "e-mail address"),
    ],
)
async def test_weak_passwords_are_refused_with_the_reason(
    client: httpx.AsyncClient, session: AsyncSession, password: str, why: str
) -> None:
    response = await client.post(
        "/v1/candidates", json={"email": "camille.durand@example.org", "password": password}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["field"] == "password"
    assert why in error["message"]
    assert password not in response.text  # the answer never echoes the password
    assert (await session.execute(select(Candidate))).first() is None


async def test_a_strong_passphrase_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/candidates", json={"email": "camille.durand@example.org", "password": PASSPHRASE}
    )
    assert response.status_code == 202, response.text


async def test_a_long_passphrase_is_accepted_and_opens_the_account(
    client: httpx.AsyncClient,
) -> None:
    # Password managers and long passphrases: past zxcvbn's 72 characters it refused (500).
    long = f"{PASSPHRASE} et encore {PASSPHRASE}, puis {PASSPHRASE}"
    assert 72 < len(long) <= 200
    await sign_up(client, "camille.durand@example.org", long)
    token = await client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": "camille.durand@example.org", "password": long},
    )
    assert token.status_code == 200, token.text


async def test_signing_in_with_the_address_typed_at_sign_up_works(
    client: httpx.AsyncClient,
) -> None:
    # An internationalised domain typed in its ASCII (IDNA) form is stored in Unicode.
    typed = "ca@xn--exmple-cua.org"
    await sign_up(client, typed, PASSPHRASE)
    token = await client.post(
        "/v1/auth/token", data={"grant_type": "password", "username": typed, "password": PASSPHRASE}
    )
    assert token.status_code == 200, token.text


@pytest.fixture
async def lockout_app(settings: Settings) -> AsyncIterator[Any]:
    app = create_app(
        settings.model_copy(
            update={
                # Only the lockout is under test here.
                "rate_limit_sign_in": "",
                "rate_limit_sign_in_account": "",
                "sign_in_lockout_failures": 3,
                "sign_in_lockout_seconds": 60,
                "sign_in_lockout_max_seconds": 240,
            }
        )
    )
    yield app
    await app.state.database.dispose()


async def test_failed_sign_ins_lock_the_account_for_a_growing_bounded_delay(
    lockout_app: Any,
) -> None:
    transport = httpx.ASGITransport(app=lockout_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        email = "camille@example.org"
        await sign_up(client, email, PASSPHRASE)
        right = {"username": email, "password": PASSPHRASE}
        wrong = {"username": email, "password": "pas le bon mot de passe"}

        async def sign_in(form: dict[str, str]) -> httpx.Response:
            return await client.post("/v1/auth/token", data=form)

        def locked_for(response: httpx.Response) -> int:
            assert response.status_code == 429, response.text
            assert response.headers["content-type"] == "application/problem+json"
            return int(response.headers["retry-after"])

        with time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=UTC), tick=False) as clock:
            assert [(await sign_in(wrong)).status_code for _ in range(3)] == [400, 400, 400]
            # Locked: even the right password is refused, without being checked.
            assert locked_for(await sign_in(right)) == 60
            clock.shift(timedelta(seconds=30))
            assert locked_for(await sign_in(wrong)) == 30
            # Each failure after a lock doubles the next one...
            clock.shift(timedelta(seconds=31))
            assert (await sign_in(wrong)).status_code == 400
            assert locked_for(await sign_in(right)) == 120
            clock.shift(timedelta(seconds=121))
            assert (await sign_in(wrong)).status_code == 400
            assert locked_for(await sign_in(right)) == 240
            # ...up to the cap: an attacker cannot lock the real user out for longer.
            clock.shift(timedelta(seconds=241))
            assert (await sign_in(wrong)).status_code == 400
            assert locked_for(await sign_in(right)) == 240
            # Once the delay is over, the right password works, and the count starts again.
            clock.shift(timedelta(seconds=241))
            assert (await sign_in(right)).status_code == 200
            assert [(await sign_in(wrong)).status_code for _ in range(2)] == [400, 400]
            assert (await sign_in(right)).status_code == 200


async def test_addresses_are_the_same_whatever_the_width_and_case(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    created = await sign_up(client, "Camille@Example.org", PASSPHRASE)
    assert created["email"] == "camille@example.org"
    for variant in (
        "ｃａｍｉｌｌｅ@example.org",
        "ＣＡＭＩＬＬＥ＠ＥＸＡＭＰＬＥ.ＯＲＧ",
        "CAMILLE@example.org",
    ):
        again = await client.post("/v1/candidates", json={"email": variant, "password": PASSPHRASE})
        # The same answer as for a new address; the account's owner is told instead.
        assert again.status_code == 202, (variant, again.text)
        *_, told = await queued_mails(client)
        assert (told["to"], told["template"]) == (
            "camille@example.org",
            "candidate_signup_existing",
        )
        token = await client.post(
            "/v1/auth/token", data={"username": variant, "password": PASSPHRASE}
        )
        assert token.status_code == 200, (variant, token.text)
        me = await client.get("/v1/me", headers=bearer(token.json()["access_token"]))
        assert me.json()["id"] == created["id"]
    # Plus-addressing names another mailbox: another account.
    await sign_up(client, "camille+emploi@example.org", PASSPHRASE)
    emails = sorted((await session.execute(select(Candidate.email))).scalars())
    assert emails == ["camille+emploi@example.org", "camille@example.org"]


async def test_applying_twice_with_a_variant_of_the_address_is_caught(
    client: httpx.AsyncClient, session: AsyncSession, world: World
) -> None:
    first = await apply(client, world.offer.id, email="camille.durand@example.org")
    assert first.status_code == 201
    for variant in ("ｃａｍｉｌｌｅ.ｄｕｒａｎｄ@example.org", "Camille.Durand@EXAMPLE.org"):
        again = await apply(client, world.offer.id, email=variant)
        assert again.status_code == 409, (variant, again.text)
    tagged = await apply(client, world.offer.id, email="camille.durand+emploi@example.org")
    assert tagged.status_code == 201
    stored = sorted((await session.execute(select(Application.email))).scalars())
    assert stored == ["camille.durand+emploi@example.org", "camille.durand@example.org"]
