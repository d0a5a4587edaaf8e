"""HTTP around syndication: conditional requests, and the JobPosting of one offer.

Kept apart from ``router.py`` because the offers router imports it for content negotiation.
"""

from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from starlette.responses import Response

from app.core.http import etag_of, not_modified
from app.core.urls import public_base
from app.offers.models import OfferPublic
from app.syndication import jsonld

JSONLD = "application/ld+json"

# The `responses=` entry that documents the JobPosting next to the route's JSON.
JOB_POSTING_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The offer; with `Accept: application/ld+json`, its schema.org "
        "`JobPosting`, ready to embed in a web page as a JSON-LD script element.",
        "content": {JSONLD: {"schema": {"type": "object", "additionalProperties": True}}},
    }
}


def _quality(media_range: str) -> tuple[str, float]:
    kind, *params = (part.strip() for part in media_range.split(";"))
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
    return kind.lower(), quality


def wants_jsonld(request: Request) -> bool:
    """True when the client prefers JSON-LD to plain JSON; a tie keeps plain JSON, which
    is what clients sending `*/*` expect."""
    accept = request.headers.get("accept", "")
    if "ld+json" not in accept.lower():
        return False  # most requests: no need to weigh their media ranges
    ranges = dict(_quality(part) for part in accept.split(","))
    linked = ranges.get(JSONLD, 0.0)
    plain = max(ranges.get("application/json", 0.0), ranges.get("application/*", 0.0))
    return linked > 0 and linked > plain


def job_posting_response(
    request: Request,
    offer: OfferPublic,
    *,
    max_age: int,
    public: bool = True,
    headers: dict[str, str] | None = None,
) -> Response:
    zone = ZoneInfo(request.app.state.settings.timezone)
    body = jsonld.dumps(jsonld.job_posting(offer, public_base(request), zone=zone)).encode()
    etag = etag_of(body)
    scope = "public" if public else "private"
    all_headers = {"ETag": etag, "Cache-Control": f"{scope}, max-age={max_age}"}
    all_headers.update(headers or {})
    if not_modified(request, all_headers):
        return Response(status_code=304, headers=all_headers)
    return Response(body, media_type=JSONLD, headers=all_headers)
