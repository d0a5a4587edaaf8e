"""Issue 16, must show 2, the accounts' half: no answer tells a third party whether an
address has an account. Sign-up, the reset request and sign-in answer an address with an
account exactly as one without, status, body and headers; sign-in locks both alike."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidates import lockout
from app.candidates.models import SignInLock
from tests.factories import make_candidate

JEANNE, NOBODY = "jeanne@example.org", "personne@example.org"
PASSWORD, WRONG = "un mot de passe solide", "pas le bon"


def shape(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "date"]
    return response.status_code, response.content, headers


async def test_every_answer_is_the_same_for_an_address_with_an_account_and_without(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_candidate(session, JEANNE, PASSWORD)

    async def both(method: str, path: str, **kwargs: Any) -> list[httpx.Response]:
        answers = []
        for address in (JEANNE, NOBODY):
            sent = {
                key: {k: (address if v == "@" else v) for k, v in value.items()}
                for key, value in kwargs.items()
            }
            answers.append(await client.request(method, path, **sent))
        return answers

    cases = {
        "sign-up": await both("POST", "/v1/candidates", json={"email": "@", "password": PASSWORD}),
        "weak sign-up": await both(
            "POST", "/v1/candidates", json={"email": "@", "password": "azertyuiop"}
        ),
        "reset": await both("POST", "/v1/candidates/password-reset", json={"email": "@"}),
        "sign-in": await both(
            "POST", "/v1/auth/token", data={"username": "@", "password": "pas le bon"}
        ),
    }
    for name, (jeanne, nobody) in cases.items():
        assert shape(jeanne) == shape(nobody), name
    assert [jeanne.status_code for jeanne, _ in cases.values()] == [202, 422, 202, 400]


async def test_an_address_without_an_account_locks_as_one_with(
    app: Any, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_candidate(session, JEANNE, PASSWORD)
    failures = app.state.settings.sign_in_lockout_failures

    async def sign_in(address: str, password: str = WRONG) -> httpx.Response:
        return await client.post("/v1/auth/token", data={"username": address, "password": password})

    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False) as clock:
        for _ in range(failures):
            jeanne, nobody = await sign_in(JEANNE), await sign_in(NOBODY)
            assert shape(jeanne) == shape(nobody)
            assert jeanne.status_code == 400
        # Locked, both: even Jeanne's right password waits.
        jeanne, nobody = await sign_in(JEANNE, PASSWORD), await sign_in(NOBODY, PASSWORD)
        assert jeanne.status_code == 429
        assert shape(jeanne) == shape(nobody)
        clock.shift(timedelta(seconds=app.state.settings.sign_in_lockout_seconds + 1))
        assert (await sign_in(JEANNE, PASSWORD)).status_code == 200
        assert (await sign_in(NOBODY, PASSWORD)).status_code == 400
    # What the table keeps names no address.
    keys = set((await session.execute(select(SignInLock.address_hash))).scalars())
    assert keys == {lockout.address_key(NOBODY)}


async def test_counts_nobody_added_to_for_a_day_are_forgotten(session: AsyncSession) -> None:
    policy = lockout.Policy(failures=1, first=timedelta(minutes=15), longest=timedelta(hours=1))
    start = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    await lockout.record_failure(session, lockout.address_key(NOBODY), policy, start)
    await lockout.record_failure(session, lockout.address_key(JEANNE), policy, start)
    later = start + timedelta(days=1, minutes=1)
    await lockout.record_failure(session, lockout.address_key(JEANNE), policy, later)
    assert await lockout.forget_stale(session, later) == 1
    keys = set((await session.execute(select(SignInLock.address_hash))).scalars())
    assert keys == {lockout.address_key(JEANNE)}
