"""What the service creates on disk is readable by its own user only: the SQLite database
and its side files 0600 in a 0700 folder, the uploads folder 0700 and documents 0600."""

import asyncio
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.db import create_engine
from app.core.migrations import upgrade
from tests.databases import engine_name


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _modes_under(top: Path) -> dict[str, int]:
    return {path.relative_to(top).as_posix(): _mode(path) for path in top.rglob("*")}


@pytest.mark.skipif(engine_name() != "sqlite", reason="the database file is SQLite's")
def test_the_sqlite_database_and_its_side_files_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "donnees" / "var"
    database = folder / "vocation.db"
    url = f"sqlite:///{database}"
    upgrade(url)
    assert _mode(folder.parent) == 0o700
    assert _mode(folder) == 0o700
    assert _mode(database) == 0o600

    asyncio.run(_write_and_look(url, folder))

    # A rollback journal, as a tool that leaves WAL mode (a backup, sqlite3) makes one.
    raw = sqlite3.connect(database, isolation_level=None)
    try:
        raw.execute("PRAGMA journal_mode=DELETE")
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO probe VALUES (2)")
        modes = _modes_under(folder)
        assert "vocation.db-journal" in modes, modes
        assert modes == dict.fromkeys(modes, 0o600)
        raw.execute("COMMIT")
    finally:
        raw.close()
    assert _mode(folder) == 0o700


async def _write_and_look(url: str, folder: Path) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE probe (n INTEGER)"))
            await connection.execute(text("INSERT INTO probe VALUES (1)"))
        async with engine.connect() as connection:
            await connection.execute(text("SELECT count(*) FROM probe"))
            # While a connection is open, the write-ahead log and its index exist.
            modes = _modes_under(folder)
            assert {"vocation.db-wal", "vocation.db-shm"} <= modes.keys(), modes
            assert modes == dict.fromkeys(modes, 0o600)
    finally:
        await engine.dispose()
