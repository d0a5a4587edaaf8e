"""The one writer of offers.

Every creation, change, publication and closing of an offer goes through an
:class:`OfferWriter`: single writes, `PUT`, bulk rows, `sync` closes, deadline expiry and
the demo data. It owns what makes an offer's history trustworthy for partners:

- the status rule: draft → published → closed, never backwards, and a closed offer stays
  as it was;
- the version: one more per change, none for a write that changes nothing;
- the dates: `published_at` once, when the offer is first published (never on a draft
  closed unpublished); `closed_at` on closing; `updated_at` on every change;
- the change feed: one entry per public change, recorded as the transaction's last
  writes (see app.offers.changes on commit order);
- the search index: entries refreshed in the transaction, or queued for the search
  worker when a write is too large to index inline;
- the events partners subscribe to (`offer.published`, `offer.updated`, `offer.closed`,
  through app.events), one per feed entry, in the same transaction.

Nothing else in the code updates the `offer` table or appends to the feed
(tests/offers/test_one_writer.py checks it).
"""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import events
from app.core.bulk_insert import insert_rows
from app.core.db import versioned_update
from app.core.types import utcnow
from app.offers import changes, lifetime
from app.offers.lifetime import Lifetime
from app.offers.models import Offer, OfferFields
from app.referentials.enums import OfferStatus
from app.search import index as search_index
from app.search import queue as search_queue

offers = Offer.__table__  # type: ignore[attr-defined]

FIELD_NAMES = list(OfferFields.model_fields)
STORED_FIELDS = [*FIELD_NAMES, "status"]
"""What a writer sets on an offer, in the order of a row's values (bulk uploads keep rows
as tuples in this order)."""
STATUS = STORED_FIELDS.index("status")
_EXPIRES_AT = STORED_FIELDS.index("expires_at")
_DEADLINE = STORED_FIELDS.index("deadline")

_TRANSITIONS = {
    (OfferStatus.draft, OfferStatus.published),
    (OfferStatus.draft, OfferStatus.closed),
    (OfferStatus.published, OfferStatus.closed),
}


def may_become(current: str, requested: str) -> bool:
    """Whether an offer's status may go from ``current`` to ``requested``."""
    return current == requested or (OfferStatus(current), OfferStatus(requested)) in _TRANSITIONS


class ClosedOffer(Exception):
    """A closed offer stays as it was."""


class StatusRefused(Exception):
    """A move the status rule refuses (published → draft, the only one left once closed
    offers are refused): partners' mirrors, which follow the change feed, would keep an
    offer that vanished from public reads. Closing it is the way out."""

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(f"An offer goes draft → published → closed; not {current} → {requested}.")


class Incomplete(Exception):
    """What a draft may leave out and a published offer may not."""

    def __init__(self, field: str) -> None:
        super().__init__(f"{field} is required to publish an offer")
        self.field = field


# A draft may be incomplete; publishing asks for these.
REQUIRED_TO_PUBLISH = ("contract_type",)


def check_publishable(values: Mapping[str, Any]) -> None:
    """Raise Incomplete when a field needed to publish is missing from ``values``."""
    for name in REQUIRED_TO_PUBLISH:
        if values.get(name) is None:
            raise Incomplete(name)


class LostRace(Exception):
    """Another writer changed this offer between our read and our write."""


class Indexing(StrEnum):
    now = "now"
    """In the writer's transaction: the offer is searchable as soon as it commits."""
    queued = "queued"
    """Queued for the search worker (app.search.queue): the caller wakes it after the
    commit. For uploads, whose indexing costs more than their write."""


@dataclass(frozen=True, slots=True)
class NewOffer:
    offer_id: uuid.UUID
    values: Sequence[Any]
    """In STORED_FIELDS order."""
    published_at: datetime | None = None
    """When it was first published elsewhere (an import); now when not given."""


@dataclass(frozen=True, slots=True)
class Current:
    """An offer as it was read, before a change."""

    offer_id: uuid.UUID
    version: int
    values: Mapping[str, Any]
    """At least `status`, every field the change may touch and, when it touches
    `expires_at`, `published_at`."""

    @property
    def status(self) -> str:
        return str(self.values["status"])


def with_default_expiry(
    lifetime: Lifetime,
    current: Current,
    wanted: Mapping[str, Any],
    published_at: datetime | None,
    now: datetime | None,
) -> Mapping[str, Any]:
    """``wanted`` with `expires_at` set to its default when it asks for none. ``now``: the
    moment of a publication without ``published_at``; None leaves such a default to the
    writer (it is never a no-op, since the status changes)."""
    if "expires_at" not in wanted or wanted["expires_at"] is not None:
        return wanted
    first_published = current.values["published_at"]
    if first_published is None and wanted.get("status", current.status) == OfferStatus.published:
        first_published = published_at or now
        if first_published is None:
            return wanted
    deadline = wanted.get("deadline", current.values.get("deadline"))
    return {**wanted, "expires_at": lifetime.default_expiry(deadline, first_published)}


