"""Recruiters' scripts: `PUT` one offer by its reference, `POST /v1/offers/bulk` many."""

import hashlib
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request
from starlette.responses import Response

from app.core.api_keys import Role
from app.core.clock import Today
from app.core.db import SessionDep, get_database
from app.core.errors import (
    PROBLEM_MEDIA_TYPE,
    PayloadTooLarge,
    UnsupportedMediaType,
    problem_responses,
)
from app.core.fields import ID_OR_SLUG_PATTERN
from app.core.http import etag_of_model, json_response
from app.core.security import Principal, WriterPrincipal, require_roles
from app.core.urls import url_for
from app.offers.bulk import formats
from app.offers.bulk import service as bulk_service
from app.offers.bulk.upload import BulkMode, BulkReport
from app.offers.bulk.upsert import OfferUpsert
from app.offers.models import OfferPublic

router = APIRouter(tags=["offers"])

RecruiterPrincipal = Annotated[Principal, require_roles(Role.recruiter)]
# Kept in memory up to this size, then on disk: a large upload never sits in memory whole.
_SPOOL_IN_MEMORY = 1024 * 1024

_UPLOAD_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The offers, one per row, each keyed by `reference`; rows are counted "
        "from 1 in every format (a CSV's header line is not a row).",
        "content": {
            formats.JSON: {
                "schema": {
                    "type": "array",
                    "items": {
                        # A row is the PUT's body, with its reference required.
                        "allOf": [
                            {"$ref": "#/components/schemas/OfferUpsert"},
                            {"required": ["reference"]},
                        ]
                    },
                }
            },
            formats.NDJSON: {
                "schema": {"type": "string", "description": "One offer object per line."}
            },
            formats.CSV: {
                "schema": {
                    "type": "string",
                    "description": "UTF-8, with or without BOM; `,` or `;`. The header names "
                    "the offers' fields (accents and case ignored; French names such as "
                    "`intitulé`, `ville`, `date limite`, `avantages`, `langues` accepted). An "
                    "empty cell is not given (the field's default applies); `oui`/`non` in "
                    "yes-or-no columns; dates as `2026-12-31` or `31/12/2026`. A referential's "
                    "value by its code or its French label (case, accents and spaces ignored: "
                    "`CDD`, `Télétravail partiel`), or the label's words before its "
                    "parenthesis (`Alternance`); a label shared by two values is refused. "
                    "Amounts as `2 600 €`, `2 600,50 EUR` or `3,90`; `hours_per_week` as "
                    "`10h30` (10.5). Lists (`benefits`, `grades`, `documents_required`) in one "
                    "cell, items split by `;`, `|` or line breaks; `languages` as "
                    "`en:B2; de:Langue maternelle`; the contact in columns `contact_name`, "
                    "`contact_role`, `contact_email`, `contact_phone`.",
                }
            },
        },
    }
}


async def _spool(request: Request, max_bytes: int) -> tuple[Any, str]:
    """The body in a temporary file (memory first, disk past 1 MiB) and its SHA-256."""
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            spool.close()
            raise PayloadTooLarge(f"An upload is at most {max_bytes:,} bytes. Nothing was written.")
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest()


# ASCII is UTF-8 too.
_UTF8_CHARSETS = {"utf-8", "utf8", "us-ascii", "ascii"}


