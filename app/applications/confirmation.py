"""Confirming a pending application with the link sent to its address: proof that the
address's owner sent it (or at least wants it). Only then does it get its duplicate check,
its follow-up token, its recruiter and its receipt."""

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications import follow_up, received
from app.applications.intake import email_fingerprint
from app.applications.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationStatus,
)
from app.applications.pending import CONFIRM_PURPOSE
from app.core import email_tokens
from app.core.email_tokens import InvalidLink
from app.core.errors import Conflict
from app.core.storage import Storage
from app.core.types import utcnow
from app.offers.models import Offer
from app.organisations.models import Organisation


class AlreadyApplied(Conflict):
    """Told only to whoever holds the link, that is the address's owner."""

    def __init__(self) -> None:
        super().__init__("You have already applied to this offer with this e-mail address.")


@dataclass(frozen=True, slots=True)
class Awaiting:
    """What the link's page names: the application it would confirm."""

    offer_title: str
    organisation_name: str


@dataclass(frozen=True, slots=True)
class Confirmed:
    application: Application
    follow_up_token: str
    offer_title: str
    organisation_name: str


async def awaiting(session: AsyncSession, token: str) -> Awaiting:
    """For the page the link opens: reads only (mail scanners open links)."""
    found = await email_tokens.peek(session, token, CONFIRM_PURPOSE)
    application = await _pending(session, found.application_id)
    offer, organisation = await _offer_and_organisation(session, application)
    return Awaiting(offer_title=offer.title, organisation_name=organisation.name)


async def confirm(session: AsyncSession, storage: Storage, token: str, *, base: str) -> Confirmed:
    found = await email_tokens.consume(session, token, CONFIRM_PURPOSE)
    application = await _pending(session, found.application_id, lock=True)
    assert application.email is not None
    email_hash = email_fingerprint(application.email)
    earlier = await session.execute(
        select(col(Application.id)).where(
            col(Application.offer_id) == application.offer_id,
            col(Application.email_hash) == email_hash,
        )
    )
    if earlier.first() is not None:
        await _drop(session, storage, application)
        raise AlreadyApplied()
    offer, organisation = await _offer_and_organisation(session, application)
    follow_up_token, token_hash = follow_up.new_token()
    now = utcnow()
    application.status = ApplicationStatus.received.value
    application.email_hash = email_hash
    application.follow_up_token_hash = token_hash
    # Recruiters list newest first and poll for what is new: a confirmed application
    # arrives now, not when its form was sent, or a poller past that time would miss it.
    application.created_at = now
    application.updated_at = now
    application.last_candidate_action_at = now
    application.version += 1
    session.add(
        ApplicationEvent(
            application_id=application.id,
            to_status=ApplicationStatus.received.value,
            actor="candidate",
        )
    )
    await received.announce(session, application, follow_up_token=follow_up_token, base=base)
    try:
        await session.commit()
    except IntegrityError:
        # The same address was received meanwhile (a signed-in application at the same
        # moment): the unique constraint decided.
        await session.rollback()
        raise AlreadyApplied() from None
    return Confirmed(
        application=application,
        follow_up_token=follow_up_token,
        offer_title=offer.title,
        organisation_name=organisation.name,
    )


async def _pending(
    session: AsyncSession, application_id: uuid.UUID | None, *, lock: bool = False
) -> Application:
    application = (
        await session.get(Application, application_id, with_for_update=lock)
        if application_id is not None
        else None
    )
    # Confirmed already (a second click), or erased: the link is spent, whichever it is.
    if application is None or application.status != ApplicationStatus.pending.value:
        raise InvalidLink()
    return application


async def _offer_and_organisation(
    session: AsyncSession, application: Application
) -> tuple[Offer, Organisation]:
    offer = await session.get(Offer, application.offer_id)
    organisation = await session.get(Organisation, application.organisation_id)
    assert offer is not None
    assert organisation is not None
    return offer, organisation


async def _drop(session: AsyncSession, storage: Storage, application: Application) -> None:
    """A duplicate can never be received: it goes now, with its files, rather than wait
    for the sweep; the link is spent with it."""
    keys = (
        await session.execute(
            select(col(ApplicationDocument.storage_key)).where(
                col(ApplicationDocument.application_id) == application.id
            )
        )
    ).scalars()
    for key in list(keys):
        await storage.delete(key)
    await session.execute(
        delete(ApplicationDocument).where(col(ApplicationDocument.application_id) == application.id)
    )
    await session.execute(delete(Application).where(col(Application.id) == application.id))
    await session.commit()
