import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from limits import parse

from app.core import rate_limit
from app.core.config import Settings
from app.main import create_app


def _redis_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


STORES = [
    "memory://",
    pytest.param(
        "redis://127.0.0.1:6379",
        marks=pytest.mark.skipif(not _redis_answers(), reason="no Redis at 127.0.0.1:6379"),
    ),
]


@pytest.fixture(params=STORES)
async def limited_app(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Any]:
    app = create_app(
        settings.model_copy(
            update={"rate_limit_storage_url": request.param, "rate_limit_sign_in": "2/minute"}
        )
    )
    yield app
    await app.state.database.dispose()


def _client(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_sign_in_is_limited_per_address(limited_app: Any) -> None:
    # A fresh address per run: Redis keeps counters between runs.
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.1"
    form = {"username": "x@example.org", "password": "wrong-password"}
    async with _client(limited_app, address) as client:
        statuses = [(await client.post("/v1/auth/token", data=form)).status_code for _ in range(3)]
        assert statuses == [400, 400, 429]
        refused = await client.post("/v1/auth/token", data=form)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        # Other routes are not under this limit.
        assert (await client.get("/v1/offers")).status_code == 200
    async with _client(limited_app, address + "0") as other:
        assert (await other.post("/v1/auth/token", data=form)).status_code == 400


async def test_an_unreachable_store_lets_requests_through(settings: Settings) -> None:
    app = create_app(
        settings.model_copy(
            update={
                "rate_limit_storage_url": "redis://127.0.0.1:1",
                "rate_limit_sign_in": "1/minute",
            }
        )
    )
    try:
        async with _client(app, "10.9.9.9") as client:
            form = {"username": "x@example.org", "password": "wrong-password"}
            for _ in range(3):
                assert (await client.post("/v1/auth/token", data=form)).status_code == 400
    finally:
        await app.state.database.dispose()


def test_memory_windows_move_and_forget(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(rate_limit.time, "monotonic", lambda: now[0])
    windows = rate_limit.MemoryWindows()
    limit = parse("2/minute")
    assert windows.hit(limit, "any", "10.0.0.1")
    now[0] += 30
    assert windows.hit(limit, "any", "10.0.0.1")
    assert not windows.hit(limit, "any", "10.0.0.1")
    assert windows.hit(limit, "any", "10.0.0.2")
    # A refused hit is not counted: the first hit leaves the window 60 s after it came.
    assert windows.retry_after(limit, "any", "10.0.0.1") == pytest.approx(30)
    now[0] += 30.5
    assert windows.hit(limit, "any", "10.0.0.1")
    assert not windows.hit(limit, "any", "10.0.0.1")
    # Addresses that stopped calling are swept.
    now[0] += 200
    assert windows.hit(limit, "any", "10.0.0.3")
    assert set(windows.hits) == {("any", "10.0.0.3")}
