"""Applying to an offer, and reading and moving applications."""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Path, Query, Request, UploadFile
from pydantic import WithJsonSchema
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from app.applications import export, files, intake, service
from app.applications.documents import ACCEPTED_TYPES, content_disposition
from app.applications.models import (
    ApplicationCreated,
    ApplicationDetail,
    ApplicationStatus,
    ApplicationSummary,
    DocumentKind,
    StatusChange,
)
from app.core.api_keys import Role
from app.core.clock import Today, zone_of
from app.core.db import SessionDep
from app.core.email import CanonicalEmailAddress
from app.core.errors import FieldError, Forbidden, NotFound, Unprocessable, problem_responses
from app.core.fields import Line, LongText
from app.core.http import json_response, private_json
from app.core.pagination import CursorParam, Page, PageLimit, next_link
from app.core.security import (
    CANDIDATE,
    CANDIDATE_CREDENTIALS,
    FOLLOW_UP,
    OPTIONAL_CREDENTIALS,
    OptionalPrincipal,
    Principal,
    require_roles,
)
from app.core.storage import ObjectNotFound, Storage, StorageDep
from app.core.strict_query import STRICT_QUERY
from app.core.urls import public_base

router = APIRouter(tags=["applications"])

ApplicationId = Annotated[uuid.UUID, Path(description="The application's id.")]
Reader = Annotated[Principal, require_roles(Role.admin, Role.recruiter, CANDIDATE, FOLLOW_UP)]
Recruiter = Annotated[Principal, require_roles(Role.admin, Role.recruiter)]
Candidate = Annotated[Principal, require_roles(CANDIDATE, FOLLOW_UP)]


# FastAPI describes an upload by `contentMediaType` alone, as JSON Schema 2020-12 does;
# client generators (openapi-python-client, openapi-typescript) know a file only by
# `format: binary`, and without it send the file's name as text.
Document = Annotated[
    UploadFile,
    WithJsonSchema(
        {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}
    ),
]

_ACCEPTED = ", ".join(ACCEPTED_TYPES)
# The form's schema says "a file"; the encoding says which types the server accepts.
DOCUMENT_ENCODING = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "encoding": {
                    "cv": {"contentType": _ACCEPTED},
                    "cover_letter": {"contentType": _ACCEPTED},
                }
            }
        }
    }
}

APPLY_DESCRIPTION = """
Apply with `multipart/form-data`. `cv` is required, `cover_letter` optional; each is a
PDF, DOCX or ODT of at most 10 MB (setting `VOCATION_MAX_DOCUMENT_BYTES`), recognised by its
content, never by its name or declared type. Empty files are refused (422), other types
(415), files over the limit (413), and DOCX or ODT files that unpack to more than 50 MB
(`VOCATION_MAX_UNPACKED_DOCUMENT_BYTES`) or look like zip bombs (422).

Active content is refused with 422, the reason in `errors[]` on the field: the type's
signature must start the file (415 otherwise); a PDF must not be encrypted nor hold
JavaScript, actions that open other files or programs, embedded files, rich media or an XFA
form; a DOCX or ODT must not hold macros, ActiveX or OLE objects, other archives or
programs, nor entry names that leave their folder.

`consent` must be `true`: the candidate accepts the processing of this data for this
recruitment; its time is recorded. With `keep_for_future_offers`, the data is kept two
years after the candidate's last action; otherwise three months after the offer's process
ends.

Who gets `201` at once, with `status: received`: a signed-in candidate (`cnd_…` token)
whose account's address is verified, applying with that address; the application joins
their account. Everyone else (anonymous, a partner key, an unverified account, another
address) gets `202` with `status: pending` and `follow_up_token: null`, and a link is
e-mailed to the address: until it is used the application is seen by nobody and blocks
nobody, and 48 hours after it was made it is erased with its files. The `202` is the same
whatever that address did before, so it tells nobody whether a person applied. Using the
link (`POST /v1/applications/confirm`) makes it `received` and e-mails the receipt with the
follow-up token.

The e-mail is stored in its canonical form (Unicode NFKC, case-folded), and one address
applies once to an offer: « ＣＡ@example.org » is « ca@example.org », but
« ca+emploi@example.org » is another address. A verified candidate applying again gets
`409`; a second pending application is told so only on its confirmation page, to the
address's owner.

Send an `Idempotency-Key` header to retry safely: the same key and request replay the first
response, with `follow_up_token` `null` (the token is never shown twice nor renewed); the
same key with another request is 422; a request still in progress is 409.

The `201` response's `follow_up_token` is shown only once: it opens this application (read,
withdraw) and nothing else. A partner key records which partner site the application came
from.
"""


