"""/v1/offers: the public list and detail, and recruiters' writes."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.core.clock import Today
from app.core.db import ReaderDep, SessionDep
from app.core.errors import problem_responses
from app.core.fields import ID_OR_SLUG_PATTERN
from app.core.http import cached_json, check_if_match, etag_of_model, json_response
from app.core.pagination import CursorParam, Page, PageLimit, next_link
from app.core.security import OPTIONAL_CREDENTIALS, OptionalPrincipal, WriterPrincipal
from app.offers import service
from app.offers.changes import ChangePage
from app.offers.models import OfferCreate, OfferPublic, OfferUpdate
from app.referentials.enums import ContractType, RemoteMode
from app.referentials.validation import DepartementCode
from app.syndication.responses import JOB_POSTING_CONTENT, job_posting_response, wants_jsonld

router = APIRouter(prefix="/offers", tags=["offers"])

OfferId = Annotated[uuid.UUID, Path(description="The offer's id.")]


# Lists default to empty rather than null: `anyOf [array, null]` only adds noise to the
# spec, and clients see no difference.
async def offer_filters(
    contract_type: Annotated[
        list[ContractType], Query(default_factory=list, description="Repeatable: any of them.")
    ],
    departement: Annotated[
        list[DepartementCode],
        Query(default_factory=list, description="INSEE code of the département; repeatable."),
    ],
    remote: Annotated[list[RemoteMode], Query(default_factory=list, description="Repeatable.")],
    organisation: Annotated[
        list[Annotated[str, Query(min_length=1, max_length=80, pattern=ID_OR_SLUG_PATTERN)]],
        Query(default_factory=list, description="The organisation's id or slug; repeatable."),
    ],
) -> service.OfferFilters:
    return service.OfferFilters(
        contract_type=[value.value for value in contract_type],
        departement=departement,
        remote=[value.value for value in remote],
        organisation=organisation,
    )


@router.get(
    "",
    response_model=Page[OfferPublic],
    summary="List published offers",
    description="Open offers, newest first: published, and whose deadline (if any) has not "
    "passed. Filters combine with AND; repeated values of one filter combine with OR.",
    responses=problem_responses(304, 422),
)
async def list_offers(
    request: Request,
    reader: ReaderDep,
    limit: PageLimit,
    filters: Annotated[service.OfferFilters, Depends(offer_filters)],
    day: Today,
    cursor: CursorParam = None,
) -> Response:
    page = await service.list_public(reader, filters, limit=limit, cursor=cursor, today=day)
    settings = request.app.state.settings
    link = next_link(request.url, page.next_cursor, settings.public_base_url)
    return cached_json(
        request,
        page,
        max_age=settings.public_cache_seconds,
        headers={"Link": link} if link else None,
    )


@router.get(
    "/changes",
    response_model=ChangePage,
    summary="Follow every change to published offers",
    description="Every creation, update and closing of a published offer, in order, with "
    "the offer as it is now. Start without a cursor, follow `next_cursor` until a page comes "
    "back empty, and come back later with the last `next_cursor`: a mirror built this way "
    "holds exactly the open offers, with nothing missed or doubled. An offer whose deadline "
    "passes appears as `closed`.",
    responses=problem_responses(422),
)
async def offer_changes(
    session: SessionDep, limit: PageLimit, day: Today, cursor: CursorParam = None
) -> Response:
    page = await service.list_changes(session, cursor=cursor, limit=limit, today=day)
    return json_response(page)


@router.get(
    "/{offer_id:uuid}",
    response_model=OfferPublic,
    summary="Read one offer",
    description="Closed offers stay readable, with `status: closed`, so partners learn they "
    "closed. Drafts are visible only to their organisation's keys. With "
    "`Accept: application/ld+json`, the answer is the offer's schema.org `JobPosting`, ready "
    "to embed in a page.",
    responses={**problem_responses(304, 401, 404, 422), **JOB_POSTING_CONTENT},
    openapi_extra=OPTIONAL_CREDENTIALS,
)
async def get_offer(
    request: Request,
    reader: ReaderDep,
    offer_id: OfferId,
    principal: OptionalPrincipal,
    day: Today,
) -> Response:
    offer = await service.get_public(reader, offer_id, principal, day)
    public = offer.status != "draft"
    max_age = request.app.state.settings.public_cache_seconds if public else 0
    if wants_jsonld(request):
        return job_posting_response(request, offer, max_age=max_age, public=public)
    return cached_json(request, offer, max_age=max_age, public=public, headers={"Vary": "Accept"})


@router.post(
    "",
    response_model=OfferPublic,
    status_code=201,
    summary="Create an offer (recruiter or admin key)",
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_offer(
    request: Request,
    session: SessionDep,
    principal: WriterPrincipal,
    data: Annotated[OfferCreate, Body()],
    day: Today,
) -> Response:
    offer = await service.create(session, principal, data)
    public = await service.read_after_write(session, offer.id, day)
    return json_response(
        public,
        status_code=201,
        headers={"Location": str(request.url_for("get_offer", offer_id=offer.id))},
    )


@router.patch(
    "/{offer_id:uuid}",
    response_model=OfferPublic,
    summary="Update an offer",
    description="Send only the fields to change. With `If-Match`, refused with 412 when the "
    "offer changed since that ETag was read. Closed offers cannot change (409).",
    responses=problem_responses(401, 403, 404, 409, 412, 413, 422),
)
async def update_offer(
    request: Request,
    session: SessionDep,
    principal: WriterPrincipal,
    offer_id: OfferId,
    patch: Annotated[OfferUpdate, Body()],
    day: Today,
) -> Response:
    offer = await service.load_for_write(session, principal, offer_id)
    check_if_match(request, await service.read_after_write(session, offer.id, day))
    await service.update(session, offer, patch)
    public = await service.read_after_write(session, offer.id, day)
    return json_response(public, etag=etag_of_model(public))


@router.delete(
    "/{offer_id:uuid}",
    status_code=204,
    summary="Close an offer",
    description="The offer is closed, not erased: it stays readable with `status: closed` "
    "so that partners learn it is gone. Closing twice is harmless.",
    responses=problem_responses(401, 403, 404, 412, 422),
)
async def close_offer(
    request: Request,
    session: SessionDep,
    principal: WriterPrincipal,
    offer_id: OfferId,
    day: Today,
) -> Response:
    offer = await service.load_for_write(session, principal, offer_id)
    check_if_match(request, await service.read_after_write(session, offer.id, day))
    await service.close(session, offer)
    return Response(status_code=204)
