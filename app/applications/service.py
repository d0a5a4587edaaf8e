"""Rules for applications: who may apply, who may read, how status moves, and erasure.

Every read goes through ``load_visible``: a recruiter sees only its organisation's
applications, a candidate only their own, a follow-up token only its one application;
anything else is "not found".
"""

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import UploadFile
from sqlalchemy import bindparam, delete, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from app.applications import documents
from app.applications.models import (
    OPEN_STATUSES,
    PIPELINE,
    Application,
    ApplicationCreated,
    ApplicationDetail,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationStatus,
    ApplicationSummary,
    AuditEvent,
    DocumentKind,
    DocumentPublic,
    EventPublic,
)
from app.applications.retention import retention_until
from app.core import idempotency
from app.core.api_keys import Role, hash_key
from app.core.errors import (
    AppError,
    Conflict,
    FieldError,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)
from app.core.pagination import Page, decode_time_cursor, encode_cursor
from app.core.security import CANDIDATE, FOLLOW_UP, Principal
from app.core.storage import ObjectTooLarge, Storage
from app.core.types import utcnow
from app.offers.models import Offer
from app.offers.service import effective_status

log = logging.getLogger("vocation.applications")

FOLLOW_UP_PREFIX = "app_"
CHUNK = 64 * 1024

_FOLLOW_UP_LOOKUP = select(col(Application.id)).where(
    col(Application.follow_up_token_hash) == bindparam("token_hash")
)


async def resolve_follow_up_token(connection: AsyncConnection, token: str) -> Principal | None:
    application_id = (
        await connection.execute(_FOLLOW_UP_LOOKUP, {"token_hash": hash_key(token)})
    ).scalar()
    if application_id is None:
        return None
    return Principal(role=FOLLOW_UP, application_id=application_id)