@router.post(
    "/offers/{offer_id}/applications",
    operation_id="applyToOffer",
    response_model=ApplicationCreated,
    status_code=201,
    summary="Apply to an offer",
    description=APPLY_DESCRIPTION,
    responses={
        201: {"description": "Received: a verified candidate, with that address."},
        202: {
            "description": "Pending: a link was e-mailed to the address to confirm it.",
            "model": ApplicationCreated,
        },
        **problem_responses(401, 403, 404, 409, 413, 415, 422),
    },
    # Candidates' sign-in before the empty requirement: FastAPI appends both to the key.
    openapi_extra={"security": CANDIDATE_CREDENTIALS["security"] + OPTIONAL_CREDENTIALS["security"]}
    | DOCUMENT_ENCODING,
)
async def apply(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    principal: OptionalPrincipal,
    offer_id: Annotated[uuid.UUID, Path(description="The offer's id.")],
    day: Today,
    first_name: Annotated[Line, Form(max_length=100)],
    last_name: Annotated[Line, Form(max_length=100)],
    email: Annotated[CanonicalEmailAddress, Form()],
    consent: Annotated[bool, Form(description="Must be true.")],
    cv: Annotated[
        Document,
        File(description="Required. PDF, DOCX or ODT; 10 MB at most by default."),
    ],
    phone: Annotated[str | None, Form(max_length=40, pattern=r"^\+?[0-9 .()-]{6,40}$")] = None,
    message: Annotated[LongText | None, Form(max_length=5000)] = None,
    keep_for_future_offers: Annotated[bool, Form()] = False,
    cover_letter: Annotated[
        Document | None, File(description="Optional. PDF, DOCX or ODT; 10 MB at most by default.")
    ] = None,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
    ] = None,
) -> Response:
    if principal is not None and principal.role not in (Role.partner, CANDIDATE):
        raise Forbidden("Candidates apply: anonymously, signed in, or through a partner key.")
    if not consent:
        raise Unprocessable(
            "The candidate's consent is required to apply.",
            errors=[FieldError(field="consent", message="must be true")],
        )
    settings = request.app.state.settings
    uploads = [(DocumentKind.cv, cv)]
    if cover_letter is not None and (cover_letter.filename or cover_letter.size):
        uploads.append((DocumentKind.cover_letter, cover_letter))
    # Reading a PDF's structure takes milliseconds to a few seconds: off the event loop.
    checked = await run_in_threadpool(
        files.check_files,
        uploads,
        max_bytes=settings.max_document_bytes,
        max_unpacked=settings.max_unpacked_document_bytes,
    )
    candidature = intake.Candidature(
        first_name=first_name,
        last_name=last_name,
        email=str(email),
        phone=phone,
        message=message,
        keep_for_future_offers=keep_for_future_offers,
    )
    status, created = await intake.apply(
        session,
        storage,
        intake.Submission(offer_id, principal, candidature, checked),
        today=day,
        max_bytes=settings.max_document_bytes,
        base=public_base(request),
        idempotency_key=idempotency_key,
    )
    return json_response(created, status_code=status)


@router.get(
    "/applications",
    operation_id="listApplications",
    response_model=Page[ApplicationSummary],
    summary="List applications (recruiters: their organisation's)",
    responses=problem_responses(401, 403, 422),
    dependencies=[STRICT_QUERY],
)
async def list_applications(
    request: Request,
    session: SessionDep,
    principal: Recruiter,
    limit: PageLimit,
    status: Annotated[
        list[ApplicationStatus], Query(default_factory=list, description="Repeatable.")
    ],
    offer_id: Annotated[uuid.UUID | None, Query(description="Only this offer's.")] = None,
    cursor: CursorParam = None,
) -> Response:
    page = await service.list_for(
        session,
        principal,
        offer_id=offer_id,
        statuses=[value.value for value in status],
        limit=limit,
        cursor=cursor,
    )
    link = next_link(request, page.next_cursor)
    return private_json(page, headers={"Link": link} if link else None)


