"""The benchmark's baseline: a bare ASGI callable that answers the three measured routes
with the very SQL and JSON of the app, and nothing else.

No FastAPI, no Starlette, no middleware, no dependency injection, no query validation, no
ETag: it splits the query string and calls the app's own reads (``listing.list_public``,
``reads.get_public``: the same statements, run the same way, and the same JSON writer) on
an engine made by the app's ``create_engine`` from the same ``VOCATION_*`` settings
through the same AUTOCOMMIT reader. What the app takes on top of this is the cost of the
framework, its middleware, its validation and our own layers around the query.

    .venv/bin/python -m uvicorn bench.baseline_app:app --port 8001   # from the checkout

Routes: ``GET /v1/offers`` (``q``, ``contract_type``, ``departement``, ``limit``),
``GET /v1/offers/{id}`` and ``GET /healthz``. Anything else is 404; bad input is 400.
"""

import uuid
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from app.core.config import Settings
from app.core.db import Database, create_engine
from app.core.errors import NotFound
from app.offers import listing, reads

JSON_HEADERS = [(b"content-type", b"application/json")]
DETAIL_PREFIX = "/v1/offers/"

settings = Settings()
database = Database(
    create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )
)
zone = ZoneInfo(settings.timezone)


def _today() -> date:
    return datetime.now(zone).date()


async def list_offers(query_string: bytes) -> bytes:
    params = parse_qs(query_string.decode("latin-1"))
    q = params.get("q", [""])[0]
    limit = int(params.get("limit", [str(settings.page_size_default)])[0])
    query = listing.OfferQuery(
        q=q or None,
        contract_type=params.get("contract_type", []),
        departement=params.get("departement", []),
    )
    page = await listing.list_public(database, query, limit=limit, cursor=None, today=_today())
    return page.body()


async def offer_detail(offer_id: uuid.UUID) -> bytes | None:
    zone_today = _today()
    try:
        readable = await reads.get_public(database, offer_id, None, zone_today, zone)
    except NotFound:
        return None
    return readable.body


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await database.dispose()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path: str = scope["path"]
    if path == "/v1/offers":
        try:
            body = await list_offers(scope["query_string"])
        except ValueError:
            await _answer(send, 400, b'{"title":"Bad Request"}')
            return
        await _answer(send, 200, body)
    elif path.startswith(DETAIL_PREFIX):
        try:
            offer_id = uuid.UUID(path[len(DETAIL_PREFIX) :])
        except ValueError:
            await _answer(send, 404, b'{"title":"Not Found"}')
            return
        found = await offer_detail(offer_id)
        if found is None:
            await _answer(send, 404, b'{"title":"Not Found"}')
        else:
            await _answer(send, 200, found)
    elif path == "/healthz":
        await _answer(send, 200, b'{"status":"ok"}')
    else:
        await _answer(send, 404, b'{"title":"Not Found"}')