def email_fingerprint(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Candidature:
    """What the candidate sent, validated."""

    first_name: str
    last_name: str
    email: str
    phone: str | None
    message: str | None
    keep_for_future_offers: bool


@dataclass(slots=True)
class CheckedFile:
    kind: DocumentKind
    upload: UploadFile
    content_type: str
    file_name: str


async def check_offer_open(session: AsyncSession, offer_id: uuid.UUID, today: date) -> Offer:
    offer = await session.get(Offer, offer_id)
    if offer is None or offer.status == "draft":
        raise NotFound("No offer with this id.")
    if effective_status(offer.status, offer.deadline, today) != "published":
        raise Conflict("This offer is closed: it no longer takes applications.")
    if offer.apply_via != "platform":
        where = offer.apply_url or offer.apply_email or "the recruiter"
        raise Unprocessable(
            f"This offer takes applications elsewhere ({offer.apply_via}: {where}), not here."
        )
    return offer


def check_files(
    uploads: list[tuple[DocumentKind, UploadFile]], *, max_bytes: int, max_unpacked: int
) -> list[CheckedFile]:
    checked = []
    for kind, upload in uploads:
        try:
            content_type = documents.detect_type(
                upload.file, max_bytes=max_bytes, max_unpacked_bytes=max_unpacked
            )
        except documents.DocumentRejected as rejected:
            raise _document_problem(rejected, kind) from None
        name = documents.sanitise_filename(upload.filename, content_type)
        checked.append(CheckedFile(kind, upload, content_type, name))
    return checked


_REJECTIONS: dict[int, type[AppError]] = {
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: Unprocessable,
}


def _document_problem(rejected: documents.DocumentRejected, kind: DocumentKind) -> AppError:
    problem = _REJECTIONS.get(rejected.status, Unprocessable)
    return problem(str(rejected), errors=[FieldError(field=kind.value, message=str(rejected))])


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    await upload.seek(0)
    while chunk := await upload.read(CHUNK):
        yield chunk


async def apply(
    session: AsyncSession,
    storage: Storage,
    *,
    offer: Offer,
    principal: Principal | None,
    candidature: Candidature,
    files: list[CheckedFile],
    max_bytes: int,
    idempotency_key: tuple[str, str] | None = None,
) -> ApplicationCreated:
    """Store the files, then write the rows and commit; if anything fails, remove what was
    stored, so there is never a file without its row nor a row without its files."""
    email_hash = email_fingerprint(candidature.email)
    duplicate = await session.execute(
        select(col(Application.id)).where(
            col(Application.offer_id) == offer.id, col(Application.email_hash) == email_hash
        )
    )
    if duplicate.first() is not None:
        raise _duplicate()
    token = FOLLOW_UP_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    application = Application(
        offer_id=offer.id,
        organisation_id=offer.organisation_id,
        candidate_id=principal.candidate_id if principal and principal.role == CANDIDATE else None,
        partner_key_id=principal.key_id if principal and principal.role == Role.partner else None,
        first_name=candidature.first_name,
        last_name=candidature.last_name,
        email=candidature.email.strip(),
        email_hash=email_hash,
        phone=candidature.phone,
        message=candidature.message,
        consent_at=now,
        keep_for_future_offers=candidature.keep_for_future_offers,
        follow_up_token_hash=hash_key(token),
        last_candidate_action_at=now,
    )
    # Files first, outside any transaction: an upload may take seconds, and holding a
    # connection (or SQLite's write lock) that long would stall everyone else.
    await session.commit()
    stored_keys: list[str] = []
    try:
        documents_rows = []
        for checked in files:
            key = f"applications/{uuid.uuid4().hex}"
            stored_keys.append(key)
            stored = await storage.save(
                key, _chunks(checked.upload), content_type=checked.content_type, max_bytes=max_bytes
            )
            documents_rows.append(
                ApplicationDocument(
                    application_id=application.id,
                    kind=checked.kind.value,
                    storage_key=key,
                    file_name=checked.file_name,
                    content_type=checked.content_type,
                    size=stored.size,
                    sha256=stored.sha256,
                )
            )
        session.add(application)
        # No ORM relationship orders the inserts: the application goes first.
        await session.flush()
        session.add_all(documents_rows)
        session.add(
            ApplicationEvent(
                application_id=application.id,
                to_status=ApplicationStatus.received.value,
                actor="candidate",
            )
        )
        if idempotency_key is not None:
            # The follow-up token is a secret: the recorded answer leaves it out, and a
            # replay gets a fresh one (see ``replay_created``).
            scope, key = idempotency_key
            recorded = {"id": str(application.id), "status": ApplicationStatus.received.value}
            await idempotency.record(session, scope, key, 201, json.dumps(recorded))
        await session.commit()
    except BaseException as error:
        await session.rollback()
        for key in stored_keys:
            await _delete_quietly(storage, key)
        if isinstance(error, IntegrityError):
            raise _duplicate() from None
        if isinstance(error, ObjectTooLarge):
            raise documents_too_large(max_bytes) from None
        raise
    return ApplicationCreated(
        id=application.id, status=ApplicationStatus.received, follow_up_token=token
    )


async def replay_created(session: AsyncSession, recorded: str) -> ApplicationCreated:
    """The answer to a retried application: the same application, with a new follow-up
    token (the first one was never stored; the retry means it was probably lost)."""
    data = json.loads(recorded)
    application = await session.get(Application, uuid.UUID(data["id"]))
    if application is None or application.erased_at is not None:
        raise NotFound("This application no longer exists.")
    token = FOLLOW_UP_PREFIX + secrets.token_urlsafe(32)
    application.follow_up_token_hash = hash_key(token)
    await session.commit()
    return ApplicationCreated(
        id=application.id, status=ApplicationStatus(application.status), follow_up_token=token
    )


async def _delete_quietly(storage: Storage, key: str) -> None:
    # The first failure is the one to report; a failed clean-up is logged (the key is
    # random, no personal data) and left to an operator.
    try:
        await storage.delete(key)
    except Exception:
        log.exception("could not remove stored object %s after a failed application", key)


def documents_too_large(max_bytes: int) -> AppError:
    return _document_problem(
        documents.DocumentRejected(413, f"each file is at most {max_bytes} bytes"),
        DocumentKind.cv,
    )


def _duplicate() -> Conflict:
    return Conflict("You have already applied to this offer with this e-mail address.")


# --- reading --------------------------------------------------------------------------------


async def load_visible(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> Application:
    application = await session.get(Application, application_id)
    if application is None or not _may_read(principal, application):
        raise NotFound("No application with this id.")
    return application


def _may_read(principal: Principal, application: Application) -> bool:
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
    statement = select(Application).order_by(
        col(Application.created_at).desc(), col(Application.id).desc()
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
    target: ApplicationStatus,
    note: str | None,
) -> None:
    if application.erased_at is not None:
        raise Conflict("This application was erased at the candidate's request.")
    if target == ApplicationStatus.withdrawn:
        raise Conflict("Only the candidate withdraws an application.")
    _check_transition(application.status, target)
    await _move(session, application, target, note=note, actor=principal.role, key=principal.key_id)


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
    await session.commit()
    await session.refresh(application)


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
