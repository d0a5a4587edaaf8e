"""Inserting many rows through the driver's bulk path, in the session's transaction:
`COPY` on PostgreSQL (asyncpg), one `executemany` on SQLite.

SQLAlchemy's executemany compiles multi-row INSERTs and runs every value through its
parameter machinery: for a 10,000-offer upload that is more than twice the time of the
driver's own bulk path. Values still go through each column type's bind processor, so
what is stored is exactly what SQLAlchemy would store, and the drivers' errors are raised
as SQLAlchemy's, so that callers and error handlers see one kind of each.
"""

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

# Fewer rows than this go in one ordinary INSERT.
_BULK_FROM = 20


async def insert_rows(
    session: AsyncSession, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values in the order of ``columns``) into ``table``. The caller
    checks constraints it cares about first: a violation fails the whole call."""
    if not rows:
        return
    if len(rows) < _BULK_FROM:
        # A single write's feed entry: one plain INSERT is one round trip, where COPY
        # takes three.
        await session.execute(
            table.insert(), [dict(zip(columns, row, strict=True)) for row in rows]
        )
        return
    connection = await session.connection()
    dialect = connection.dialect
    processors = [
        (position, processor)
        for position, name in enumerate(columns)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    records = _processed(rows, processors) if processors else rows
    if dialect.name != "postgresql":
        placeholders = ", ".join("?" for _ in columns)
        statement = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608
        await sqlite_executemany(session, statement, records)
        return
    # SQLAlchemy's asyncpg adapter opens the transaction with its first statement; a COPY
    # on the raw connection goes round it, so a statement through it comes first.
    await connection.execute(sa.text("SELECT 1"))
    driver: Any = (await connection.get_raw_connection()).driver_connection
    with _as_sqlalchemy_errors(f"COPY {table.name}"):
        await driver.copy_records_to_table(table.name, records=records, columns=list(columns))


async def sqlite_executemany(
    session: AsyncSession, statement: str, records: Sequence[Sequence[Any]]
) -> None:
    """One statement for many rows with the stdlib driver's own executemany, in the
    session's transaction; ``records`` hold values as stored (see insert_rows)."""
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    with _as_sqlalchemy_errors(statement):
        await driver.executemany(statement, records)


@contextlib.contextmanager
def _as_sqlalchemy_errors(statement: str) -> Iterator[None]:
    try:
        yield
    except (asyncpg.IntegrityConstraintViolationError, sqlite3.IntegrityError) as error:
        raise sa.exc.IntegrityError(statement, None, error) from None
    # "database is locked" (a 503 for the caller), a deadlock (a 409 to retry).
    except (sqlite3.OperationalError, asyncpg.TransactionRollbackError) as error:
        raise sa.exc.OperationalError(statement, None, error) from None


def _processed(
    rows: Sequence[Sequence[Any]], processors: list[tuple[int, Any]]
) -> list[tuple[Any, ...]]:
    # Bulk rows repeat values (the same timestamps, organisation, dates): each distinct
    # value of a column is processed once.
    seen: list[dict[Any, Any]] = [{} for _ in processors]
    records = []
    for row in rows:
        values = list(row)
        for (position, processor), done in zip(processors, seen, strict=True):
            value = values[position]
            if value is None:
                continue
            try:
                values[position] = done[value]
            except KeyError:
                values[position] = done[value] = processor(value)
            except TypeError:  # unhashable (a list, a dict): processed every time
                values[position] = processor(value)
        records.append(tuple(values))
    return records