def changed_fields(current: Current, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``wanted`` that differ from what is stored, once the status rule is
    checked. Empty: the write is a no-op, and nothing must be written."""
    differing = {name: value for name, value in wanted.items() if current.values[name] != value}
    if not differing:
        return differing
    if current.status == OfferStatus.closed:
        raise ClosedOffer
    requested = str(wanted.get("status", current.status))
    if not may_become(current.status, requested):
        raise StatusRefused(current.status, requested)
    if requested == OfferStatus.published:
        check_publishable({**current.values, **wanted})
    return differing


# What partners learn, as events, of each change the feed records: the same moments.
EVENT_OF_CHANGE = {
    changes.Change.created: "offer.published",
    changes.Change.updated: "offer.updated",
    changes.Change.closed: "offer.closed",
}


def offer_events(feed: Iterable[tuple[uuid.UUID, changes.Change | None]]) -> list[events.Event]:
    return [
        events.Event(EVENT_OF_CHANGE[change], {"offer_id": str(offer_id)}, offer_id=offer_id)
        for offer_id, change in feed
        if change in EVENT_OF_CHANGE
    ]


# What a created offer's row holds besides its fields, in the order insert_rows takes.
_CREATED_COLUMNS = [*STORED_FIELDS, "id", "organisation_id", "published_at",
                    "closed_at", "created_at", "updated_at", "version"]  # fmt: skip


# Offers queued for the search index per statement (Indexing.queued).
_QUEUE_BATCH = 500


class OfferWriter:
    """The writes of offers in one transaction. Call :meth:`finish` last, then commit:
    it appends the feed entries (the feed's order is commit order) and refreshes the
    search index."""

    def __init__(self, session: AsyncSession, *, indexing: Indexing = Indexing.now) -> None:
        self.session = session
        self.lifetime = lifetime.of_session(session)
        self.indexing = indexing
        self.feed = changes.ChangeLog()
        self._to_index: list[uuid.UUID] = []
        self._to_queue: list[uuid.UUID] = []
        self.now = utcnow()

    async def create(self, organisation_id: uuid.UUID, created: Iterable[NewOffer]) -> None:
        """Insert new offers, with the driver's bulk path when they are many. A reference
        already taken raises IntegrityError."""
        rows = []
        written = []
        now = self.now
        for offer in created:
            status = offer.values[STATUS]
            if status == OfferStatus.published:
                check_publishable(dict(zip(STORED_FIELDS, offer.values, strict=True)))
            published_at = (offer.published_at or now) if status == OfferStatus.published else None
            closed_at = now if status == OfferStatus.closed else None
            values = list(offer.values)
            if values[_EXPIRES_AT] is None:
                values[_EXPIRES_AT] = self.lifetime.default_expiry(values[_DEADLINE], published_at)
            rows.append(
                [
                    *values,
                    offer.offer_id,
                    organisation_id,
                    published_at,
                    closed_at,
                    now,
                    now,
                    1,
                ]
            )
            written.append((offer.offer_id, changes.change_for(None, status)))
        await insert_rows(self.session, offers, _CREATED_COLUMNS, rows)
        await self._written(written)

    async def change(
        self,
        current: Current,
        wanted: Mapping[str, Any],
        *,
        published_at: datetime | None = None,
    ) -> bool:
        """Write what differs between ``wanted`` and ``current``; False when nothing does.
        ``published_at``: when it was first published elsewhere, for a change that
        publishes it (a published offer keeps its date).
        Raises ClosedOffer or StatusRefused (the status rule), LostRace (another writer
        came in between), IntegrityError (a reference already taken)."""
        wanted = with_default_expiry(self.lifetime, current, wanted, published_at, self.now)
        differing = changed_fields(current, wanted)
        if not differing:
            return False
        before = current.status
        after = str(differing.get("status", before))
        values = {**differing, "updated_at": self.now}
        if after != before:
            if after == OfferStatus.published:
                values["published_at"] = published_at or self.now
            elif after == OfferStatus.closed:
                values["closed_at"] = self.now
        if not await versioned_update(
            self.session, offers, current.offer_id, current.version, values
        ):
            raise LostRace
        await self._written([(current.offer_id, changes.change_for(before, after))])
        return True

    async def close(self, current: Current) -> bool:
        """Close an offer; False when it already was."""
        return await self.change(current, {"status": OfferStatus.closed.value})

    async def _written(self, entries: list[tuple[uuid.UUID, changes.Change | None]]) -> None:
        self.feed.extend(entries)
        ids = [offer_id for offer_id, _ in entries]
        if self.indexing == Indexing.queued:
            # Queued a batch at a time: an update or a sync close is written offer by offer,
            # and one statement each would double an upload's round trips.
            self._to_queue.extend(ids)
            if len(self._to_queue) >= _QUEUE_BATCH:
                await self._enqueue()
        else:
            self._to_index.extend(ids)

    async def _enqueue(self) -> None:
        if self._to_queue:
            await search_queue.enqueue(self.session, self._to_queue)
            self._to_queue = []

    async def finish(self) -> None:
        """The transaction's last writes: the search index (or its queue), the events
        (app.events: webhooks), then the feed entries."""
        await self._enqueue()
        if self._to_index:
            await search_index.sync(self.session, self._to_index)
            self._to_index = []
        # Before the feed, whose lock is held from its first entry to the commit.
        await events.emit(self.session, *offer_events(self.feed))
        await changes.record_many(self.session, self.feed)
        self.feed = changes.ChangeLog()

    async def commit(self) -> None:
        await self.finish()
        await self.session.commit()
