import httpx
import pytest

from app.core.config import Settings
from app.main import create_app
from tests.databases import PostgresDatabases, SqliteDatabases


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["migration"] == ready.json()["expected_migration"] is not None


@pytest.fixture
def unmigrated_url(databases: SqliteDatabases | PostgresDatabases) -> str:
    return databases.blank()


async def test_readyz_is_503_on_an_unmigrated_database(unmigrated_url: str) -> None:
    app = create_app(Settings(database_url=unmigrated_url))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
    finally:
        await app.state.database.dispose()
