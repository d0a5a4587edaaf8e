"""/v1/feeds: the open offers as RSS, Atom, aggregators' XML and JSON-LD, streamed."""

import hashlib
from collections.abc import AsyncIterator
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from app.core.clock import Today
from app.core.db import ReaderDep, get_database
from app.core.errors import problem_responses
from app.core.http import http_date, not_modified
from app.core.middleware import is_head
from app.core.strict_query import STRICT_QUERY
from app.core.urls import public_base, request_url
from app.offers import listing
from app.offers.models import OfferPublic
from app.offers.query import OfferFilters, offer_filters
from app.syndication import feeds

router = APIRouter(prefix="/feeds", tags=["feeds"], dependencies=[STRICT_QUERY])

FEED_SIZE_DEFAULT = 100
# Streaming keeps memory flat whatever the size, so a partner may take every open offer
# in one request; the ETag and Cache-Control spare us rendering it twice.
FEED_SIZE_MAX = 100_000
# Part of every feed's ETag: bump it when the rendering changes, so caches drop old bodies.
RENDERING_VERSION = "1"

FeedLimit = Annotated[
    int,
    Query(
        ge=1,
        le=FEED_SIZE_MAX,
        description=f"Offers in the feed, newest first: {FEED_SIZE_DEFAULT} by default, at "
        f"most {FEED_SIZE_MAX:,}. The feed is streamed, so a large one starts at once.",
    ),
]
Filters = Annotated[OfferFilters, Depends(offer_filters)]

DESCRIPTION = (
    "The open offers (published, deadline not passed), newest first, with the same filters "
    "as `GET /v1/offers`. Closed, expired and draft offers never appear. Each offer links to "
    "`/v1/offers/{id}`. `ETag` and `Last-Modified` change with any offer or organisation in "
    "the feed; `If-None-Match` or `If-Modified-Since` gets `304`."
)


def _documented(media_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    schema = {"type": "object"} if media_type.endswith("json") else {"type": "string"}
    ok = {"description": what, "content": {media_type: {"schema": schema}}}
    return {200: ok, **problem_responses(304, 422)}


async def _serve(
    request: Request,
    reader: ReaderDep,
    filters: OfferFilters,
    day: Today,
    limit: int,
    feed: feeds.FeedFormat,
) -> Response:
    settings = request.app.state.settings
    stamp = await listing.listing_stamp(reader, filters, day)
    base = public_base(request)
    self_url = request_url(request)
    changes = [stamp.offers_changed_at, stamp.organisations_changed_at]
    updated = max((moment for moment in changes if moment is not None), default=None)
    # Hashing what the body is made of, not the body: the feed is streamed and never whole.
    validator = f"{RENDERING_VERSION}|{stamp.count}|{changes}|{limit}|{self_url}"
    headers = {
        "ETag": '"' + hashlib.sha256(validator.encode()).hexdigest()[:32] + '"',
        "Cache-Control": f"public, max-age={settings.public_cache_seconds}",
    }
    if updated is not None:
        headers["Last-Modified"] = http_date(updated)
    if not_modified(request, headers):
        return Response(status_code=304, headers=headers)
    if is_head(request):
        # A partner checking freshness: the validators are the answer, the feed is not made.
        return Response(status_code=200, headers=headers, media_type=feed.media_type)
    context = feeds.FeedContext(base, self_url, updated, ZoneInfo(settings.timezone))
    database = get_database(request)

    async def offers() -> AsyncIterator[OfferPublic]:
        # Its own connection, in a transaction (PostgreSQL's cursors need one), held only
        # while the body is written: the request's reader is gone by then.
        async with database.engine.connect() as connection:
            async for offer in listing.stream_public(connection, filters, limit=limit, today=day):
                yield offer

    body = feeds.render(feed, offers(), context)
    return StreamingResponse(body, media_type=feed.media_type, headers=headers)


@router.get(
    "/offers.rss",
    operation_id="getOffersRssFeed",
    response_class=Response,
    summary="Open offers as RSS 2.0",
    description=DESCRIPTION,
    responses=_documented(feeds.RSS.media_type, "An RSS 2.0 channel, one item per offer."),
)
async def offers_rss(
    request: Request,
    reader: ReaderDep,
    filters: Filters,
    day: Today,
    limit: FeedLimit = FEED_SIZE_DEFAULT,
) -> Response:
    return await _serve(request, reader, filters, day, limit, feeds.RSS)


@router.get(
    "/offers.atom",
    operation_id="getOffersAtomFeed",
    response_class=Response,
    summary="Open offers as Atom",
    description=DESCRIPTION,
    responses=_documented(feeds.ATOM.media_type, "An Atom feed, one entry per offer."),
)
async def offers_atom(
    request: Request,
    reader: ReaderDep,
    filters: Filters,
    day: Today,
    limit: FeedLimit = FEED_SIZE_DEFAULT,
) -> Response:
    return await _serve(request, reader, filters, day, limit, feeds.ATOM)


@router.get(
    "/offers.xml",
    operation_id="getOffersXmlFeed",
    response_class=Response,
    summary="Open offers in the job aggregators' XML",
    description=DESCRIPTION + " The layout job aggregators ingest: `<source>` with "
    "`publisher`, `publisherurl` and `lastBuildDate`, then one `<job>` per offer (`title`, "
    "`date`, `referencenumber`, `url`, `company`, `city`, `state` (the région), `country`, "
    "`postalcode`, `description`, `salary`, `jobtype`, `category`, …), every text in CDATA.",
    responses=_documented(feeds.XML.media_type, "`<source>` then one `<job>` per offer."),
)
async def offers_xml(
    request: Request,
    reader: ReaderDep,
    filters: Filters,
    day: Today,
    limit: FeedLimit = FEED_SIZE_DEFAULT,
) -> Response:
    return await _serve(request, reader, filters, day, limit, feeds.XML)


@router.get(
    "/offers.jsonld",
    operation_id="getOffersJsonLdFeed",
    response_class=Response,
    summary="Open offers as a schema.org ItemList of JobPosting",
    description=DESCRIPTION + " Each `itemListElement` is a `ListItem` whose `item` is the "
    "offer's `JobPosting`, as `GET /v1/offers/{id}` answers it to `Accept: "
    "application/ld+json`.",
    responses=_documented(feeds.JSONLD.media_type, "A schema.org `ItemList` of `JobPosting`."),
)
async def offers_jsonld(
    request: Request,
    reader: ReaderDep,
    filters: Filters,
    day: Today,
    limit: FeedLimit = FEED_SIZE_DEFAULT,
) -> Response:
    return await _serve(request, reader, filters, day, limit, feeds.JSONLD)
