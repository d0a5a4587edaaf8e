"""Rules and queries for offers."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.db import versioned_update
from app.core.errors import Conflict, FieldError, NotFound, PreconditionFailed, Unprocessable
from app.core.patching import apply_patch
from app.core.security import Principal
from app.core.types import in_storable_range, utcnow
from app.offers import changes
from app.offers.changes import ChangeItem, ChangePage, OfferChange
from app.offers.models import Offer, OfferCreate, OfferFields, OfferPublic, OfferUpdate
from app.organisations.models import Organisation
from app.referentials.enums import OfferStatus
from app.search import index as search_index

offers = Offer.__table__  # type: ignore[attr-defined]
organisations = Organisation.__table__  # type: ignore[attr-defined]

OFFER_COLUMNS = [
    offers.c[name] for name in OfferPublic.model_fields if name not in {"organisation"}
]
ORGANISATION_COLUMNS = [
    organisations.c.id.label("organisation_id"),
    organisations.c.slug.label("organisation_slug"),
    organisations.c.name.label("organisation_name"),
    organisations.c.kind.label("organisation_kind"),
    organisations.c.updated_at.label("organisation_updated_at"),
]
# Built once: each request only adds its filters to this statement.
_PUBLIC_SELECT = select(*OFFER_COLUMNS, *ORGANISATION_COLUMNS).select_from(
    offers.join(organisations, offers.c.organisation_id == organisations.c.id)
)
_BY_ID = _PUBLIC_SELECT.where(offers.c.id == bindparam("offer_id"))

_CHANGE_TABLE = OfferChange.__table__  # type: ignore[attr-defined]
# The feed with each offer's current state: one query per page, however many changes.
_CHANGES = (
    select(
        *OFFER_COLUMNS,
        *ORGANISATION_COLUMNS,
        _CHANGE_TABLE.c.seq,
        _CHANGE_TABLE.c.change.label("change_kind"),
        _CHANGE_TABLE.c.changed_at,
    )
    .select_from(
        _CHANGE_TABLE.join(offers, _CHANGE_TABLE.c.offer_id == offers.c.id).join(
            organisations, offers.c.organisation_id == organisations.c.id
        )
    )
    .where(_CHANGE_TABLE.c.seq > bindparam("after"))
    .order_by(_CHANGE_TABLE.c.seq)
    .limit(bindparam("limit"))
)

_TRANSITIONS = {
    (OfferStatus.draft, OfferStatus.published),
    (OfferStatus.draft, OfferStatus.closed),
    (OfferStatus.published, OfferStatus.closed),
}


def may_become(current: str, requested: str) -> bool:
    """Whether an offer's status may go from ``current`` to ``requested``: draft →
    published → closed, never backwards."""
    return current == requested or (OfferStatus(current), OfferStatus(requested)) in _TRANSITIONS


def effective_status(status: str, deadline: date | None, today: date) -> OfferStatus:
    if status == OfferStatus.published and deadline is not None and deadline < today:
        return OfferStatus.closed
    return OfferStatus(status)


def to_public(row: Mapping[Any, Any], today: date) -> OfferPublic:
    data = dict(row)
    data["organisation"] = {
        "id": data.pop("organisation_id"),
        "slug": data.pop("organisation_slug"),
        "name": data.pop("organisation_name"),
        "kind": data.pop("organisation_kind"),
    }
    data.pop("organisation_updated_at")
    data["status"] = effective_status(data["status"], data["deadline"], today)
    return OfferPublic.model_validate(data)


@dataclass(frozen=True, slots=True)
class Readable:
    offer: OfferPublic
    last_modified: datetime
    """When its representation last changed: the offer, its organisation's summary, or
    the end of its last day to apply, when that closed it."""


async def get_public(
    reader: AsyncConnection,
    offer_id: uuid.UUID,
    principal: Principal | None,
    today: date,
    zone: ZoneInfo,
) -> Readable:
    row = (await reader.execute(_BY_ID, {"offer_id": offer_id})).mappings().first()
    if row is None:
        raise NotFound("No offer with this id.")
    if row["status"] == OfferStatus.draft and not (
        principal and principal.may_write_for(row["organisation_id"])
    ):
        raise NotFound("No offer with this id.")
    changed = max(row["updated_at"], row["organisation_updated_at"])
    offer = to_public(row, today)
    if offer.status == OfferStatus.closed and row["status"] == OfferStatus.published:
        assert offer.deadline is not None
        expired = datetime.combine(offer.deadline + timedelta(days=1), time(), zone)
        changed = max(changed, expired.astimezone(UTC))
    return Readable(offer, changed)


async def read_after_write(session: AsyncSession, offer_id: uuid.UUID, today: date) -> OfferPublic:
    row = (await session.execute(_BY_ID, {"offer_id": offer_id})).mappings().one()
    return to_public(row, today)


def _owner_for_create(principal: Principal, data: OfferCreate) -> uuid.UUID:
    if principal.is_admin:
        if data.organisation_id is None:
            raise Unprocessable(
                "An admin key must name the organisation.",
                errors=[FieldError(field="organisation_id", message="required with an admin key")],
            )
        return data.organisation_id
    assert principal.organisation_id is not None
    if data.organisation_id not in (None, principal.organisation_id):
        raise Unprocessable(
            "A recruiter key posts only for its own organisation.",
            errors=[FieldError(field="organisation_id", message="not this key's organisation")],
        )
    return principal.organisation_id


def _check_published_at(value: datetime | None) -> None:
    if value is None:
        return
    try:
        in_storable_range(value)
    except ValueError as error:
        raise Unprocessable(
            f"published_at: {error}.",
            errors=[FieldError(field="published_at", message=str(error))],
        ) from None
    if value > utcnow() + timedelta(minutes=5):
        raise Unprocessable(
            "published_at cannot be in the future.",
            errors=[FieldError(field="published_at", message="must not be in the future")],
        )


async def create(session: AsyncSession, principal: Principal, data: OfferCreate) -> Offer:
    organisation_id = _owner_for_create(principal, data)
    _check_published_at(data.published_at)
    if await session.get(Organisation, organisation_id) is None:
        raise Unprocessable(
            "No organisation with this id.",
            errors=[FieldError(field="organisation_id", message="unknown organisation")],
        )
    fields = data.model_dump(include=set(OfferFields.model_fields))
    now = utcnow()
    offer = Offer(**fields, organisation_id=organisation_id, status=data.status.value)
    if data.status == OfferStatus.published:
        offer.published_at = data.published_at or now
    session.add(offer)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise _reference_taken(data.reference) from None
    await changes.record(session, offer.id, changes.change_for(None, offer.status))
    await search_index.sync(session, [offer.id])
    await session.commit()
    return offer


def _reference_taken(reference: str | None) -> Conflict:
    return Conflict(f"Your organisation already has an offer with the reference {reference!r}.")


async def load_for_write(session: AsyncSession, principal: Principal, offer_id: uuid.UUID) -> Offer:
    offer = await session.get(Offer, offer_id)
    # Another organisation's offer is "not found": its drafts must not be probed.
    if offer is None or not principal.may_write_for(offer.organisation_id):
        raise NotFound("No offer with this id.")
    return offer


def _next_status(current: str, requested: OfferStatus | None) -> str:
    if requested is None or requested == current:
        return current
    if not may_become(current, requested):
        raise Conflict(f"An offer goes draft → published → closed; not {current} → {requested}.")
    return requested.value


async def update(session: AsyncSession, offer: Offer, patch: OfferUpdate) -> Offer:
    if offer.status == OfferStatus.closed:
        raise Conflict("This offer is closed; closed offers are kept as they were.")
    changes = patch.model_dump(exclude_unset=True)
    status = _next_status(offer.status, changes.pop("status", None))
    merged = apply_patch(OfferFields, offer, changes, derived={"departement": "region"})
    now = utcnow()
    values: dict[str, Any] = merged.model_dump() | {"status": status, "updated_at": now}
    if status == OfferStatus.published and offer.published_at is None:
        values["published_at"] = now
    if status == OfferStatus.closed:
        values["closed_at"] = now
    await _write(session, offer, values)
    return offer


async def close(session: AsyncSession, offer: Offer) -> Offer:
    if offer.status == OfferStatus.closed:
        return offer
    now = utcnow()
    await _write(session, offer, {"status": "closed", "closed_at": now, "updated_at": now})
    return offer


async def _write(session: AsyncSession, offer: Offer, values: dict[str, Any]) -> None:
    before = offer.status
    try:
        written = await versioned_update(session, offers, offer.id, offer.version, values)
    except IntegrityError:
        await session.rollback()
        raise _reference_taken(values.get("reference")) from None
    if not written:
        await session.rollback()
        raise PreconditionFailed("The offer changed meanwhile: GET it again and retry.")
    await changes.record(
        session, offer.id, changes.change_for(before, values.get("status", before))
    )
    await search_index.sync(session, [offer.id])
    await session.commit()
    await session.refresh(offer)


async def list_changes(
    session: AsyncSession, *, cursor: str | None, limit: int, today: date
) -> ChangePage:
    after = changes.after_cursor(cursor)
    await changes.close_expired(session, today)
    rows = (await session.execute(_CHANGES, {"after": after, "limit": limit})).mappings().all()
    items = []
    for row in rows:
        data = dict(row)
        seq, kind, changed_at = data.pop("seq"), data.pop("change_kind"), data.pop("changed_at")
        after = seq
        offer = to_public(data, today)
        items.append(
            ChangeItem(
                offer_id=offer.id,
                change=kind,
                changed_at=changed_at,
                offer=None if kind == changes.Change.deleted else offer,
            )
        )
    return ChangePage(items=items, next_cursor=changes.page_cursor(after))
