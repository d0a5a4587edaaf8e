"""Writing offers by their reference, one (PUT) or many (bulk): each is created, replaced,
or left alone when nothing changed, so that sending the same offers twice writes nothing
the second time (no new version, no change-feed entry)."""

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any

import sqlalchemy as sa
from pydantic import Field, ValidationError
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.bulk_insert import insert_rows
from app.core.db import dialect_of
from app.core.fields import Reference, message_of
from app.core.types import utcnow
from app.offers import changes
from app.offers.models import Offer, OfferFields
from app.offers.service import may_become
from app.referentials.enums import OfferStatus

offers = Offer.__table__  # type: ignore[attr-defined]
FIELD_NAMES = list(OfferFields.model_fields)
STORED_FIELDS = [*FIELD_NAMES, "status"]
"""What a writer sets on an offer, in the order of a plan's values."""
REFERENCE, _STATUS = STORED_FIELDS.index("reference"), STORED_FIELDS.index("status")


class OfferUpsert(OfferFields):
    """An offer as a whole, written by its reference: the body of a PUT (the reference is
    in the path) and one row of a bulk upload (the reference is required)."""

    status: OfferStatus = Field(
        default=OfferStatus.published,
        description="`published` by default: an upload mirrors the offers you have open.",
    )
    organisation: str | None = Field(
        default=None,
        max_length=80,
        description="Optional: your organisation's slug or id. Any other is refused.",
    )


class OfferRow(OfferUpsert):
    reference: Reference = Field(description="Your own reference: the key of the upsert.")


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    reference: str | None
    field: str | None
    message: str


def row_errors(row: int, reference: str | None, error: ValidationError) -> list[RowError]:
    found = []
    for detail in error.errors(include_url=False):
        location = [str(part) for part in detail["loc"]]
        message = message_of(detail)
        found.append(RowError(row, reference, ".".join(location) or None, message))
    return found


@dataclass(slots=True)
class Plan:
    """What writing one row means, decided before anything is written."""

    row: int
    reference: str
    outcome: Outcome
    offer_id: uuid.UUID
    values: tuple[Any, ...]  # in STORED_FIELDS order; empty when unchanged
    version: int = 0
    before: str | None = None

    @property
    def status(self) -> str:
        return str(self.values[_STATUS])


class ClosedOffer(Exception):
    """A closed offer stays as it was; its reference cannot bring it back."""


class BackToDraft(Exception):
    """A published offer cannot become a draft again (service.may_become): partners'
    mirrors, which follow the change feed, would keep it. Closing it is the way out."""


stored_values = attrgetter(*STORED_FIELDS)
"""A row's values in STORED_FIELDS order. Enum members are strings (StrEnum), equal to the
stored text; model_dump would cost a quarter of a large upload's checks."""


def plan(number: int, values: tuple[Any, ...], existing: Mapping[str, Any] | None) -> Plan:
    """``values``: the row's, in STORED_FIELDS order (stored_values, or a bulk check's)."""
    reference = values[REFERENCE]
    if existing is None:
        return Plan(number, reference, Outcome.created, uuid.uuid4(), values)
    same = all(existing[name] == value for name, value in zip(STORED_FIELDS, values, strict=True))
    if same:
        return Plan(number, reference, Outcome.unchanged, existing["id"], ())
    if existing["status"] == OfferStatus.closed:
        raise ClosedOffer
    if not may_become(existing["status"], values[_STATUS]):
        raise BackToDraft  # the only move left that the rule refuses
    return Plan(
        number,
        reference,
        Outcome.updated,
        existing["id"],
        values,
        version=existing["version"],
        before=existing["status"],
    )


_EXISTING_COLUMNS = [offers.c.id, offers.c.version, *(offers.c[name] for name in STORED_FIELDS)]


