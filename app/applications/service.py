"""Rules for applications: who may apply, who may read, how status moves, and erasure.

Every read goes through ``load_visible``: a recruiter sees only its organisation's
applications, a candidate only their own, a follow-up token only its one application;
anything else is "not found". A pending application (not yet confirmed by its address's
owner) is seen by nobody.
"""

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications import mails
from app.applications.events import application_event
from app.applications.models import (
    OPEN_STATUSES,
    PIPELINE,
    Application,
    ApplicationDetail,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationStatus,
    ApplicationSummary,
    AuditEvent,
    DocumentKind,
    DocumentPublic,
    EventPublic,
    StatusChange,
)
from app.applications.retention import retention_until
from app.core.api_keys import Role
from app.core.errors import Conflict, NotFound
from app.core.pagination import Page, decode_time_cursor, encode_cursor
from app.core.security import CANDIDATE, FOLLOW_UP, Principal
from app.core.storage import Storage
from app.core.types import utcnow
from app.events import emit
from app.offers.models import Offer
from app.organisations.models import Organisation

# --- reading --------------------------------------------------------------------------------


async def load_visible(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> Application:
    application = await session.get(Application, application_id)
    if application is None or not _may_read(principal, application):
        raise NotFound("No application with this id.")
    return application


def _may_read(principal: Principal, application: Application) -> bool:
    if application.status == ApplicationStatus.pending.value:
        return False
    if principal.role == Role.admin:
        return True
    if principal.role == Role.recruiter:
        return principal.organisation_id == application.organisation_id
    if principal.role == CANDIDATE:
        return principal.candidate_id is not None and principal.candidate_id == (
            application.candidate_id
        )
    if principal.role == FOLLOW_UP:
        return principal.application_id == application.id
    return False


def _summary_fields(application: Application) -> dict[str, Any]:
    return {
        "id": application.id,
        "offer_id": application.offer_id,
        "status": application.status,
        "first_name": application.first_name,
        "last_name": application.last_name,
        "created_at": application.created_at,
        "updated_at": application.updated_at,
        "erased": application.erased_at is not None,
    }


async def detail(
    session: AsyncSession, application: Application, zone: ZoneInfo
) -> ApplicationDetail:
    offer = await session.get(Offer, application.offer_id)
    assert offer is not None
    documents_rows = (
        (
            await session.execute(
                select(ApplicationDocument)
                .where(col(ApplicationDocument.application_id) == application.id)
                .order_by(col(ApplicationDocument.kind))
            )
        )
        .scalars()
        .all()
    )
    events = (
        (
            await session.execute(
                select(ApplicationEvent)
                .where(col(ApplicationEvent.application_id) == application.id)
                .order_by(col(ApplicationEvent.at), col(ApplicationEvent.id))
            )
        )
        .scalars()
        .all()
    )
    return ApplicationDetail(
        **_summary_fields(application),
        email=application.email,
        phone=application.phone,
        message=application.message,
        consent_at=application.consent_at,
        keep_for_future_offers=application.keep_for_future_offers,
        retention_until=retention_until(
            keep_for_future_offers=application.keep_for_future_offers,
            last_candidate_action_at=application.last_candidate_action_at,
            offer_status=offer.status,
            offer_closed_at=offer.closed_at,
            offer_deadline=offer.deadline,
            zone=zone,
            final_status_at=application.ended_at,
        ),
        source_partner=application.partner_key_id is not None,
        documents=[
            DocumentPublic(
                id=d.id,
                kind=DocumentKind(d.kind),
                file_name=d.file_name,
                content_type=d.content_type,
                size=d.size,
                sha256=d.sha256,
            )
            for d in documents_rows
        ],
        history=[
            EventPublic(
                from_status=ApplicationStatus(e.from_status) if e.from_status else None,
                to_status=ApplicationStatus(e.to_status),
                note=e.note,
                actor=e.actor,
                at=e.at,
            )
            for e in events
        ],
    )


async def list_for(
    session: AsyncSession,
    principal: Principal,
    *,
    offer_id: uuid.UUID | None,
    statuses: list[str],
    limit: int,
    cursor: str | None,
) -> Page[ApplicationSummary]:
    statement = (
        select(Application)
        .where(col(Application.status) != ApplicationStatus.pending.value)
        .order_by(col(Application.created_at).desc(), col(Application.id).desc())
    )
    if principal.role == Role.recruiter:
        statement = statement.where(col(Application.organisation_id) == principal.organisation_id)
    elif principal.role == CANDIDATE:
        statement = statement.where(col(Application.candidate_id) == principal.candidate_id)
    if offer_id is not None:
        statement = statement.where(col(Application.offer_id) == offer_id)
    if statuses:
        statement = statement.where(col(Application.status).in_(statuses))
    if cursor:
        created_at, last_id = decode_time_cursor(cursor)
        statement = statement.where(
            tuple_(col(Application.created_at), col(Application.id)) < tuple_(created_at, last_id)
        )
    rows = (await session.execute(statement.limit(limit + 1))).scalars().all()
    items = [ApplicationSummary(**_summary_fields(row)) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(rows[limit - 1].created_at, rows[limit - 1].id)
    return Page[ApplicationSummary](items=items, next_cursor=next_cursor)


async def document_for(
    session: AsyncSession, application: Application, document_id: uuid.UUID
) -> ApplicationDocument:
    document = await session.get(ApplicationDocument, document_id)
    if document is None or document.application_id != application.id:
        raise NotFound("No document with this id in this application.")
    return document


async def audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    *,
    organisation_id: uuid.UUID | None = None,
    application_id: uuid.UUID | None = None,
    document_id: uuid.UUID | None = None,
) -> None:
    session.add(
        AuditEvent(
            action=action,
            actor=principal.role,
            actor_key_id=principal.key_id,
            organisation_id=organisation_id,
            application_id=application_id,
            document_id=document_id,
        )
    )
    await session.commit()


# --- changing -------------------------------------------------------------------------------


def _check_transition(current: str, target: ApplicationStatus) -> None:
    if current not in OPEN_STATUSES:
        raise Conflict(f"This application is {current}: its status no longer changes.")
    if target == ApplicationStatus.rejected:
        return
    if target not in PIPELINE or PIPELINE.index(target) <= PIPELINE.index(
        ApplicationStatus(current)
    ):
        raise Conflict(
            f"Status moves forward along {' → '.join(PIPELINE)}, or to rejected; "
            f"not {current} → {target}."
        )


async def change_status(
    session: AsyncSession,
    principal: Principal,
    application: Application,
    change: StatusChange,
    *,
    base: str,
) -> None:
    """``base``: the public base URL, for the link in the candidate's e-mail."""
    target = change.status
    if application.erased_at is not None:
        raise Conflict("This application was erased at the candidate's request.")
    if target == ApplicationStatus.withdrawn:
        raise Conflict("Only the candidate withdraws an application.")
    _check_transition(application.status, target)
    offer = await session.get(Offer, application.offer_id)
    organisation = await session.get(Organisation, application.organisation_id)
    assert offer is not None
    assert organisation is not None
    # Queued before the move, which commits it with the change (or drops it with a lost
    # race's rollback).
    await mails.tell_status(
        session,
        application,
        offer,
        organisation,
        status=target,
        shared_note=change.note if change.share_note else None,
        base=base,
    )
    await _move(
        session, application, target, note=change.note, actor=principal.role, key=principal.key_id
    )


async def withdraw(session: AsyncSession, application: Application) -> None:
    if application.status not in OPEN_STATUSES:
        raise Conflict(f"This application is {application.status}; it cannot be withdrawn.")
    await _move(
        session, application, ApplicationStatus.withdrawn, note=None, actor="candidate", key=None
    )


async def _move(
    session: AsyncSession,
    application: Application,
    target: ApplicationStatus,
    *,
    note: str | None,
    actor: str,
    key: uuid.UUID | None,
) -> None:
    previous, version = application.status, application.version
    now = utcnow()
    values: dict[str, Any] = {
        "status": target.value,
        "updated_at": now,
        "version": version + 1,
    }
    if target not in OPEN_STATUSES:
        values["ended_at"] = now
    result = await session.execute(
        update(Application)
        .where(col(Application.id) == application.id, col(Application.version) == version)
        .values(**values)
    )
    if getattr(result, "rowcount", 0) != 1:
        await session.rollback()
        raise Conflict("The application changed meanwhile; read it again.")
    session.add(
        ApplicationEvent(
            application_id=application.id,
            from_status=previous,
            to_status=target.value,
            note=note,
            actor=actor,
            actor_key_id=key,
        )
    )
    if target == ApplicationStatus.withdrawn and _seen_by_recruiters(previous):
        await emit(session, application_event("application.withdrawn", application))
    await session.commit()
    await session.refresh(application)


def _seen_by_recruiters(status: str) -> bool:
    # An application still waiting for its e-mail's confirmation ("pending") is nobody's
    # business yet: its events would tell the recruiter it exists.
    return status != "pending"


async def erase(session: AsyncSession, storage: Storage, applications: list[Application]) -> int:
    """Remove the personal data of these applications: files first (so nothing personal
    survives a failure half-way), then the columns; a tombstone row remains."""
    ids = [application.id for application in applications]
    if not ids:
        return 0
    rows = (
        await session.execute(
            select(col(ApplicationDocument.storage_key)).where(
                col(ApplicationDocument.application_id).in_(ids)
            )
        )
    ).all()
    for (key,) in rows:
        await storage.delete(key)
    await session.execute(
        delete(ApplicationDocument).where(col(ApplicationDocument.application_id).in_(ids))
    )
    await session.execute(
        update(ApplicationEvent)
        .where(col(ApplicationEvent.application_id).in_(ids))
        .values(note=None)
    )
    # Erasing a tombstone again tells its recruiter nothing new.
    await emit(
        session,
        *(
            application_event("application.erased", application)
            for application in applications
            if application.erased_at is None and _seen_by_recruiters(application.status)
        ),
    )
    now = utcnow()
    await session.execute(
        update(Application)
        .where(col(Application.id).in_(ids))
        .values(
            first_name=None,
            last_name=None,
            email=None,
            email_hash=None,
            phone=None,
            message=None,
            follow_up_token_hash=None,
            candidate_id=None,
            erased_at=now,
            updated_at=now,
        )
    )
    return len(ids)