def _media_type(request: Request) -> str:
    declared, *parameters = request.headers.get("content-type", "").lower().split(";")
    declared = declared.strip()
    if declared not in formats.MEDIA_TYPES:
        raise UnsupportedMediaType(
            "Send the offers as application/json (an array), application/x-ndjson or text/csv."
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"')
        if name.strip() == "charset" and charset not in _UTF8_CHARSETS:
            # Read as UTF-8, such a body would fail row by row; better to say so once.
            raise UnsupportedMediaType(
                f"The offers must be UTF-8, not {charset} (a spreadsheet saves them as "
                "« CSV UTF-8 »)."
            )
    return declared


@router.post(
    "/offers/bulk",
    operation_id="uploadOffers",
    response_model=BulkReport,
    summary="Create, update and close many offers in one call (recruiter key)",
    description="Each row is an offer of the key's organisation, keyed by its `reference`: "
    "created when new, replaced when it differs, left alone when it is the same. "
    "`mode=atomic` (default) writes every row or none (422 when a row fails); "
    "`mode=partial` writes the valid rows and reports the others. `dry_run=true` checks "
    "and reports, writing nothing, with the real run's status and counts (422 and 0 in "
    "mode=atomic when a row fails). `sync=true` closes the organisation's published offers "
    "that the upload does not name (an upload with no row is then refused, 422). With "
    "`Idempotency-Key`, a retry replays the first answer and writes nothing more; the same "
    "key with another body is 422; while the first is still running, 409 with "
    "`Retry-After`. At most `VOCATION_BULK_MAX_ROWS` "
    "rows (10,000) and `VOCATION_BULK_MAX_BYTES` (64 MiB): above, 413 and nothing written.",
    responses=problem_responses(401, 403, 409, 413, 415, 422, 503),
    openapi_extra=_UPLOAD_SCHEMA,
)
async def upload_offers(
    request: Request,
    session: SessionDep,
    principal: RecruiterPrincipal,
    mode: Annotated[BulkMode, Query(description="`atomic` or `partial`.")] = (BulkMode.atomic),
    dry_run: Annotated[bool, Query(description="Check and report; write nothing.")] = False,
    sync: Annotated[
        bool, Query(description="The upload is the full list: close the offers it omits.")
    ] = False,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Any unique string; a retry sends the same one."),
    ] = None,
) -> Response:
    settings = request.app.state.settings
    media_type = _media_type(request)
    spool, body_hash = await _spool(request, settings.bulk_max_bytes)
    try:
        answer = await bulk_service.upload(
            session,
            get_database(request),
            principal,
            bulk_service.Upload(spool, body_hash, media_type, mode, dry_run, sync, idempotency_key),
            max_rows=settings.bulk_max_rows,
            checks=request.app.state.check_pool,
        )
    finally:
        spool.close()
    if answer.status < 300:
        request.app.state.search_worker.wake()
    return _answer(answer.status, answer.body)


def _answer(status: int, body: str) -> Response:
    media_type = PROBLEM_MEDIA_TYPE if status >= 400 else "application/json"
    return Response(body, status_code=status, media_type=media_type)


@router.put(
    "/organisations/{id_or_slug}/offers/{reference:path}",
    operation_id="putOfferByReference",
    response_model=OfferPublic,
    summary="Create or replace one offer by your reference (recruiter or admin key)",
    description="The body is the whole offer. Created (201, `Location`) when the reference "
    "is new; replaced (200) when it differs; left alone (200, same `ETag`, no change-feed "
    "entry) when it is the same. `status` defaults to `published`. With `If-Match`, "
    "refused with 412 when the offer changed since that ETag (without it, 409 and "
    "`Retry-After` when another writer came in between). A closed offer stays closed, "
    "and a published one cannot go back to draft (409).",
    responses={
        201: {"model": OfferPublic, "description": "Created."},
        **problem_responses(401, 403, 404, 409, 412, 413, 422, 503),
    },
)
async def put_offer(
    request: Request,
    session: SessionDep,
    principal: WriterPrincipal,
    id_or_slug: Annotated[str, Path(max_length=80, pattern=ID_OR_SLUG_PATTERN)],
    reference: Annotated[
        str,
        Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$"),
    ],
    body: Annotated[OfferUpsert, Body()],
    day: Today,
) -> Response:
    put = await bulk_service.put_offer(
        session,
        principal,
        id_or_slug,
        reference,
        body,
        if_match=request.headers.get("if-match"),
        today=day,
    )
    headers = {"Location": url_for(request, "get_offer", offer_id=put.offer.id)}
    return json_response(
        put.offer,
        status_code=201 if put.created else 200,
        etag=etag_of_model(put.offer),
        headers=headers if put.created else None,
    )
