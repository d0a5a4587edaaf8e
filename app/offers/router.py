"""/v1/offers: the public list and detail, and recruiters' writes."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.responses import Response

from app.core.clock import Today, zone_of
from app.core.db import ReaderDep, SessionDep, get_database
from app.core.errors import FieldError, Unprocessable, problem_responses
from app.core.fields import ID_OR_SLUG_PATTERN
from app.core.http import cached_json, check_if_match, etag_of_model, http_date, json_response
from app.core.pagination import CursorParam, PageLimit, next_link
from app.core.security import OPTIONAL_BEARER, WriterPrincipal, bearer_token, principal_for
from app.core.types import in_storable_range
from app.offers import listing, service
from app.offers.changes import ChangePage
from app.offers.models import OfferCreate, OfferPublic, OfferUpdate
from app.referentials.enums import Categorie, ContractType, OrganisationKind, RemoteMode, Versant
from app.referentials.validation import DepartementCode, RegionCode
from app.search import query as search_query
from app.syndication.responses import JOB_POSTING_CONTENT, job_posting_response, wants_jsonld

router = APIRouter(prefix="/offers", tags=["offers"])

OfferId = Annotated[uuid.UUID, Path(description="The offer's id.")]


FACETS_PATTERN = "^({0})(,({0}))*$".format("|".join(facet.value for facet in listing.Facet))


# ISO 8601 only: pydantic's lax parsing would also take « 0.5 » as a Unix time.
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
ISO_MOMENT = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"


def _refused(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}.", errors=[FieldError(field=field, message=message)])


def _since(value: str | None, zone: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
        return in_storable_range(moment if moment.tzinfo else moment.replace(tzinfo=zone))
    except ValueError as error:
        raise _refused("published_since", f"not a valid datetime ({error})") from None


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise _refused("deadline_after", f"not a valid date ({error})") from None


# Lists default to empty rather than null: `anyOf [array, null]` only adds noise to the
# spec, and clients see no difference.
async def offer_filters(
    request: Request,
    *,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Words to find in the title, the description, the missions, the "
            "profile and the organisation's name. French-aware: case and accents do not "
            "matter, plurals and feminine forms find each other (« chargee de projets » "
            "finds « Chargé·e de projet »), inclusive spellings (« chargé·e », "
            "« animateur.rice ») match their plain forms. Every word must match; the "
            "last one also matches as the start of a word, for a search box queried as "
            "the person types (unless the text ends with a space). French stop words "
            "(« de », « la », …) are ignored; a `q` made only of them does not narrow "
            "the list.",
            examples=["chargé de projet", "transition ecologique"],
        ),
    ] = None,
    contract_type: Annotated[
        Sequence[ContractType], Query(description="Repeatable: any of them.")
    ] = (),
    departement: Annotated[
        Sequence[DepartementCode],
        Query(description="INSEE code of the département; repeatable."),
    ] = (),
    region: Annotated[
        Sequence[RegionCode],
        Query(description="INSEE code of the région; repeatable."),
    ] = (),
    organisation: Annotated[
        Sequence[Annotated[str, Query(min_length=1, max_length=80, pattern=ID_OR_SLUG_PATTERN)]],
        Query(description="The organisation's id or slug; repeatable."),
    ] = (),
    organisation_kind: Annotated[
        Sequence[OrganisationKind],
        Query(description="The organisation's kind; repeatable."),
    ] = (),
    remote: Annotated[Sequence[RemoteMode], Query(description="Repeatable.")] = (),
    versant: Annotated[
        Sequence[Versant],
        Query(
            description="Versant of the fonction publique (État, territoriale, hospitalière); "
            "repeatable. Offers outside the fonction publique have none.",
        ),
    ] = (),
    categorie: Annotated[
        Sequence[Categorie],
        Query(
            description="Catégorie of the fonction publique; repeatable.",
        ),
    ] = (),
    salary_min: Annotated[
        int | None,
        Query(
            ge=0,
            le=1_000_000,
            description="Least monthly gross pay, in euros. Offers compare on the top of "
            f"their range (or their only amount) as monthly gross pay: hourly amounts × "
            f"{listing.HOURS_PER_MONTH} (35 hours a week), yearly amounts ÷ 12, net amounts "
            f"÷ {listing.NET_TO_GROSS}. Offers that state no amount are left out.",
        ),
    ] = None,
    published_since: Annotated[
        str | None,
        Query(
            pattern=ISO_MOMENT,
            description="Published at or after this moment (ISO 8601). A date alone or a "
            "time without offset is read in the service's time zone (Europe/Paris).",
        ),
    ] = None,
    deadline_after: Annotated[
        str | None,
        Query(
            pattern=ISO_DATE,
            description="Still open to applications on this day: deadline on or after it, "
            "or no deadline.",
        ),
    ] = None,
) -> listing.OfferFilters:
    return listing.OfferFilters(
        q=search_query.parse(q) if q else None,
        contract_type=[value.value for value in contract_type],
        departement=departement,
        region=region,
        organisation=organisation,
        organisation_kind=[value.value for value in organisation_kind],
        remote=[value.value for value in remote],
        versant=[value.value for value in versant],
        categorie=[value.value for value in categorie],
        salary_min=salary_min,
        published_since=_since(published_since, zone_of(request)),
        deadline_after=_day(deadline_after),
    )


def requested_facets(
    facets: Annotated[
        str | None,
        Query(
            pattern=FACETS_PATTERN,
            description="Comma-separated facets to count, among "
            + ", ".join(f"`{facet.value}`" for facet in listing.Facet)
            + ". The body then has `facets`: for each one, the number of open offers per "
            "value under `q` and every other filter (a facet ignores its own filter, so "
            "a panel can show what choosing another value would give).",
            examples=["contract_type,departement,remote,organisation_kind"],
        ),
    ] = None,
) -> list[listing.Facet]:
    if not facets:
        return []
    return list(dict.fromkeys(listing.Facet(name) for name in facets.split(",")))


@router.get(
    "",
    response_model=listing.OfferPage,
    summary="List and search published offers",
    description="Open offers: published, and whose deadline (if any) has not passed. "
    "Filters combine with AND; repeated values of one filter combine with OR. With `q`, "
    "sorted by relevance (a word in the title counts most, then the organisation's name, "
    "then the text), then newest first; without it, newest first. Pages follow "
    '`next_cursor` (also in `Link: rel="next"`); a cursor is valid only with the sort '
    "and filters that issued it.",
    responses=problem_responses(304, 422),
)
async def list_offers(
    request: Request,
    reader: ReaderDep,
    limit: PageLimit,
    filters: Annotated[listing.OfferFilters, Depends(offer_filters)],
    facets: Annotated[list[listing.Facet], Depends(requested_facets)],
    day: Today,
    sort: Annotated[
        listing.OfferSort | None,
        Query(
            description="`relevance` (the default with `q`; without `q`, the same as "
            "`published_at`), `published_at` (newest first, the default without `q`) or "
            "`deadline` (closest deadline first, offers without one last).",
        ),
    ] = None,
    cursor: CursorParam = None,
) -> Response:
    page = await listing.list_public(
        reader, filters, sort=sort, limit=limit, cursor=cursor, today=day, facets=facets
    )
    settings = request.app.state.settings
    link = next_link(request.url, page.next_cursor, settings.public_base_url)
    return cached_json(
        request,
        page,
        max_age=settings.public_cache_seconds,
        headers={"Link": link} if link else None,
        exclude=listing.absent_facets(facets),
    )


@router.get(
    "/changes",
    response_model=ChangePage,
    summary="Follow every change to published offers",
    description="Every creation, update and closing of a published offer, in order, with "
    "the offer as it is now. Start without a cursor, follow `next_cursor` until a page comes "
    "back empty, and come back later with the last `next_cursor`: a mirror built this way "
    "holds exactly the open offers, with nothing missed or doubled. An offer whose deadline "
    "passes appears as `closed` once the expiry worker has closed it (within "
    "`VOCATION_EXPIRY_POLL_SECONDS`, 60 by default); it already reads as closed meanwhile.",
    responses=problem_responses(422),
)
async def offer_changes(
    reader: ReaderDep, limit: PageLimit, day: Today, cursor: CursorParam = None
) -> Response:
    page = await service.read_changes(reader, cursor=cursor, limit=limit, today=day)
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
    openapi_extra=OPTIONAL_BEARER,
)
async def get_offer(request: Request, offer_id: OfferId) -> Response:
    # The hottest route takes no injected dependency but its path: each one costs FastAPI
    # a resolution per request, and together they cost a fifth of this route's throughput.
    principal = await principal_for(request, bearer_token(request))
    zone = zone_of(request)
    day = datetime.now(zone).date()
    async with get_database(request).reader.connect() as reader:
        readable = await service.get_public(reader, offer_id, principal, day, zone)
    offer = readable.offer
    public = offer.published_at is not None  # else only its organisation reads it
    max_age = request.app.state.settings.public_cache_seconds if public else 0
    # Vary: the same URL answers JSON and JSON-LD, and caches must keep both apart.
    headers = {"Vary": "Accept", "Last-Modified": http_date(readable.last_modified)}
    if wants_jsonld(request):
        return job_posting_response(request, offer, max_age=max_age, public=public, headers=headers)
    return cached_json(request, offer, max_age=max_age, public=public, headers=headers)


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
    offer_id = await service.create(session, principal, data)
    public = await service.read_after_write(session, offer_id, day)
    return json_response(
        public,
        status_code=201,
        headers={"Location": str(request.url_for("get_offer", offer_id=offer_id))},
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
