"""Writing offers by their reference: `PUT` one, or upload many."""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Conflict, FieldError, PreconditionFailed, Unprocessable
from app.core.http import require_match
from app.core.security import Principal
from app.offers import service, writer
from app.offers.bulk import upsert
from app.offers.bulk.upsert import OfferUpsert, Outcome
from app.offers.models import OfferPublic
from app.organisations import service as organisations


@dataclass(frozen=True, slots=True)
class Put:
    offer: OfferPublic
    created: bool


async def put_offer(
    session: AsyncSession,
    principal: Principal,
    id_or_slug: str,
    reference: str,
    body: OfferUpsert,
    *,
    if_match: str | None,
    today: date,
) -> Put:
    """Create, replace, or leave alone (when the same) the offer with this reference."""
    organisation = await organisations.load_for_write(session, principal, id_or_slug)
    if body.reference not in (None, reference):
        raise Unprocessable(
            "The body's reference differs from the path's.",
            errors=[FieldError(field="reference", message="must equal the path's reference")],
        )
    if body.organisation is not None and body.organisation not in {
        organisation.slug,
        str(organisation.id),
    }:
        raise Unprocessable(
            "The body names another organisation than the path.",
            errors=[FieldError(field="organisation", message="not the path's organisation")],
        )
    organisation_id: uuid.UUID = organisation.id
    row = body.model_copy(update={"reference": reference})
    existing = (await upsert.existing_by_reference(session, organisation_id, [reference])).get(
        reference
    )
    if existing is not None and if_match is not None:
        require_match(if_match, await service.read_after_write(session, existing["id"], today))
    try:
        step = upsert.plan(1, upsert.stored_values(row), existing)
    except writer.ClosedOffer:
        raise Conflict("This offer is closed; closed offers are kept as they were.") from None
    except writer.StatusRefused as error:
        raise Conflict(str(error)) from None
    if step.outcome != Outcome.unchanged:
        offers_writer = writer.OfferWriter(session)
        try:
            await upsert.write(offers_writer, organisation_id, [step])
            await offers_writer.commit()
        except IntegrityError:
            await session.rollback()
            raise Conflict("Another request created this reference at the same time.") from None
        except writer.LostRace:
            await session.rollback()
            if if_match is not None:
                raise PreconditionFailed("The offer changed meanwhile: send it again.") from None
            # No precondition was asked for: another writer came in between, so retry.
            raise Conflict(
                "The offer changed meanwhile: send it again.", headers={"Retry-After": "1"}
            ) from None
    public = await service.read_after_write(session, step.offer_id, today)
    return Put(public, created=step.outcome == Outcome.created)