async def existing_by_reference(
    session: AsyncSession | AsyncConnection, organisation_id: uuid.UUID, references: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    if not references:
        return {}
    if dialect_of(session) == "postgresql":
        # One array parameter rather than 500: one statement to prepare, whatever the
        # batch's size (see also bulk.run_upload on plans).
        wanted = offers.c.reference == sa.any_(
            sa.literal(list(references), postgresql.ARRAY(sa.String(100)))
        )
    else:
        wanted = offers.c.reference.in_(references)
    result = await session.execute(
        sa.select(*_EXISTING_COLUMNS).where(offers.c.organisation_id == organisation_id, wanted)
    )
    return {row["reference"]: dict(row) for row in result.mappings()}


class LostRace(Exception):
    """Another writer changed one of these offers between our read and our write."""


FeedEntries = list[tuple[uuid.UUID, changes.Change | None]]

# What a created offer's row holds besides its fields, in the order insert_rows takes.
_CREATED_COLUMNS = [*STORED_FIELDS, "id", "organisation_id", "published_at",
                    "closed_at", "created_at", "updated_at", "version"]  # fmt: skip


def _by_offer_id(step: Plan) -> int:
    return step.offer_id.int


async def write(
    session: AsyncSession, organisation_id: uuid.UUID, plans: Iterable[Plan]
) -> FeedEntries:
    """Write the planned creations and updates in the caller's transaction: creations with
    the driver's bulk insert, one versioned UPDATE per changed offer. Returns their
    change-feed entries, for the caller to record just before it commits (the feed's order
    is commit order); the caller also indexes them, or queues them for indexing."""
    now = utcnow()
    creations: list[list[Any]] = []
    updates: list[Plan] = []
    feed: FeedEntries = []
    for step in plans:
        if step.outcome == Outcome.unchanged:
            continue
        status = step.status
        feed.append((step.offer_id, changes.change_for(step.before, status)))
        if step.outcome == Outcome.created:
            published_at = now if status != OfferStatus.draft else None
            closed_at = now if status == OfferStatus.closed else None
            created = (step.offer_id, organisation_id, published_at, closed_at, now, now, 1)
            creations.append([*step.values, *created])
        else:
            updates.append(step)
    # In the order of the offers' ids: two uploads that update the same offers, listed in
    # other orders, then wait for each other instead of deadlocking. Across batches they
    # still can; PostgreSQL then aborts one, which answers 409 (retry).
    for step in sorted(updates, key=_by_offer_id):
        await _update(session, step, now)
    await insert_rows(session, offers, _CREATED_COLUMNS, creations)
    return feed


async def _update(session: AsyncSession, step: Plan, now: datetime) -> None:
    status = step.status
    values = dict(zip(STORED_FIELDS, step.values, strict=True))
    values.update(updated_at=now, version=step.version + 1)
    if status != OfferStatus.draft and step.before == OfferStatus.draft:
        values["published_at"] = now
    if status == OfferStatus.closed:
        values["closed_at"] = now
    result = await session.execute(
        offers.update()
        .where(offers.c.id == step.offer_id, offers.c.version == step.version)
        .values(**values)
    )
    if getattr(result, "rowcount", 1) != 1:
        raise LostRace


async def close_absent(
    session: AsyncSession, organisation_id: uuid.UUID, kept: set[str], dry_run: bool
) -> FeedEntries:
    """`sync=true`: the upload is the full list, so published offers it does not name are
    closed (offers without a reference too: the upload cannot name them). The caller
    takes them out of the search index."""
    rows = (
        await session.execute(
            sa.select(offers.c.id, offers.c.reference, offers.c.version).where(
                offers.c.organisation_id == organisation_id,
                offers.c.status == OfferStatus.published.value,
            )
        )
    ).all()
    # In the order of their ids, as updates are written (see write).
    absent = sorted((row for row in rows if row.reference not in kept), key=lambda row: row.id.int)
    feed: FeedEntries = [(row.id, changes.Change.closed) for row in absent]
    if dry_run or not absent:
        return feed
    now = utcnow()
    for row in absent:
        result = await session.execute(
            offers.update()
            .where(offers.c.id == row.id, offers.c.version == row.version)
            .values(status="closed", closed_at=now, updated_at=now, version=row.version + 1)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise LostRace
    return feed
