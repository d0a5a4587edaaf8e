"""Property-based tests over every operation of the served schema, against a real server.

Schemathesis generates requests (valid and invalid) from openapi.json and checks that no
response is a server error and every response matches what the schema declares.

One check is left out: `positive_data_acceptance`. The API refuses, with a documented 422,
requests that fit the JSON schema yet break rules a schema cannot state (an opaque cursor
we did not issue, salary_min above salary_max, an organisation that does not exist).
"""

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from app.core.api_keys import Role, issue_key
from app.core.config import Settings
from app.core.db import Database, create_engine
from app.demo.loader import load_demo
from app.main import create_app
from tests.databases import PostgresDatabases, SqliteDatabases


async def _seed(url: str) -> dict[str, str]:
    database = Database(create_engine(url))
    try:
        async with database.sessions() as session:
            await load_demo(session, date.today())
            _key, admin = await issue_key(session, Role.admin)
            return {"admin": admin}
    finally:
        await database.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(databases: SqliteDatabases | PostgresDatabases) -> Iterator[dict[str, Any]]:
    url = databases.fresh()
    asyncio.run(databases.clean(url))
    keys = asyncio.run(_seed(url))
    port = _free_port()
    config = uvicorn.Config(
        create_app(Settings(database_url=url)), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not instance.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    yield {"base_url": f"http://127.0.0.1:{port}", **keys}
    instance.should_exit = True
    thread.join(timeout=10)


# The committed spec: tests/test_openapi.py proves it is the one the app serves.
schema = schemathesis.openapi.from_path(
    Path(__file__).resolve().parents[1] / "openapi/openapi.json"
)

EXCLUDED = [positive_data_acceptance]
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@FUZZ
def test_anonymous_calls(case: Any, server: dict[str, Any]) -> None:
    case.call_and_validate(base_url=server["base_url"], excluded_checks=EXCLUDED)


@schema.parametrize()
@FUZZ
def test_calls_with_an_admin_key(case: Any, server: dict[str, Any]) -> None:
    case.call_and_validate(
        base_url=server["base_url"],
        headers={"Authorization": f"Bearer {server['admin']}"},
        excluded_checks=EXCLUDED,
    )
