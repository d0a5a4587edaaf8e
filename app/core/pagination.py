"""Keyset pagination: opaque cursors, the Page envelope and the Link header."""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field

from app.core.errors import FieldError, Unprocessable
from app.core.types import in_storable_range
from app.core.urls import request_url

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


def encode_cursor(*key: datetime | UUID | str | int) -> str:
    parts = [part.isoformat() if isinstance(part, datetime) else str(part) for part in key]
    raw = json.dumps(parts, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> list[str]:
    """The key parts as strings; callers parse each to its type (and get 422 on garbage)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        parts: Any = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise invalid_cursor() from None
    if not isinstance(parts, list) or not all(isinstance(part, str) for part in parts):
        raise invalid_cursor()
    return parts


def decode_time_cursor(cursor: str) -> tuple[datetime, UUID]:
    """A (timestamp, id) keyset position, checked so that no forged value reaches SQL."""
    parts = decode_cursor(cursor)
    if len(parts) != 2:
        raise invalid_cursor()
    try:
        return in_storable_range(datetime.fromisoformat(parts[0])), UUID(parts[1])
    except ValueError:
        raise invalid_cursor() from None


def invalid_cursor() -> Unprocessable:
    return Unprocessable(
        "The cursor is not one this API issued; start again without it.",
        errors=[FieldError(field="cursor", message="invalid cursor")],
    )


def next_link(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return f'<{request_url(request, cursor=cursor)}>; rel="next"'


async def page_limit(
    request: Request,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            description="Items per page: 20 by default, at most 100 "
            "(settings `VOCATION_PAGE_SIZE_DEFAULT`, `VOCATION_PAGE_SIZE_MAX`). "
            "A larger value is refused with 422, not clamped.",
        ),
    ] = None,
) -> int:
    return checked_limit(request.app.state.settings, limit)


def checked_limit(settings: Any, limit: int | None) -> int:
    """``limit`` or the default page size; 422 above the largest."""
    if limit is None:
        return int(settings.page_size_default)
    if limit > settings.page_size_max:
        raise Unprocessable(
            f"limit is at most {settings.page_size_max}.",
            errors=[FieldError(field="limit", message=f"at most {settings.page_size_max}")],
        )
    return limit


CursorParam = Annotated[
    str | None,
    Query(
        max_length=500,
        description="Opaque cursor from the previous page's `next_cursor`.",
    ),
]
PageLimit = Annotated[int, Depends(page_limit)]
