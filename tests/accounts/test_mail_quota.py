"""The quota of mails one address is sent on request (`VOCATION_MAIL_QUOTA_PER_ADDRESS`,
3 an hour), against a real SMTP server: past it the answer is the same and nothing is
sent, whoever asks and from wherever. In the process's memory and in Redis."""

import hashlib
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import rate_limit
from app.core.config import Settings
from app.main import create_app
from tests.accounts.conftest import addressed_to, delivered
from tests.factories import make_candidate
from tests.mail import SmtpServer

PASSWORD = "un mot de passe solide"
RESET, SIGN_UP, CHANGE = "/v1/candidates/password-reset", "/v1/candidates", "/v1/me/email"


def _redis_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


REDIS = "redis://127.0.0.1:6379"
STORES = [
    "memory://",
    pytest.param(
        REDIS, marks=pytest.mark.skipif(not _redis_answers(), reason="no Redis at 127.0.0.1:6379")
    ),
]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(settings: Settings, store: str) -> Settings:
    return settings.model_copy(update={"rate_limit_storage_url": store})


@pytest.fixture
def address() -> Callable[[str], str]:
    """Addresses of this test alone: Redis keeps its counters from one run to the next,
    and both engines' suites share it."""
    run = uuid.uuid4().hex[:12]
    return lambda name: f"{name}.{run}@example.org"


def shape(response: httpx.Response) -> tuple[int, bytes, tuple[tuple[str, str], ...]]:
    headers = tuple((k, v) for k, v in response.headers.multi_items() if k.lower() != "date")
    return response.status_code, response.content, headers


