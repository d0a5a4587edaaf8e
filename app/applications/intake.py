"""Taking an application in: who may apply to which offer, the files' checks, storing
them, and the tokens that let a candidate without an account follow up."""

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

from fastapi import UploadFile
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from app.applications import documents
from app.applications.models import (
    Application,
    ApplicationCreated,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationStatus,
    DocumentKind,
)
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


async def request_fingerprint(
    principal: Principal | None, candidature: Candidature, files: list[CheckedFile]
) -> str:
    """What makes two application requests "the same" for Idempotency-Key: the caller, the
    fields and the files' contents (not the multipart bytes, whose boundary varies)."""
    who = str(principal.key_id or principal.candidate_id) if principal else None
    digests = []
    for checked in files:
        digest = hashlib.sha256()
        async for chunk in _chunks(checked.upload):
            digest.update(chunk)
        digests.append(digest.hexdigest())
    return idempotency.fingerprint([who, repr(candidature), digests])


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
