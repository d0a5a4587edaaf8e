"""The benchmark's independent baseline: a bare Starlette app on asyncpg that answers the
three measured routes with the same bytes as the app, and shares no code with it.

Nothing here imports ``app``: the SQL is written by hand, rows go straight from asyncpg
records to dicts and out through orjson, and the rules the app applies on the way are
written again, by hand and only as far as the benchmark needs them:

- the open offers: published, with no deadline or a deadline not before today (in
  ``VOCATION_TIMEZONE``, Europe/Paris by default);
- the effective status: a published offer past its deadline reads as ``closed``;
- the JSON: the fields of an offer in the app's order, the organisation nested after the
  id, UTC datetimes ending in ``Z``, dates as ``YYYY-MM-DD``, no facets;
- the keyset cursor: the key's parts as a compact JSON array of strings (``isoformat``
  for datetimes, ``repr`` for the relevance score), in URL-safe base64 without padding;
- the search: the query's words, lower case and without accents, all required, the last
  one as a prefix (when the text does not end with a space and the word has three letters
  or more), ranked by ``ts_rank`` over the app's ``offer_search`` table. It does not know
  stop words, ligatures, feminine endings or inclusive writing: a query that needs them
  answers differently from the app, which ``offers_http.py`` catches, since it compares
  the bytes of both before measuring.

No validation beyond what those routes need, no ETag, no Cache-Control, no rate limit, no
middleware. It is what a hand-written handler costs: the app's ratio to it is how close
the app comes to the limit of Python, Starlette and asyncpg on this machine.

    VOCATION_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/NAME \\
        .venv/bin/python -m uvicorn bench.bare_app:app --port 8002   # from the checkout

Routes: ``GET /v1/offers`` (``q``, ``contract_type`` and ``departement``, both repeatable,
``limit``), ``GET /v1/offers/{id}`` and ``GET /healthz``. Any other query parameter is
refused with 400, rather than ignored.
"""

import base64
import os
import re
import unicodedata
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

PAGE_SIZE = 20
PAGE_SIZE_MAX = 100
JSON = "application/json"
NOT_FOUND = b'{"title":"Not Found"}'
BAD_REQUEST = b'{"title":"Bad Request"}'
LIST_PARAMETERS = frozenset({"q", "contract_type", "departement", "limit"})
ZONE = ZoneInfo(os.environ.get("VOCATION_TIMEZONE", "Europe/Paris"))

# An offer's fields after its id and organisation, in the order of the app's JSON.
OFFER_FIELDS = (
    "reference", "title", "description", "missions", "profile", "contract_type",
    "duration_months", "duration_months_min", "working_time", "working_time_percent",
    "hours_per_week", "city", "postcode", "departement", "region", "country", "remote",
    "remote_days_per_week", "language", "salary_min", "salary_max", "salary_period",
    "salary_basis", "salary_text", "benefits", "contract_reason", "versant", "categorie",
    "open_to_contractuels", "grades", "domain", "start_date", "start_precision", "start_text",
    "end_date", "deadline", "expires_at", "education_level", "experience_years_min",
    "experience_years_max", "positions", "manages_team", "address", "legal_basis",
    "source_url", "languages", "contact", "documents_required", "apply_via", "apply_email",
    "apply_url", "status", "published_at", "closed_at", "created_at", "updated_at",
)  # fmt: skip
_FIRST_FIELD = 5  # after the offer's id and its organisation's id, slug, name and kind

# Numerics reach Python as Decimal, which JSON writes as integers when whole.
_AMOUNTS = {"salary_min", "salary_max", "hours_per_week"}
# $1 is today, in every statement.
_EFFECTIVE_STATUS = (
    "CASE WHEN o.status = 'published' AND (o.deadline < $1 OR o.expires_at <= now()) "
    "THEN 'closed' ELSE o.status END AS status"
)
_COLUMNS = ", ".join(
    ["o.id::text AS id", "g.id::text AS organisation_id", "g.slug", "g.name", "g.kind"]
    + [_EFFECTIVE_STATUS if name == "status" else f"o.{name}" for name in OFFER_FIELDS]
)
_FROM = "FROM offer o JOIN organisation g ON g.id = o.organisation_id"
_OPEN = (
    "o.status = 'published' AND (o.deadline IS NULL OR o.deadline >= $1) "
    "AND (o.expires_at IS NULL OR o.expires_at > now())"
)
DETAIL_SQL = f"SELECT {_COLUMNS}, o.status AS stored_status {_FROM} WHERE o.id = $2"
_HITS = (
    "JOIN (SELECT s.offer_id, ts_rank(s.document, query) AS score "
    "FROM offer_search s, to_tsquery('vocation_fr', $2) AS query "
    "WHERE s.document @@ query) h ON h.offer_id = o.id"
)

_WORD = re.compile(r"[a-z0-9]+")
_ACCENTS = re.compile("[\u0300-\u036f]")
_PREFIX_MIN_LENGTH = 3


