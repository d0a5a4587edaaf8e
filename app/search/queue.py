"""Offers waiting to be (re)indexed, and the worker that indexes them after the writer's
commit.

A bulk upload writes thousands of offers; analysing their text and building their index
entries costs several times the write itself. So the upload only queues their ids, in its
own transaction (an offer and its place in the queue commit together, so a crash loses
nothing), and the worker indexes them once the upload has answered, 500 at a time. Until
then an uploaded offer is in the lists and the feeds but not yet found by `q`. Single-offer
writes still index in their own transaction.

The queue is a table, not memory: a process killed with offers queued leaves them for the
next start (the worker drains the queue at start-up, then every ``poll_seconds``), and any
process of a deployment may drain what another queued.
"""

import logging
import uuid
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from app.core.bulk_insert import sqlite_executemany
from app.core.db import Database, dialect_of
from app.core.workers import Drainer
from app.search import index as search_index

_log = logging.getLogger("vocation.search")

# Offers indexed per transaction: bounds the worker's memory and how long it holds locks.
BATCH_SIZE = 500
# Any constant: names "the search worker" among PostgreSQL's advisory locks, so that the
# workers of several processes take turns instead of indexing the same offers twice.
_WORKER_LOCK = 7_310_463


class SearchQueue(SQLModel, table=True):
    """No foreign key to ``offer``: checking one locks the offer's row for each entry,
    which on PostgreSQL cost more than the upload's own COPY; an entry whose offer is gone
    (offers are never deleted today) would simply index nothing."""

    __tablename__ = "search_queue"

    offer_id: uuid.UUID = Column(primary_key=True)


_queue = SearchQueue.__table__  # type: ignore[attr-defined]


_POSTGRES_ENQUEUE = sa.text(
    "INSERT INTO search_queue (offer_id) SELECT unnest(:ids) ON CONFLICT DO NOTHING"
).bindparams(sa.bindparam("ids", type_=postgresql.ARRAY(sa.Uuid())))
_SQLITE_ENQUEUE = "INSERT OR IGNORE INTO search_queue (offer_id) VALUES (?)"


async def enqueue(session: AsyncSession, offer_ids: Collection[uuid.UUID]) -> None:
    """Queue these offers in the caller's transaction; one already queued stays once."""
    if not offer_ids:
        return
    connection = await session.connection()
    if dialect_of(connection) == "postgresql":
        # One array parameter: a single statement whatever the number of offers.
        await session.execute(_POSTGRES_ENQUEUE, {"ids": list(offer_ids)})
        return
    # The driver's executemany: SQLAlchemy's costs more than the insert itself. Ids as
    # SQLAlchemy stores them on SQLite (32 hexadecimal digits).
    await sqlite_executemany(session, _SQLITE_ENQUEUE, [(offer_id.hex,) for offer_id in offer_ids])


async def _index_batch(session: AsyncSession) -> int:
    """Index up to BATCH_SIZE queued offers and take them off the queue, in one transaction,
    so that an offer changed meanwhile ends up indexed as it was committed.

    PostgreSQL: the ids are read first and taken off last. A writer locks its offer, then
    queues it, so taking queue rows before reading offers could wait on a writer that waits
    on us. Reading the offers with FOR SHARE (search_index) waits for a writer still holding
    one, then sees what it committed; if it queued the offer again, it stays queued.
    SQLite: taking the ids off comes first, as it takes the database's single write lock:
    no writer can come in between, and the offers read are the latest committed.
    """
    if dialect_of(session) == "postgresql":
        await session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _WORKER_LOCK})
        ids = list(
            (await session.execute(sa.select(_queue.c.offer_id).limit(BATCH_SIZE))).scalars()
        )
        if ids:
            await search_index.sync(session, ids)
            await session.execute(_queue.delete().where(_queue.c.offer_id.in_(ids)))
    else:
        claimed = _queue.delete().where(
            _queue.c.offer_id.in_(sa.select(_queue.c.offer_id).limit(BATCH_SIZE).scalar_subquery())
        )
        ids = list((await session.execute(claimed.returning(_queue.c.offer_id))).scalars())
        if ids:
            await search_index.sync(session, ids)
    await session.commit()
    return len(ids)


async def drain(database: Database) -> int:
    """Index every queued offer; returns how many were indexed."""
    done = 0
    while True:
        async with database.sessions() as session:
            indexed = await _index_batch(session)
        if not indexed:
            return done
        done += indexed


class SearchWorker(Drainer):
    """Indexes queued offers in the background of the serving process."""

    def __init__(self, database: Database, poll_seconds: float) -> None:
        super().__init__("indexing queued offers", lambda: drain(database), poll_seconds, _log)
