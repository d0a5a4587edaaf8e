"""The change feed: every creation, update and closing of a published offer, in commit order.

Partners mirror our offers by following it. For a mirror to miss nothing, the order of the
feed must be the order in which changes became visible. A sequence number alone does not
give that on PostgreSQL (a transaction may take number 10, commit after number 11, and a
reader in between moves past 10 for ever), so each writer takes a transaction-scoped lock
just before appending, and numbers are handed out in commit order. SQLite runs one writer
at a time, which gives the same guarantee.
"""

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import StrEnum
from itertools import islice

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from app.core.bulk_insert import insert_rows
from app.core.db import dialect_of
from app.core.pagination import decode_cursor, encode_cursor, invalid_cursor
from app.core.types import UTCDateTime, utcnow
from app.offers.models import OfferPublic

# Any constant: it names "the change feed" among PostgreSQL's advisory locks.
_FEED_LOCK = 7_310_462
_INSERT_BATCH = 500


class Change(StrEnum):
    created = "created"
    updated = "updated"
    closed = "closed"
    deleted = "deleted"


class OfferChange(SQLModel, table=True):
    __tablename__ = "offer_change"

    # INTEGER PRIMARY KEY on SQLite is the rowid: increasing, never reused with AUTOINCREMENT
    # semantics left to the engine; BIGSERIAL-like identity on PostgreSQL.
    seq: int | None = Column(
        default=None,
        primary_key=True,
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    )
    # No foreign key: the feed is an append-only log written in the same transaction as
    # the offer it names, and checking the key locks that offer's row for each entry
    # (PostgreSQL): 0.3 s for a 10,000-offer upload, more than writing the offers.
    offer_id: uuid.UUID = Column(index=True)
    change: str = Column(sa_type=sa.String(10))
    changed_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)


_changes = OfferChange.__table__  # type: ignore[attr-defined]
_COLUMNS = ("offer_id", "change", "changed_at")


class ChangeItem(BaseModel):
    offer_id: uuid.UUID
    change: Change
    changed_at: datetime
    offer: OfferPublic | None = Field(description="The offer as it is now; null once deleted.")


class ChangePage(BaseModel):
    items: list[ChangeItem]
    next_cursor: str = Field(
        description="Always given: pass it next time, even after an empty page, to get only "
        "what changed since."
    )


def change_for(before: str | None, after: str) -> Change | None:
    """What a partner must learn when an offer goes from ``before`` to ``after`` (None:
    it did not exist). Drafts are nobody's business but their organisation's."""
    if after == "published":
        return Change.updated if before == "published" else Change.created
    if after == "closed" and before == "published":
        return Change.closed
    return None


async def record_many(
    session: AsyncSession, entries: Iterable[tuple[uuid.UUID, Change | None]]
) -> None:
    """Append many changes at once, as the transaction's last writes (bulk uploads), with
    the driver's bulk insert, 500 rows at a time: the entries are read as they come, so
    those of a 10,000-offer upload never sit in memory all at once."""
    pending = iter(entries)
    locked = False
    now = utcnow()
    while chunk := list(islice(pending, _INSERT_BATCH)):
        rows = [(offer_id, change.value, now) for offer_id, change in chunk if change is not None]
        if not rows:
            continue
        if not locked and dialect_of(session) == "postgresql":
            await session.execute(
                sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FEED_LOCK}
            )
            locked = True
        await insert_rows(session, _changes, _COLUMNS, rows)


_CHANGE_CODES = tuple(Change)
_LOGGED_SIZE = 17  # an offer's id (16 bytes), then its change's position in _CHANGE_CODES


class ChangeLog:
    """Change-feed entries waiting for the commit, 17 bytes each (an offer's id and the
    change's code) rather than a tuple of objects: a 10,000-offer upload keeps 170 kB."""

    def __init__(self) -> None:
        self._entries = bytearray()

    def extend(self, entries: Iterable[tuple[uuid.UUID, Change | None]]) -> None:
        for offer_id, change in entries:
            if change is not None:
                self._entries += offer_id.bytes
                self._entries.append(_CHANGE_CODES.index(change))

    def __len__(self) -> int:
        return len(self._entries) // _LOGGED_SIZE

    def __iter__(self) -> Iterator[tuple[uuid.UUID, Change | None]]:
        entries = self._entries
        for start in range(0, len(entries), _LOGGED_SIZE):
            offer_id = uuid.UUID(bytes=bytes(entries[start : start + 16]))
            yield offer_id, _CHANGE_CODES[entries[start + 16]]


def after_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    parts = decode_cursor(cursor)
    if len(parts) != 1 or not parts[0].isdigit() or len(parts[0]) > 18:
        raise invalid_cursor()
    return int(parts[0])


def page_cursor(last_seq: int) -> str:
    return encode_cursor(last_seq)