def _from(client_address: str, app: Any) -> httpx.AsyncClient:
    # Each request from another client address, as a flood from rotating addresses is.
    transport = httpx.ASGITransport(app=app, client=(client_address, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


class _Later:
    """The rate limits' clock, ``seconds`` ahead (their memory store reads time.monotonic,
    which time_machine leaves alone: the event loop runs on it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def monotonic(self) -> float:
        return time.monotonic() + self.seconds

    def time(self) -> float:
        return time.time()


async def test_a_flood_of_resets_sends_three_mails_and_answers_the_same(
    app: Any,
    session: AsyncSession,
    smtp_server: SmtpServer,
    address: Callable[[str], str],
    store: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jeanne, other = address("jeanne"), address("paul")
    await make_candidate(session, jeanne, PASSWORD)
    answers = []
    for index in range(5):
        async with _from(f"10.0.{index}.1", app) as client:
            answers.append(await client.post(RESET, json={"email": jeanne}))
    assert answers[0].status_code == 202
    assert answers[0].json()["status"] == "check_your_email"
    assert {shape(answer) for answer in answers} == {shape(answers[0])}
    mails = await delivered(app, smtp_server)
    assert [addressed_to(mail) for mail in mails] == [jeanne] * 3
    assert {mail["Subject"] for mail in mails} == {"Choisissez un nouveau mot de passe Vocation"}

    # Another address has a quota of its own (it has no account: the mail says so).
    async with _from("10.0.9.1", app) as client:
        assert shape(await client.post(RESET, json={"email": other})) == shape(answers[0])
    mails = await delivered(app, smtp_server)
    assert [addressed_to(mail) for mail in mails[3:]] == [other]

    # An hour later, Jeanne is sent mails again.
    monkeypatch.setattr(rate_limit, "time", _Later(3601))
    with time_machine.travel(datetime.now(UTC) + timedelta(seconds=3601)):
        async with _from("10.0.0.1", app) as client:
            assert shape(await client.post(RESET, json={"email": jeanne})) == shape(answers[0])
        mails = await delivered(app, smtp_server)
    assert [addressed_to(mail) for mail in mails[4:]] == [jeanne]

    if store == REDIS:
        await _assert_redis_holds_digests_only(jeanne, other)


async def _assert_redis_holds_digests_only(*addresses: str) -> None:
    import coredis

    redis: Any = coredis.Redis(host="127.0.0.1", port=6379, decode_responses=True)
    keys = [str(key) for key in await redis.keys("*mail-quota*")]
    for email in addresses:
        digest = hashlib.sha256(email.encode()).hexdigest()
        assert any(digest in key for key in keys), keys
        local = email.partition("@")[0]
        assert not any(local in key for key in keys), keys


async def test_sign_up_for_an_existing_address_counts_in_the_same_quota(
    app: Any, session: AsyncSession, smtp_server: SmtpServer, address: Callable[[str], str]
) -> None:
    jeanne = address("jeanne")
    await make_candidate(session, jeanne, PASSWORD)
    body = {"email": jeanne, "password": "lanterne ocre du matin"}
    async with _from("10.1.0.1", app) as client:
        for _ in range(2):
            assert (await client.post(RESET, json={"email": jeanne})).status_code == 202
    signed_up = []
    for index in range(3):
        async with _from(f"10.1.{index}.2", app) as client:
            signed_up.append(await client.post(SIGN_UP, json=body))
    assert signed_up[0].status_code == 202
    assert {shape(answer) for answer in signed_up} == {shape(signed_up[0])}
    # Two resets and the first sign-up's "someone tried"; then nothing, reset nor sign-up.
    async with _from("10.1.9.1", app) as client:
        assert (await client.post(RESET, json={"email": jeanne})).status_code == 202
    mails = await delivered(app, smtp_server)
    assert [addressed_to(mail) for mail in mails] == [jeanne] * 3
    # The outbox sends in no promised order.
    subjects = sorted(str(mail["Subject"]) for mail in mails)
    reset = "Choisissez un nouveau mot de passe Vocation"
    assert subjects.count(reset) == 2, subjects


async def test_sign_up_for_a_new_address_is_counted_too(
    app: Any, smtp_server: SmtpServer, address: Callable[[str], str]
) -> None:
    camille = address("camille")
    body = {"email": camille, "password": "lanterne ocre du matin"}
    answers = []
    for index in range(4):
        async with _from(f"10.2.{index}.1", app) as client:
            answers.append(await client.post(SIGN_UP, json=body))
    assert {shape(answer) for answer in answers} == {shape(answers[0])}
    assert answers[0].status_code == 202
    mails = await delivered(app, smtp_server)
    assert [addressed_to(mail) for mail in mails] == [camille] * 3


async def test_an_address_change_counts_against_the_new_address(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    smtp_server: SmtpServer,
    address: Callable[[str], str],
) -> None:
    owner, victim = address("owner"), address("victim")
    await make_candidate(session, owner, PASSWORD)
    signed_in = await client.post("/v1/auth/token", data={"username": owner, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    answers = [
        await client.post(CHANGE, json={"new_email": victim, "password": PASSWORD}, headers=headers)
        for _ in range(4)
    ]
    assert answers[0].status_code == 202
    assert {shape(answer) for answer in answers} == {shape(answers[0])}
    mails = await delivered(app, smtp_server)
    assert [addressed_to(mail) for mail in mails] == [victim] * 3


async def test_verification_links_asked_again_are_counted_too(
    app: Any,
    client: httpx.AsyncClient,
    session: AsyncSession,
    smtp_server: SmtpServer,
    address: Callable[[str], str],
) -> None:
    # An account from before addresses were proven: only it can ask, but its address may
    # be anyone's.
    owner = address("unproven")
    await make_candidate(session, owner, PASSWORD, verified=False)
    signed_in = await client.post("/v1/auth/token", data={"username": owner, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    answers = [await client.post("/v1/candidates/verification", headers=headers) for _ in range(4)]
    assert answers[0].status_code == 202
    assert {shape(answer) for answer in answers} == {shape(answers[0])}
    mails = await delivered(app, smtp_server)
    assert [addressed_to(mail) for mail in mails] == [owner] * 3


@pytest.fixture
async def unlimited_app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings.model_copy(update={"mail_quota_per_address": ""}))
    yield application
    await application.state.database.dispose()


async def test_an_empty_setting_turns_the_quota_off(
    unlimited_app: Any, smtp_server: SmtpServer, address: Callable[[str], str]
) -> None:
    nobody = address("nobody")
    async with _from("10.3.0.1", unlimited_app) as client:
        for _ in range(5):
            assert (await client.post(RESET, json={"email": nobody})).status_code == 202
    mails = await delivered(unlimited_app, smtp_server)
    assert [addressed_to(mail) for mail in mails] == [nobody] * 5
