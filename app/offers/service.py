"""Rules and queries for offers."""

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.errors import Conflict, FieldError, NotFound, PreconditionFailed, Unprocessable
from app.core.patching import apply_patch
from app.core.security import Principal
from app.core.types import not_in_future
from app.offers import changes, lifetime, writer
from app.offers.bulk.upsert import stored_values
from app.offers.changes import ChangeItem, ChangePage, OfferChange
from app.offers.models import LIST_FIELDS, Offer, OfferCreate, OfferFields, OfferUpdate
from app.offers.reads import OFFER_COLUMNS, ORGANISATION_COLUMNS, offers, organisations, to_public
from app.organisations.models import Organisation
from app.referentials.enums import OfferStatus

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
        not_in_future(value)
    except ValueError as error:
        raise Unprocessable(
            f"published_at: {error}.",
            errors=[FieldError(field="published_at", message=str(error))],
        ) from None


async def create(session: AsyncSession, principal: Principal, data: OfferCreate) -> uuid.UUID:
    organisation_id = _owner_for_create(principal, data)
    _check_published_at(data.published_at)
    if await session.get(Organisation, organisation_id) is None:
        raise Unprocessable(
            "No organisation with this id.",
            errors=[FieldError(field="organisation_id", message="unknown organisation")],
        )
    offer_id = uuid.uuid4()
    offers_writer = writer.OfferWriter(session)
    try:
        await offers_writer.create(
            organisation_id, [writer.NewOffer(offer_id, stored_values(data), data.published_at)]
        )
    except IntegrityError:
        await session.rollback()
        raise _reference_taken(data.reference) from None
    except writer.Incomplete as missing:
        raise incomplete(missing) from None
    await offers_writer.commit()
    return offer_id


def incomplete(missing: writer.Incomplete) -> Unprocessable:
    return Unprocessable(
        f"{missing}; a draft may leave it out.",
        errors=[FieldError(field=missing.field, message="required to publish")],
    )


def _reference_taken(reference: str | None) -> Conflict:
    return Conflict(f"Your organisation already has an offer with the reference {reference!r}.")


async def load_for_write(session: AsyncSession, principal: Principal, offer_id: uuid.UUID) -> Offer:
    offer = await session.get(Offer, offer_id)
    # Another organisation's offer is "not found": its drafts must not be probed.
    if offer is None or not principal.may_write_for(offer.organisation_id):
        raise NotFound("No offer with this id.")
    return offer


def current_of(offer: Offer) -> writer.Current:
    values = {name: getattr(offer, name) for name in (*writer.STORED_FIELDS, "published_at")}
    return writer.Current(offer.id, offer.version, values)


async def update(session: AsyncSession, offer: Offer, patch: OfferUpdate) -> None:
    if offer.status == OfferStatus.closed:
        raise Conflict("This offer is closed; closed offers are kept as they were.")
    sent = patch.model_dump(exclude_unset=True)
    # `null` clears a field: for a list, that is the empty list it holds when not given.
    sent |= {name: [] for name in LIST_FIELDS if name in sent and sent[name] is None}
    status = sent.pop("status", None) or offer.status
    merged = apply_patch(OfferFields, offer, sent, derived={"departement": "region"})
    wanted = merged.model_dump() | {"status": status}
    default = lifetime.of_session(session).default_expiry(offer.deadline, offer.published_at)
    if "expires_at" not in sent and offer.expires_at == default:
        # An end that was the default follows the deadline and the publication.
        wanted["expires_at"] = None
    await _change(session, current_of(offer), wanted)


async def close(session: AsyncSession, offer: Offer) -> None:
    await _change(session, current_of(offer), {"status": OfferStatus.closed.value})


async def _change(session: AsyncSession, current: writer.Current, wanted: dict[str, Any]) -> None:
    offers_writer = writer.OfferWriter(session)
    try:
        changed = await offers_writer.change(current, wanted)
    except writer.StatusRefused as error:
        raise Conflict(str(error)) from None
    except writer.Incomplete as missing:
        raise incomplete(missing) from None
    except IntegrityError:
        await session.rollback()
        raise _reference_taken(wanted.get("reference")) from None
    except writer.LostRace:
        await session.rollback()
        raise PreconditionFailed("The offer changed meanwhile: GET it again and retry.") from None
    if changed:
        await offers_writer.commit()


async def read_changes(
    reader: AsyncConnection, *, cursor: str | None, limit: int, today: date
) -> ChangePage:
    """A page of the change feed. Offers past their deadline read as closed here as
    everywhere; their "closed" entry comes when the expiry worker closes them
    (app.offers.expiry): a read never writes."""
    after = changes.after_cursor(cursor)
    rows = (await reader.execute(_CHANGES, {"after": after, "limit": limit})).mappings().all()
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
