"""Keeping the search index in step with offers: only published offers are indexed, with
their title, their organisation's name and their text.

Called in the writer's transaction for single writes, so an offer and its index entry
commit together, and by the search worker for bulk uploads (app.search.queue). Functions
take a synchronous connection so that migrations can use them too; services call
:func:`sync` from their async session.
"""

import uuid
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers.models import Offer
from app.organisations.models import Organisation
from app.search import text
from app.search.stemming import stemmed

_offers = Offer.__table__  # type: ignore[attr-defined]
_organisations = Organisation.__table__  # type: ignore[attr-defined]

_SOURCES = sa.select(
    _offers.c.id,
    _offers.c.status,
    _offers.c.title,
    _offers.c.description,
    _offers.c.missions,
    _offers.c.profile,
    _organisations.c.name.label("organisation_name"),
).select_from(_offers.join(_organisations, _offers.c.organisation_id == _organisations.c.id))


def _per_offer(statement: str) -> sa.TextClause:
    """A statement run row by row, by id (executemany), with the id bound as a UUID."""
    return sa.text(statement).bindparams(sa.bindparam("offer_id", type_=sa.Uuid()))


_SQLITE_DELETE_ROW = _per_offer(
    "DELETE FROM offer_search WHERE rowid = "
    "(SELECT row FROM offer_search_key WHERE offer_id = :offer_id)"
)
_SQLITE_DELETE_KEY = _per_offer("DELETE FROM offer_search_key WHERE offer_id = :offer_id")
_SQLITE_ADD_KEY = _per_offer("INSERT OR IGNORE INTO offer_search_key (offer_id) VALUES (:offer_id)")
_SQLITE_ADD_ROW = _per_offer(
    "INSERT INTO offer_search (rowid, title, organisation, body) "
    "SELECT row, :title, :organisation, :body FROM offer_search_key WHERE offer_id = :offer_id"
)
_POSTGRES_DELETE = _per_offer("DELETE FROM offer_search WHERE offer_id = :offer_id")
_POSTGRES_UPSERT = _per_offer(
    "INSERT INTO offer_search (offer_id, document) VALUES (:offer_id, "
    "setweight(to_tsvector('vocation_fr', :title), 'A') || "
    "setweight(to_tsvector('vocation_fr', :organisation), 'B') || "
    "setweight(to_tsvector('vocation_fr', :body), 'D')) "
    "ON CONFLICT (offer_id) DO UPDATE SET document = excluded.document"
)

# Offers per round of statements: bounds the memory of a rebuild over every offer.
_BATCH = 500


def _entry(row: Any, postgres: bool) -> dict[str, Any]:
    body = "\n".join(part for part in (row.description, row.missions, row.profile) if part)
    fields = {
        "title": text.document(row.title),
        "organisation": text.document(row.organisation_name),
        "body": text.document(body),
    }
    if not postgres:
        fields = {name: stemmed(value) for name, value in fields.items()}
    return {"offer_id": row.id, **fields}


def _write(connection: Connection, rows: Sequence[Any]) -> None:
    postgres = connection.dialect.name == "postgresql"
    ids = [{"offer_id": row.id} for row in rows]
    entries = [_entry(row, postgres) for row in rows if row.status == "published"]
    if postgres:
        connection.execute(_POSTGRES_DELETE, ids)
        if entries:
            connection.execute(_POSTGRES_UPSERT, entries)
        return
    connection.execute(_SQLITE_DELETE_ROW, ids)
    connection.execute(_SQLITE_DELETE_KEY, ids)
    if entries:
        connection.execute(_SQLITE_ADD_KEY, [{"offer_id": e["offer_id"]} for e in entries])
        connection.execute(_SQLITE_ADD_ROW, entries)


def sync_offers(connection: Connection, offer_ids: Collection[uuid.UUID]) -> None:
    """Index these offers as they now are: published ones (re)indexed, others removed."""
    ordered = sorted(set(offer_ids))
    for start in range(0, len(ordered), _BATCH):
        batch = ordered[start : start + _BATCH]
        # FOR SHARE (PostgreSQL): a writer still holding one of these offers is waited
        # for, so the entry is built from what it commits, not from what it replaces.
        # Locked in the order of their ids, as every writer locks offers: a sync upload
        # locking the same offers waits for us, or we for it, never both.
        rows = connection.execute(
            _SOURCES.where(_offers.c.id.in_(batch))
            .order_by(_offers.c.id)
            .with_for_update(read=True, of=_offers)
        ).all()
        _write(connection, rows)


def sync_organisation(connection: Connection, organisation_id: uuid.UUID) -> None:
    """After a change of name: its published offers carry the name in their entry."""
    ids = connection.execute(
        sa.select(_offers.c.id).where(
            _offers.c.organisation_id == organisation_id, _offers.c.status == "published"
        )
    ).scalars()
    sync_offers(connection, list(ids))


def rebuild(connection: Connection) -> int:
    """Index every published offer afresh; returns how many."""
    ids = list(
        connection.execute(sa.select(_offers.c.id).where(_offers.c.status == "published"))
        .scalars()
        .all()
    )
    connection.exec_driver_sql("DELETE FROM offer_search")
    if connection.dialect.name != "postgresql":
        connection.exec_driver_sql("DELETE FROM offer_search_key")
    sync_offers(connection, ids)
    return len(ids)


async def sync(session: AsyncSession, offer_ids: Collection[uuid.UUID]) -> None:
    await session.run_sync(lambda sync_session: sync_offers(sync_session.connection(), offer_ids))


async def sync_for_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> None:
    await session.run_sync(
        lambda sync_session: sync_organisation(sync_session.connection(), organisation_id)
    )
