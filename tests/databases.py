"""The databases the suite runs on: SQLite always, PostgreSQL when VOCATION_TEST_DATABASE says so.

`make test` runs the suite once per engine. Each test gets a clean database: a copy of a
migrated SQLite file, or a PostgreSQL database migrated once and truncated between tests.
"""

import asyncio
import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.db import async_url
from app.core.migrations import upgrade
from app.models import metadata

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def engine_name() -> str:
    return os.environ.get("VOCATION_TEST_DATABASE", "sqlite")


def postgres_admin_url() -> str:
    return os.environ.get("VOCATION_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


async def _postgres_admin(statement: str) -> None:
    engine = create_async_engine(async_url(postgres_admin_url()), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def postgres_available() -> bool:
    try:
        asyncio.run(asyncio.wait_for(_postgres_admin("SELECT 1"), timeout=5))
    except Exception:
        return False
    return True


class SqliteDatabases:
    """A migrated template file, copied for each test: faster than migrating each time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template = folder / "template.db"
        upgrade(f"sqlite:///{self.template}")

    def fresh(self) -> str:
        path = self.folder / f"test-{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite:///{path}"

    def blank(self) -> str:
        """An empty database, not migrated."""
        return f"sqlite:///{self.folder / f'blank-{uuid.uuid4().hex}.db'}"

    async def clean(self, url: str) -> None:
        return None

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class PostgresDatabases:
    """One database for this run, migrated once and truncated before each test."""

    def __init__(self) -> None:
        suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.name = f"vocation_test_{suffix}"
        self.extra: list[str] = []
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{self.name}"'))
        self.url = self._url_for(self.name)
        upgrade(self.url)

    def _url_for(self, name: str) -> str:
        return (
            make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
        )

    def fresh(self) -> str:
        return self.url

    def blank(self) -> str:
        name = f"{self.name}_blank_{len(self.extra)}"
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
        self.extra.append(name)
        return self._url_for(name)

    async def clean(self, url: str) -> None:
        tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
        engine = create_async_engine(async_url(url))
        try:
            async with engine.begin() as connection:
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        finally:
            await engine.dispose()

    def close(self) -> None:
        for name in [self.name, *self.extra]:
            asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Tests of what lies before the database (the HTTP server's bounds, proxy headers, the
# command line's own arguments) run once, in the SQLite suite: on PostgreSQL they would
# repeat the same thing at the cost of a server start each.
engine_independent = pytest.mark.skipif(
    engine_name() == "postgres", reason="engine-independent: run in the SQLite suite"
)