@lru_cache(maxsize=1024)
def tsquery(text: str) -> str | None:
    """``to_tsquery`` text for a search box's plain words; None when none is left."""
    words = _WORD.findall(_ACCENTS.sub("", unicodedata.normalize("NFKD", text.lower())))
    if not words:
        return None
    groups = [f"({word})" for word in words]
    if not text[-1:].isspace() and len(words[-1]) >= _PREFIX_MIN_LENGTH:
        groups[-1] = f"({words[-1]}:*)"
    return " & ".join(groups)


@lru_cache(maxsize=256)
def list_sql(search: bool, contract_types: int, departements: int) -> str:
    """The list's statement: $1 today, then the tsquery if any, the filters, the limit."""
    conditions = [_OPEN]
    position = 3 if search else 2
    for column, count in (("contract_type", contract_types), ("departement", departements)):
        if count == 1:
            conditions.append(f"o.{column} = ${position}")
        elif count > 1:
            conditions.append(f"o.{column} = ANY(${position}::varchar[])")
        position += count > 0
    if search:
        return (
            f"SELECT {_COLUMNS}, h.score {_FROM} {_HITS} WHERE {' AND '.join(conditions)} "
            f"ORDER BY h.score DESC, o.published_at DESC, o.id DESC LIMIT ${position}"
        )
    return (
        f"SELECT {_COLUMNS} {_FROM} WHERE {' AND '.join(conditions)} "
        f"ORDER BY o.published_at DESC, o.id DESC LIMIT ${position}"
    )


def offer(record: Sequence[Any]) -> dict[str, Any]:
    item = {
        "id": record[0],
        "organisation": {"id": record[1], "slug": record[2], "name": record[3], "kind": record[4]},
    }
    item.update(zip(OFFER_FIELDS, record[_FIRST_FIELD:], strict=False))
    for name in _AMOUNTS:
        amount = item[name]
        if amount is not None:
            item[name] = int(amount) if amount == amount.to_integral_value() else float(amount)
    return item


def cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(parts)).rstrip(b"=").decode()


def today() -> date:
    return datetime.now(ZONE).date()


def dumps(value: Any) -> Response:
    return Response(orjson.dumps(value, option=orjson.OPT_UTC_Z), media_type=JSON)


def _values(request: Request, name: str) -> list[str]:
    return request.query_params.getlist(name)


async def list_offers(request: Request) -> Response:
    if not LIST_PARAMETERS.issuperset(request.query_params):
        return Response(BAD_REQUEST, 400, media_type=JSON)
    try:
        limit = int(request.query_params.get("limit", PAGE_SIZE))
    except ValueError:
        return Response(BAD_REQUEST, 400, media_type=JSON)
    if not 1 <= limit <= PAGE_SIZE_MAX:
        return Response(BAD_REQUEST, 400, media_type=JSON)
    match = tsquery(request.query_params.get("q", ""))
    contract_types = _values(request, "contract_type")
    departements = _values(request, "departement")
    arguments: list[Any] = [today()]
    if match is not None:
        arguments.append(match)
    for values in (contract_types, departements):
        if values:
            arguments.append(values[0] if len(values) == 1 else values)
    arguments.append(limit + 1)
    sql = list_sql(match is not None, len(contract_types), len(departements))
    rows = await request.app.state.pool.fetch(sql, *arguments)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        published_at, offer_id = last["published_at"].isoformat(), last["id"]
        if match is None:
            next_cursor = cursor(published_at, offer_id)
        else:
            next_cursor = cursor("relevance", repr(float(last["score"])), published_at, offer_id)
    return dumps({"items": [offer(row) for row in rows[:limit]], "next_cursor": next_cursor})


async def offer_detail(request: Request) -> Response:
    offer_id: UUID = request.path_params["offer_id"]
    row = await request.app.state.pool.fetchrow(DETAIL_SQL, today(), offer_id)
    if row is None or row["stored_status"] == "draft":
        return Response(NOT_FOUND, 404, media_type=JSON)
    return dumps(offer(row))


async def health(request: Request) -> Response:
    return Response(b'{"status":"ok"}', media_type=JSON)


async def _json_columns(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb", encoder=orjson.dumps, decoder=orjson.loads, schema="pg_catalog"
    )


async def _no_reset(connection: asyncpg.Connection) -> None:
    """The handlers change no session state: skip the reset query (one more round trip
    per request) that asyncpg runs by default when a connection goes back to the pool."""


def database_url() -> str:
    """``VOCATION_DATABASE_URL`` without SQLAlchemy's driver name, as asyncpg takes it."""
    url = os.environ["VOCATION_DATABASE_URL"]
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    size = int(os.environ.get("VOCATION_DATABASE_POOL_SIZE", "10"))
    async with asyncpg.create_pool(
        database_url(), min_size=size, max_size=size, reset=_no_reset, init=_json_columns
    ) as pool:
        app.state.pool = pool
        yield


app = Starlette(
    routes=[
        Route("/v1/offers", list_offers),
        Route("/v1/offers/{offer_id:uuid}", offer_detail),
        Route("/healthz", health),
    ],
    lifespan=lifespan,
)
