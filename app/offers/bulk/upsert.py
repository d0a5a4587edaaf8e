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

from app.core.db import dialect_of
from app.core.fields import Reference, message_of
from app.core.types import PastMoment
from app.offers import writer
from app.offers.lifetime import Lifetime
from app.offers.models import OfferFields
from app.offers.writer import FIELD_NAMES, STORED_FIELDS, offers
from app.referentials.enums import OfferStatus

__all__ = ["FIELD_NAMES", "STORED_FIELDS"]
REFERENCE = STORED_FIELDS.index("reference")


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
    published_at: PastMoment | None = Field(
        default=None,
        description="When the offer was first published elsewhere (a mirror keeps its "
        "dates), with its time zone; never in the future. Used when this write publishes "
        "the offer (created published, or a draft published); once published, an offer "
        "keeps its date and this is ignored. Now when left out.",
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
    current: writer.Current | None = None  # the offer as read, for an update
    wanted: dict[str, Any] | None = None  # the row by field name, for an update
    published_at: datetime | None = None  # when first published elsewhere, if given


stored_values = attrgetter(*STORED_FIELDS)
"""A row's values in STORED_FIELDS order. Enum members are strings (StrEnum), equal to the
stored text; model_dump would cost a quarter of a large upload's checks."""


def plan(
    number: int,
    values: tuple[Any, ...],
    existing: Mapping[str, Any] | None,
    published_at: datetime | None = None,
    *,
    lifetime: Lifetime,
) -> Plan:
    """``values``: the row's, in STORED_FIELDS order (stored_values, or a bulk check's).
    Raises writer.ClosedOffer, writer.StatusRefused or writer.Incomplete when the row
    would break the status rule."""
    reference = values[REFERENCE]
    if existing is None:
        if values[writer.STATUS] == OfferStatus.published:
            writer.check_publishable(dict(zip(STORED_FIELDS, values, strict=True)))
        return Plan(
            number, reference, Outcome.created, uuid.uuid4(), values, published_at=published_at
        )
    current = writer.Current(existing["id"], existing["version"], existing)
    wanted = dict(zip(STORED_FIELDS, values, strict=True))
    wanted = dict(writer.with_default_expiry(lifetime, current, wanted, published_at, None))
    if not writer.changed_fields(current, wanted):
        return Plan(number, reference, Outcome.unchanged, current.offer_id, ())
    return Plan(
        number, reference, Outcome.updated, current.offer_id, values, current, wanted, published_at
    )


_EXISTING_COLUMNS = [
    offers.c.id,
    offers.c.version,
    offers.c.published_at,
    *(offers.c[name] for name in STORED_FIELDS),
]


async def existing_by_reference(
    session: AsyncSession | AsyncConnection, organisation_id: uuid.UUID, references: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    if not references:
        return {}
    if dialect_of(session) == "postgresql":
        # One array parameter rather than 500: one statement to prepare, whatever the
        # batch's size (see also upload.run_upload on plans).
        wanted = offers.c.reference == sa.any_(
            sa.literal(list(references), postgresql.ARRAY(sa.String(100)))
        )
    else:
        wanted = offers.c.reference.in_(references)
    result = await session.execute(
        sa.select(*_EXISTING_COLUMNS).where(offers.c.organisation_id == organisation_id, wanted)
    )
    return {row["reference"]: dict(row) for row in result.mappings()}


def _by_offer_id(step: Plan) -> int:
    return step.offer_id.int


async def write(
    offer_writer: writer.OfferWriter, organisation_id: uuid.UUID, plans: Iterable[Plan]
) -> None:
    """Write the planned creations and updates in the writer's transaction: creations
    with the driver's bulk insert, one versioned UPDATE per changed offer."""
    created = []
    updates = []
    for step in plans:
        if step.outcome == Outcome.created:
            created.append(writer.NewOffer(step.offer_id, step.values, step.published_at))
        elif step.outcome == Outcome.updated:
            updates.append(step)
    # In the order of the offers' ids: two uploads that update the same offers, listed in
    # other orders, then wait for each other instead of deadlocking. Across batches they
    # still can; PostgreSQL then aborts one, which answers 409 (retry).
    for step in sorted(updates, key=_by_offer_id):
        assert step.current is not None
        assert step.wanted is not None
        await offer_writer.change(step.current, step.wanted, published_at=step.published_at)
    await offer_writer.create(organisation_id, created)


async def close_absent(
    offer_writer: writer.OfferWriter | None,
    session: AsyncSession,
    organisation_id: uuid.UUID,
    kept: set[str],
) -> int:
    """`sync=true`: the upload is the full list, so published offers it does not name are
    closed (offers without a reference too: the upload cannot name them). Without a writer
    (a dry run), only counts them."""
    rows = (
        await session.execute(
            sa.select(offers.c.id, offers.c.reference, offers.c.version)
            .where(
                offers.c.organisation_id == organisation_id,
                offers.c.status == OfferStatus.published.value,
            )
            # PostgreSQL: locked until the upload commits, so the expiry worker (which
            # skips locked offers) cannot close one in between and fail the upload; one it
            # is closing is waited for, then left out as closed. In the order of their ids,
            # as the search worker and every writer lock offers, so none deadlocks.
            .order_by(offers.c.id)
            .with_for_update()
        )
    ).all()
    absent = [row for row in rows if row.reference not in kept]
    if offer_writer is not None:
        published = {"status": OfferStatus.published.value}
        for row in absent:
            await offer_writer.close(writer.Current(row.id, row.version, published))
    return len(absent)
