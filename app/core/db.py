"""Engine, sessions and connections: one async engine per app, shared by every request."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.core.private_files import create_private_file, make_private_folders

ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def async_url(url: str) -> URL:
    """Accept the URL a person writes (``postgresql://``, ``postgresql+psycopg://``,
    ``sqlite:///``) and pick the async driver the service runs on."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in ASYNC_DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
    return parsed.set(drivername=ASYNC_DRIVERS[backend])


def _ensure_sqlite_folder(url: URL) -> None:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        path = Path(url.database)
        make_private_folders(path.parent)
        # SQLite would create the file 0644. It gives its side files (-wal, -shm,
        # -journal) the database file's own mode whenever it creates them, so a database
        # created 0600 keeps them all 0600, and no process-wide umask has to change.
        create_private_file(path)


def create_engine(url: str, *, pool_size: int = 10, busy_timeout_ms: int = 5000) -> AsyncEngine:
    parsed = async_url(url)
    # hide_parameters: a failed statement's values (names, e-mails) must not reach logs.
    # orjson: JSON columns are read on the hot paths (an offer's lists), several per row.
    kwargs: dict[str, Any] = {
        "pool_pre_ping": False,
        "hide_parameters": True,
        "json_deserializer": orjson.loads,
    }
    if parsed.get_backend_name() == "sqlite":
        _ensure_sqlite_folder(parsed)
        engine = create_async_engine(parsed, **kwargs)
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    kwargs.update(pool_size=pool_size, max_overflow=pool_size)
    return create_async_engine(parsed, **kwargs)


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


class Database:
    """The engine and the two ways requests use it.

    Writes go through ORM sessions. Hot reads use ``reader``: a Core connection in
    autocommit mode, so a read pays no BEGIN/ROLLBACK round trips.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def dispose(self) -> None:
        await self.engine.dispose()


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_database(request).sessions() as session:
        yield session


async def get_reader(request: Request) -> AsyncIterator[AsyncConnection]:
    async with get_database(request).reader.connect() as connection:
        yield connection


def dialect_of(executor: AsyncSession | AsyncConnection) -> str:
    """The engine's name ("postgresql", "sqlite") behind a session or a connection."""
    if isinstance(executor, AsyncConnection):
        return executor.dialect.name
    return executor.bind.dialect.name if executor.bind is not None else ""


SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReaderDep = Annotated[AsyncConnection, Depends(get_reader)]


async def versioned_update(
    session: AsyncSession, table: Any, row_id: Any, seen_version: int, values: dict[str, Any]
) -> bool:
    """Write ``values`` only if nobody wrote the row since we read it at ``seen_version``.

    Returns False when another writer got there first, so two clients holding the same
    ETag cannot both win.
    """
    statement = (
        table.update()
        .where(table.c.id == row_id, table.c.version == seen_version)
        .values(**values, version=seen_version + 1)
    )
    result = await session.execute(statement)
    return bool(getattr(result, "rowcount", 0) == 1)
