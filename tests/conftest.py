from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.main import create_app
from tests.databases import PostgresDatabases, SqliteDatabases, engine_name
from tests.mail import smtp_server  # noqa: F401 - a fixture, shared by every test folder
from tests.s3 import s3_endpoint  # noqa: F401 - a fixture, shared by every test folder


def pytest_report_header() -> str:
    return f"vocation test database: {engine_name()}"


@pytest.fixture(scope="session")
def databases(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SqliteDatabases | PostgresDatabases]:
    if engine_name() == "postgres":
        pool: SqliteDatabases | PostgresDatabases = PostgresDatabases()
    else:
        pool = SqliteDatabases(tmp_path_factory.mktemp("sqlite"))
    yield pool
    pool.close()


@pytest.fixture
async def database_url(databases: SqliteDatabases | PostgresDatabases) -> str:
    url = databases.fresh()
    await databases.clean(url)
    return url


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


# The hosts the test clients name (httpx's base_url), besides the default loopback ones.
TEST_HOSTS = ["testserver", "test", "vocation.test", "localhost", "127.0.0.1"]


@pytest.fixture
def settings(database_url: str, upload_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        database_pool_size=5,
        public_base_url="",
        allowed_hosts=TEST_HOSTS,
        upload_dir=upload_dir,
        storage_url="",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    yield application
    await application.state.database.dispose()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def session(app: Any) -> AsyncIterator[AsyncSession]:
    async with app.state.database.sessions() as db_session:
        yield db_session


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def queries(app: Any) -> Iterator[QueryCounter]:
    """Counts the SQL statements the app sends, to catch N+1 queries."""
    counter = QueryCounter()
    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)
