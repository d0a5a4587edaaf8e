"""Rules and queries for offers."""

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import versioned_update
from app.core.errors import Conflict, FieldError, NotFound, PreconditionFailed, Unprocessable
from app.core.patching import apply_patch
from app.core.security import Principal
from app.core.types import in_storable_range, utcnow
from app.offers import changes
from app.offers.changes import ChangeItem, ChangePage, OfferChange
from app.offers.models import Offer, OfferCreate, OfferFields, OfferUpdate

# The reads moved to `reads`; here too for the code that finds them here.
from app.offers.reads import _BY_ID as _BY_ID
from app.offers.reads import _PUBLIC_SELECT as _PUBLIC_SELECT
from app.offers.reads import OFFER_COLUMNS as OFFER_COLUMNS
from app.offers.reads import ORGANISATION_COLUMNS as ORGANISATION_COLUMNS
from app.offers.reads import Readable as Readable
from app.offers.reads import effective_status as effective_status
from app.offers.reads import get_public as get_public
from app.offers.reads import offers as offers
from app.offers.reads import organisations as organisations
from app.offers.reads import read_after_write as read_after_write
from app.offers.reads import to_public as to_public
from app.organisations.models import Organisation
from app.referentials.enums import OfferStatus
from app.search import index as search_index

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
