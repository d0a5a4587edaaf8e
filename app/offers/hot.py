"""The list and the detail of offers, answered without FastAPI's routing when nothing
needs it.

``GET /v1/offers`` and ``GET /v1/offers/{id}`` are the API's hottest routes. FastAPI's
share of them (matching the path through every router, solving dependencies, reading the
query model field by field, its exception middleware) cost as much as the query and the
JSON together. ``HotReads``, a pure ASGI layer inside every middleware (CORS, the rate
limiter, HEAD), answers the plain cases itself:

- the list, when its query string holds only the query model's fields, ``limit`` and
  ``cursor``, all valid: it validates them with the same ``OfferQuery`` model and the same
  limit check as the route; and a name the route does not declare, with the route's 422;
- the detail of an offer that exists, asked without credentials, for JSON.

Anything else (facets, a bearer token, JSON-LD, a missing offer, an invalid value, an
error) goes on to the routes, which answer it as always. Lanes and routes answer through
the same functions below, so their bytes and headers are the same.
"""

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import get_origin

from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.clock import zone_of
from app.core.db import get_database
from app.core.errors import AppError, problem_response
from app.core.http import cached_body, http_date
from app.core.pagination import checked_limit, next_link
from app.core.security import Principal
from app.core.strict_query import declared_query, unknown_query
from app.offers import listing, reads
from app.offers.query import Facet, OfferQuery
from app.syndication.responses import job_posting_response, wants_jsonld

LIST_PATH = "/v1/offers"
# Starlette's `uuid` path convertor, anchored.
_DETAIL = re.compile(
    r"/v1/offers/([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)


async def list_response(
    request: Request,
    query: OfferQuery,
    *,
    limit: int,
    cursor: str | None,
    facets: Sequence[Facet] = (),
) -> Response:
    """One page of the list, with its ETag and its `Link` to the next."""
    day = datetime.now(zone_of(request)).date()
    page = await listing.list_public(
        get_database(request), query, limit=limit, cursor=cursor, today=day, facets=facets
    )
    settings = request.app.state.settings
    link = next_link(request, page.next_cursor)
    return cached_body(
        request,
        page.body(),
        max_age=settings.public_cache_seconds,
        headers={"Link": link} if link else None,
    )


async def offer_response(
    request: Request, offer_id: uuid.UUID, principal: Principal | None
) -> Response:
    """The offer as JSON or, when the client prefers it, as its JSON-LD JobPosting."""
    zone = zone_of(request)
    day = datetime.now(zone).date()
    readable = await reads.get_public(get_database(request), offer_id, principal, day, zone)
    public = readable.data["published_at"] is not None  # else only its organisation reads it
    max_age = request.app.state.settings.public_cache_seconds if public else 0
    # Vary: the same URL answers JSON and JSON-LD, and caches must keep both apart.
    headers = {"Vary": "Accept", "Last-Modified": http_date(readable.last_modified)}
    if wants_jsonld(request):
        return job_posting_response(
            request, readable.offer, max_age=max_age, public=public, headers=headers
        )
    return cached_body(request, readable.body, max_age=max_age, public=public, headers=headers)


# The query model's repeatable fields, read as lists, as FastAPI reads them.
_REPEATABLE = frozenset(
    name
    for name, field in OfferQuery.model_fields.items()
    if get_origin(field.annotation) in (list, tuple, Sequence)
)
# What `_list` reads itself; the route's other parameters (`facets`) are left to the route.
_INTERPRETED = frozenset({*OfferQuery.model_fields, "limit", "cursor"})
_LIMIT = re.compile(r"[1-9][0-9]{0,3}")
_CURSOR_MAX_LENGTH = 500  # as `CursorParam`; longer ones go to the route, which refuses them


class HotReads:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # (declared by the list route, answered here), read from the route on first use.
        self._list_names: tuple[frozenset[str], frozenset[str]] | None = None

    def _names(self) -> tuple[frozenset[str], frozenset[str]]:
        if self._list_names is None:
            # Imported here: the router imports this module, to answer through it.
            from app.offers.router import list_offers, router

            route = next(
                route
                for route in router.routes
                if isinstance(route, APIRoute) and route.endpoint is list_offers
            )
            declared = declared_query(route)
            # A name read here but no longer declared goes to the route, which refuses it.
            self._list_names = declared, _INTERPRETED & declared
        return self._list_names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            response = None
            path = scope["path"]
            if path == LIST_PATH:
                response = await self._list(Request(scope))
            elif (match := _DETAIL.fullmatch(path)) is not None:
                response = await self._detail(Request(scope), uuid.UUID(match[1]))
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _list(self, request: Request) -> Response | None:
        params = request.query_params
        declared, answered = self._names()
        if not params.keys() <= answered:
            if unknown := [name for name in params if name not in declared]:
                return problem_response(unknown_query(unknown).problem())
            return None
        limit = params.get("limit")
        cursor = params.get("cursor")
        if (limit is not None and not _LIMIT.fullmatch(limit)) or (
            cursor is not None and len(cursor) > _CURSOR_MAX_LENGTH
        ):
            return None
        fields = {
            name: params.getlist(name) if name in _REPEATABLE else params[name]
            for name in params
            if name in OfferQuery.model_fields
        }
        try:
            query = OfferQuery.model_validate(fields).in_zone(zone_of(request))
            assert isinstance(query, OfferQuery)
            checked = checked_limit(request.app.state.settings, int(limit) if limit else None)
            return await list_response(request, query, limit=checked, cursor=cursor)
        except (ValidationError, AppError):
            return None
        except Exception:
            # The route meets the same error again, and answers it as every route does.
            return None

    async def _detail(self, request: Request, offer_id: uuid.UUID) -> Response | None:
        if "authorization" in request.headers or wants_jsonld(request):
            return None
        try:
            return await offer_response(request, offer_id, None)
        except Exception:
            # A missing offer or an error: the route meets it again, and answers it.
            return None