@router.get(
    "/applications/{application_id:uuid}",
    operation_id="getApplication",
    response_model=ApplicationDetail,
    summary="Read one application",
    description="For the recruiting organisation's keys, admins, the candidate signed in, or "
    "the application's follow-up token.",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_application(
    request: Request, session: SessionDep, principal: Reader, application_id: ApplicationId
) -> Response:
    application = await service.load_visible(session, principal, application_id)
    return private_json(await service.detail(session, application, zone_of(request)))


@router.get(
    "/applications/{application_id:uuid}/documents/{document_id}",
    operation_id="downloadApplicationDocument",
    summary="Download a document",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The file, as an attachment.",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "application/vnd.oasis.opendocument.text": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        },
        **problem_responses(401, 403, 404, 422),
    },
)
async def download_document(
    session: SessionDep,
    storage: StorageDep,
    principal: Reader,
    application_id: ApplicationId,
    document_id: Annotated[uuid.UUID, Path(description="The document's id.")],
) -> StreamingResponse:
    application = await service.load_visible(session, principal, application_id)
    document = await service.document_for(session, application, document_id)
    if principal.role in (Role.admin, Role.recruiter):
        await service.audit(
            session,
            principal,
            "document.download",
            organisation_id=application.organisation_id,
            application_id=application.id,
            document_id=document.id,
        )
    return StreamingResponse(
        await _opened(storage, document.storage_key),
        media_type=document.content_type,
        headers={
            "Content-Disposition": content_disposition(document.file_name),
            "Content-Length": str(document.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


async def _opened(storage: Storage, key: str) -> AsyncIterator[bytes]:
    """The stream, with its first chunk already read: a missing object must be a 404 before
    the 200 and its headers are sent, not an empty file."""
    stream = storage.open(key)
    try:
        first = await anext(stream)
    except ObjectNotFound:
        raise NotFound("This document is no longer available.") from None
    except StopAsyncIteration:
        first = b""

    async def chained() -> AsyncIterator[bytes]:
        yield first
        async for chunk in stream:
            yield chunk

    return chained()


@router.patch(
    "/applications/{application_id:uuid}",
    operation_id="changeApplicationStatus",
    response_model=ApplicationDetail,
    summary="Move an application along the process",
    description="`received → in_review → interview → offer → hired` (forward only), or "
    "`rejected` from any open state. Each change is kept in `history` with its time, actor "
    "and optional note, and e-mailed to the candidate; the note goes in that e-mail only "
    "with `share_note: true`. Notes are part of the candidate's data: the candidate reads "
    "them (right of access) and they are erased with the application.",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def change_status(
    request: Request,
    session: SessionDep,
    principal: Recruiter,
    application_id: ApplicationId,
    change: StatusChange,
) -> Response:
    application = await service.load_visible(session, principal, application_id)
    await service.change_status(session, principal, application, change, base=public_base(request))
    return private_json(await service.detail(session, application, zone_of(request)))


@router.post(
    "/applications/{application_id:uuid}/withdraw",
    operation_id="withdrawApplication",
    response_model=ApplicationDetail,
    summary="Withdraw an application (the candidate)",
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def withdraw(
    request: Request, session: SessionDep, principal: Candidate, application_id: ApplicationId
) -> Response:
    application = await service.load_visible(session, principal, application_id)
    await service.withdraw(session, application)
    return private_json(await service.detail(session, application, zone_of(request)))


@router.delete(
    "/applications/{application_id:uuid}",
    operation_id="eraseApplication",
    status_code=204,
    summary="Erase an application (the candidate)",
    description="For the candidate signed in or holding the follow-up token: deletes the "
    "application's personal data and files; the recruiter then sees it as erased.",
    responses=problem_responses(401, 403, 404, 422),
)
async def erase_application(
    session: SessionDep, storage: StorageDep, principal: Candidate, application_id: ApplicationId
) -> Response:
    application = await service.load_visible(session, principal, application_id)
    await service.erase(session, storage, [application])
    await session.commit()
    return Response(status_code=204)


@router.get(
    "/offers/{offer_id}/applications.csv",
    operation_id="exportOfferApplicationsCsv",
    summary="Export an offer's applications as CSV",
    response_class=Response,
    description="One row per application. `dialect=standard` (the default) separates by `,`; "
    "`dialect=excel-fr` separates by `;` and writes booleans (`keep_for_future_offers`, "
    "`erased`) as `oui`/`non`, as a spreadsheet set to French opens it with a double-click. "
    "Both are UTF-8 with a byte-order mark, quote a field holding the separator, a quote or "
    "a line break, and prefix with `'` a cell a spreadsheet would run as a formula.",
    responses={
        200: {
            "description": "UTF-8 CSV, with a byte-order mark.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **problem_responses(401, 403, 404, 422),
    },
    dependencies=[STRICT_QUERY],
)
async def export_csv(
    session: SessionDep,
    principal: Recruiter,
    offer_id: Annotated[uuid.UUID, Path(description="The offer's id.")],
    dialect: Annotated[
        export.CsvDialect,
        Query(description="`standard` (`,`, `True`/`False`) or `excel-fr` (`;`, `oui`/`non`)."),
    ] = export.CsvDialect.standard,
) -> Response:
    body, organisation_id = await export.offer_csv(session, principal, offer_id, dialect)
    await service.audit(session, principal, "applications.export", organisation_id=organisation_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="applications-{offer_id}.csv"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
