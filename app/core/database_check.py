"""Before a command uses the database: is it there, does it answer, is it migrated to head?

Each failure is one sentence that says what to do, without the URL's password; the CLI
prints it alone, where a traceback would bury it."""

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import create_engine
from app.core.migrations import head_revision

_ELSEWHERE = "(or set VOCATION_HOME or VOCATION_DATABASE_URL to use another)"


class DatabaseNotReady(Exception):
    """The database is missing, unreachable or not migrated: the message says so."""


def describe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for another engine or an in-memory database."""
    parsed = make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return None
    return None if path.startswith("file:") else Path(path)


def require_file(url: str) -> None:
    """Only `vocation migrate` creates a SQLite database: any other command run in the
    wrong place would otherwise leave an empty one behind, then fail on its tables."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise DatabaseNotReady(f"no database at {path}: run `vocation migrate` {_ELSEWHERE}")


def reason(error: BaseException) -> str:
    cause = error.orig if isinstance(error, DBAPIError) and error.orig is not None else error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


async def _current_revision(engine: AsyncEngine, url: str) -> str | None:
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            has_table = await connection.run_sync(
                lambda sync: inspect(sync).has_table("alembic_version")
            )
            if not has_table:
                return None
            return (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
    # Whatever the driver raises on connecting (refused, unknown host, wrong password,
    # no such database) means the same to the operator.
    except Exception as error:
        raise DatabaseNotReady(
            f"cannot reach the database {describe(url)}: {reason(error)}"
        ) from None


async def require_reachable(url: str) -> None:
    """For `vocation migrate`, which creates a SQLite database (and its folders)."""
    try:
        engine = create_engine(url)
    except OSError as error:
        raise DatabaseNotReady(
            f"cannot create the database {describe(url)}: {error.strerror or error}"
        ) from None
    try:
        await _current_revision(engine, url)
    finally:
        await engine.dispose()


async def require_head(engine: AsyncEngine, url: str) -> None:
    current = await _current_revision(engine, url)
    expected = head_revision()
    if current is None:
        raise DatabaseNotReady(
            f"the database {describe(url)} is not migrated: run `vocation migrate`"
        )
    if current != expected:
        raise DatabaseNotReady(
            f"the database {describe(url)} is at migration {current} and this version "
            f"needs {expected}: run `vocation migrate`"
        )
