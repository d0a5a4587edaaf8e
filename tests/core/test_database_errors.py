"""What a database error becomes for the caller, whatever the route."""

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from app.core.bulk_insert import _as_sqlalchemy_errors
from app.core.errors import install_error_handlers


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/write")
    async def write() -> None:
        raise error

    return app


async def get(app: FastAPI, raise_app_exceptions: bool = True) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    async with httpx.AsyncClient(transport=transport, base_url="http://vocation.test") as client:
        return await client.get("/write")


@pytest.mark.parametrize(
    "orig", [asyncpg.DeadlockDetectedError("deadlock"), asyncpg.SerializationError("conflict")]
)
async def test_a_write_the_database_aborted_for_another_is_a_409_to_retry(
    orig: Exception,
) -> None:
    response = await get(app_raising(sa.exc.OperationalError("UPDATE offer", None, orig)))

    assert response.status_code == 409
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Content-Type"] == "application/problem+json"


async def test_a_database_error_that_is_a_bug_reaches_the_server_with_its_traceback() -> None:
    bug = sa.exc.IntegrityError("INSERT INTO offer", None, Exception("duplicate key"))

    with pytest.raises(sa.exc.IntegrityError):
        await get(app_raising(bug))
    answered = await get(app_raising(bug), raise_app_exceptions=False)
    assert answered.status_code == 500
    assert "duplicate key" not in answered.text


def test_a_deadlock_during_a_copy_is_raised_as_sqlalchemy_s_error() -> None:
    with pytest.raises(sa.exc.OperationalError) as raised, _as_sqlalchemy_errors("COPY offer"):
        raise asyncpg.DeadlockDetectedError("deadlock detected")

    assert getattr(raised.value.orig, "sqlstate", None) == "40P01"
