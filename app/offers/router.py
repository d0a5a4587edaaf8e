"""/v1/offers: the public list and detail, and recruiters' writes."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Request
from starlette.responses import Response

from app.core.clock import Today
from app.core.db import ReaderDep, SessionDep
from app.core.errors import problem_responses
from app.core.http import check_if_match, etag_of_model, json_response
from app.core.pagination import CursorParam, PageLimit
from app.core.security import OPTIONAL_BEARER, WriterPrincipal, bearer_token, principal_for
from app.core.strict_query import STRICT_QUERY
from app.core.urls import url_for
from app.offers import hot, listing, reads, service
from app.offers.changes import ChangePage
from app.offers.models import OfferCreate, OfferPublic, OfferUpdate
from app.offers.query import Facet, OfferQuery, offer_query, requested_facets
from app.syndication.responses import JOB_POSTING_CONTENT

router = APIRouter(prefix="/offers", tags=["offers"])

OfferId = Annotated[uuid.UUID, Path(description="The offer's id.")]


@router.get(
    "",
    operation_id="listOffers",
    response_model=listing.OfferPage,
    summary="List and search published offers",
    description="Open offers: published, and whose deadline (if any) has not passed. "
    "Filters combine with AND; repeated values of one filter combine with OR. With `q`, "
    "sorted by relevance (a word in the title counts most, then the organisation's name, "
    "then the text), then newest first; without it, newest first. Pages follow "
    '`next_cursor` (also in `Link: rel="next"`); a cursor is valid only with the sort '
    "and filters that issued it.",
    responses=problem_responses(304, 422),
    dependencies=[STRICT_QUERY],
)
async def list_offers(
    request: Request,
    limit: PageLimit,
    query: Annotated[OfferQuery, Depends(offer_query)],
    facets: Annotated[list[Facet], Depends(requested_facets)],
    cursor: CursorParam = None,
) -> Response:
    # Plain requests are answered by `hot.HotReads` before they reach FastAPI; this route
    # answers the others (facets, values to refuse), and documents them all.
    return await hot.list_response(request, query, limit=limit, cursor=cursor, facets=facets)


@router.get(
    "/changes",
    operation_id="listOfferChanges",
    response_model=ChangePage,
    summary="Follow every change to published offers",
    description="Every creation, update and closing of a published offer, in order, with "
    "the offer as it is now. Start without a cursor, follow `next_cursor` until a page comes "
    "back empty, and come back later with the last `next_cursor`: a mirror built this way "
    "holds exactly the open offers, with nothing missed or doubled. An offer whose deadline "
    "passes appears as `closed` once the expiry worker has closed it (within "
    "`VOCATION_EXPIRY_POLL_SECONDS`, 60 by default); it already reads as closed meanwhile.",
    responses=problem_responses(422),
    dependencies=[STRICT_QUERY],
)
async def offer_changes(
    reader: ReaderDep, limit: PageLimit, day: Today, cursor: CursorParam = None
) -> Response:
    page = await service.read_changes(reader, cursor=cursor, limit=limit, today=day)
    return json_response(page)


@router.get(
    "/{offer_id:uuid}",
    operation_id="getOffer",
    response_model=OfferPublic,
    summary="Read one offer",
    description="Closed offers stay readable, with `status: closed`, so partners learn they "
    "closed. Drafts are visible only to their organisation's keys. With "
    "`Accept: application/ld+json`, the answer is the offer's schema.org `JobPosting`, ready "
    "to embed in a page.",
    responses={**problem_responses(304, 401, 404, 422), **JOB_POSTING_CONTENT},
    openapi_extra=OPTIONAL_BEARER,
)
async def get_offer(request: Request, offer_id: OfferId) -> Response:
    # The hottest route takes no injected dependency but its path: each one costs FastAPI
    # a resolution per request, and together they cost a fifth of this route's throughput.
    return await hot.offer_response(
        request, offer_id, await principal_for(request, bearer_token(request))
    )


@router.post(
    "",
    operation_id="createOffer",
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
    offer_id = await service.create(session, principal, data)
    public = await reads.read_after_write(session, offer_id, day)
    return json_response(
        public,
        status_code=201,
        headers={"Location": url_for(request, "get_offer", offer_id=offer_id)},
    )


@router.patch(
    "/{offer_id:uuid}",
    operation_id="updateOffer",
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
    check_if_match(request, await reads.read_after_write(session, offer.id, day))
    await service.update(session, offer, patch)
    public = await reads.read_after_write(session, offer.id, day)
    return json_response(public, etag=etag_of_model(public))


@router.delete(
    "/{offer_id:uuid}",
    operation_id="closeOffer",
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
    check_if_match(request, await reads.read_after_write(session, offer.id, day))
    await service.close(session, offer)
    return Response(status_code=204)
