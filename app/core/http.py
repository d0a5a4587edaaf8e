"""HTTP caching: ETags on representations, 304 on If-None-Match or If-Modified-Since, 412
on a stale If-Match."""

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from pydantic import BaseModel
from pydantic.main import IncEx
from starlette.responses import Response

from app.core.errors import PreconditionFailed

JSON = "application/json"


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(header: str | None, etag: str, *, weak: bool) -> bool:
    """RFC 9110: If-None-Match compares weakly (a W/ tag matches), If-Match strongly."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    candidates = {part.strip() for part in header.split(",")}
    if weak:
        candidates = {candidate.removeprefix("W/") for candidate in candidates}
    return etag in candidates


def cached_json(
    request: Request,
    model: BaseModel,
    *,
    max_age: int,
    public: bool = True,
    headers: dict[str, str] | None = None,
    exclude: IncEx | None = None,
) -> Response:
    """Serialise once with pydantic-core, tag the bytes, and answer 304 when the client
    already holds them."""
    body = model.model_dump_json(exclude=exclude).encode()
    return cached_body(request, body, max_age=max_age, public=public, headers=headers)


def cached_body(
    request: Request,
    body: bytes,
    *,
    max_age: int,
    public: bool = True,
    headers: dict[str, str] | None = None,
) -> Response:
    """JSON already serialised: tagged, and 304 when the client already holds it."""
    etag = etag_of(body)
    scope = "public" if public else "private"
    all_headers = {"ETag": etag, "Cache-Control": f"{scope}, max-age={max_age}"}
    if headers:
        all_headers.update(headers)
    if not_modified(request, all_headers):
        return Response(status_code=304, headers=all_headers)
    return Response(body, media_type=JSON, headers=all_headers)


def not_modified(request: Request, headers: Mapping[str, str]) -> bool:
    """Whether the client already holds the representation whose validators (``ETag``, and
    ``Last-Modified`` when there is one) are in ``headers``: RFC 9110 §13.2.2's order.

    If-None-Match, when sent, decides alone: an ETag is exact where a date is not. The
    date is compared with the Last-Modified header as sent, so at the one-second resolution
    both have: a change at 12:00:00.5 was already sent as 12:00:00, and is not newer."""
    if request.method not in ("GET", "HEAD"):
        return False
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and if_none_match.strip():
        return "ETag" in headers and _matches(if_none_match, headers["ETag"], weak=True)
    since = _http_date(request.headers.get("if-modified-since"))
    modified = _http_date(headers.get("Last-Modified"))
    return since is not None and modified is not None and modified <= since


def _http_date(value: str | None) -> datetime | None:
    """An HTTP date, or None when absent or invalid (RFC 9110 §13.1.3: an invalid
    If-Modified-Since is ignored)."""
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # RFC 9110 §5.6.7: a date without a zone (asctime) is in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def http_date(moment: datetime) -> str:
    """RFC 9110's IMF-fixdate, for Last-Modified."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def etag_of_model(model: BaseModel) -> str:
    return etag_of(model.model_dump_json().encode())


def json_response(
    model: BaseModel,
    *,
    status_code: int = 200,
    etag: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A response to a write. ``etag`` is the tag of the public representation, so a client
    can send it straight back in ``If-Match`` or ``If-None-Match``."""
    body = model.model_dump_json().encode()
    all_headers = {"ETag": etag or etag_of(body), "Cache-Control": "no-store"}
    if headers:
        all_headers.update(headers)
    return Response(body, status_code=status_code, media_type=JSON, headers=all_headers)


def check_if_match(request: Request, current: BaseModel) -> None:
    """Raise 412 when the client's If-Match names another version than the current one."""
    require_match(request.headers.get("if-match"), current)


def require_match(if_match: str | None, current: BaseModel) -> None:
    """check_if_match for a service, given the header's value (None: not sent)."""
    if if_match is None:
        return
    if not _matches(if_match, etag_of_model(current), weak=False):
        raise PreconditionFailed(
            "The resource changed since you read it: GET it again and retry with its ETag."
        )


def private_json(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A response holding personal data: never stored by a shared or browser cache."""
    response = json_response(model, status_code=status_code, headers=headers)
    response.headers["Cache-Control"] = "private, no-store"
    return response
