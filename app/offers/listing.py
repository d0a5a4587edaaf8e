"""The public list of offers: search, filters, sort orders, keyset pages and facets.

Feeds and the list share the statements built here, so a filter means the same thing on
`GET /v1/offers` and on every feed.
"""

import math
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Float,
    FromClause,
    Integer,
    Select,
    any_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy import Date as DateType
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.selectable import Subquery

from app.core.db import Database, dialect_of
from app.core.pagination import Page, decode_cursor, encode_cursor, invalid_cursor
from app.core.types import in_storable_range, utcnow
from app.offers import reads
from app.offers.models import OfferPublic
from app.offers.query import (
    HOURS_PER_MONTH,
    NET_TO_GROSS,
    Facet,
    OfferFilters,
    OfferQuery,
    OfferSort,
    effective_sort,
)
from app.offers.reads import OFFER_COLUMNS, ORGANISATION_COLUMNS, offers, organisations, to_public
from app.referentials.enums import (
    Categorie,
    ContractType,
    Domain,
    OfferStatus,
    OrganisationKind,
    RemoteMode,
    Versant,
)
from app.search import query as search

__all__ = ["Facet", "OfferFilters", "OfferQuery", "OfferSort", "effective_sort"]

_MONTHLY_GROSS = (
    func.coalesce(offers.c.salary_max, offers.c.salary_min)
    * case(
        (offers.c.salary_period == "hour", HOURS_PER_MONTH),
        (offers.c.salary_period == "year", 1 / 12),
        else_=1.0,
    )
    * case((offers.c.salary_basis == "net", 1 / NET_TO_GROSS), else_=1.0)
)
_NO_DEADLINE = literal(date.max, DateType)
_DEADLINE_KEY = func.coalesce(offers.c.deadline, _NO_DEADLINE)

# The filters whose values are one column's: "any of these values". Facets count them.
_ONE_OF: dict[str, ColumnElement[Any]] = {
    "contract_type": offers.c.contract_type,
    "departement": offers.c.departement,
    "region": offers.c.region,
    "remote": offers.c.remote,
    "organisation_kind": organisations.c.kind,
    "versant": offers.c.versant,
    "categorie": offers.c.categorie,
    "domain": offers.c.domain,
}


def _any_of(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` holds one of the values bound to ``name``: one array parameter on
    PostgreSQL, whatever their number, so one statement serves every request."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


@dataclass(frozen=True, slots=True)
class _Condition:
    """A filter as SQL: the condition, with bound parameters (given the dialect), and the
    values of those parameters (given the filter's value)."""

    where: Callable[[str], ColumnElement[bool]]
    params: Callable[[Any], dict[str, Any]]


def _one_of(name: str) -> _Condition:
    return _Condition(
        lambda dialect: _any_of(_ONE_OF[name], name, dialect),
        lambda values: {name: [str(value) for value in values]},
    )


def _organisation_params(references: Sequence[str]) -> dict[str, Any]:
    ids, slugs = [], []
    for reference in references:
        try:
            ids.append(UUID(reference))
        except ValueError:
            slugs.append(reference)
    return {"organisation_ids": ids, "organisation_slugs": slugs}


# Each filter of ``OfferFilters`` as SQL, keyed by the field's name, for when the client
# set it. `q` is not a condition but a join (the search's hits, with their score): see
# ``_source``.
_CONDITIONS: dict[str, _Condition] = {
    **{name: _one_of(name) for name in _ONE_OF},
    "organisation": _Condition(
        lambda dialect: or_(
            _any_of(organisations.c.id, "organisation_ids", dialect),
            _any_of(organisations.c.slug, "organisation_slugs", dialect),
        ),
        _organisation_params,
    ),
    "salary_min": _Condition(
        lambda _dialect: bindparam("salary_min", type_=Integer) <= _MONTHLY_GROSS,
        lambda least: {"salary_min": least},
    ),
    "published_since": _Condition(
        lambda _dialect: (
            offers.c.published_at >= bindparam("published_since", type_=offers.c.published_at.type)
        ),
        lambda moment: {"published_since": datetime.fromisoformat(moment)},
    ),
    "deadline_after": _Condition(
        lambda _dialect: or_(
            offers.c.deadline.is_(None),
            offers.c.deadline >= bindparam("deadline_after", type_=DateType),
        ),
        lambda day: {"deadline_after": date.fromisoformat(day)},
    ),
}
_SEARCH = "q"

_unwired = set(OfferFilters.model_fields) ^ {*_CONDITIONS, _SEARCH}
if _unwired:
    raise RuntimeError(f"OfferFilters fields and their SQL conditions differ: {_unwired}")
_FACET_COLUMNS: dict[Facet, ColumnElement[Any]] = {facet: _ONE_OF[facet] for facet in Facet}


class OfferFacets(BaseModel):
    """Counts of open offers per value, under the query and every filter except the
    facet's own: the numbers a filter panel shows next to each choice. Only the facets
    asked for are present, and only values with at least one offer."""

    contract_type: dict[ContractType, int] | None = None
    departement: dict[str, int] | None = Field(default=None, description="By INSEE code.")
    region: dict[str, int] | None = Field(default=None, description="By INSEE code.")
    remote: dict[RemoteMode, int] | None = None
    organisation_kind: dict[OrganisationKind, int] | None = None
    versant: dict[Versant, int] | None = None
    categorie: dict[Categorie, int] | None = None
    domain: dict[Domain, int] | None = None


if list(OfferFacets.model_fields) != [facet.value for facet in Facet]:
    raise RuntimeError("OfferFacets must have one field per Facet, in the same order")


class OfferPage(Page[OfferPublic]):
    facets: OfferFacets | None = Field(
        default=None, description="Present only when `facets` is asked for."
    )


def absent_facets(requested: Sequence[Facet]) -> dict[str, Any]:
    """What to leave out of a page's JSON: the facets not asked for, or all of them."""
    if not requested:
        return {"facets": True}
    return {"facets": {facet.value for facet in Facet if facet not in requested}}


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a statement's SQL depends on, beside the values it binds: the filters set,
    whether it searches, and the engine. Statements are built once per shape."""

    dialect: str
    filters: tuple[str, ...]
    search: bool

    @classmethod
    def of(cls, filters: OfferFilters, dialect: str) -> "_Shape":
        return cls(
            dialect,
            tuple(name for name in _CONDITIONS if _is_set(filters, name)),
            bool(filters.search),
        )


def _is_set(filters: OfferFilters, name: str) -> bool:
    # None or an empty list: a filter the client did not set.
    value = getattr(filters, name)
    return value is not None and not (isinstance(value, list | tuple) and not value)


def _params(filters: OfferFilters, dialect: str, today: date) -> dict[str, Any]:
    """The values the statement of ``filters``' shape binds."""
    # The clock's moment with its day: expiry compares with both (tests freeze the clock).
    params: dict[str, Any] = {"today": today, "now": utcnow()}
    for name, condition in _CONDITIONS.items():
        if _is_set(filters, name):
            params.update(condition.params(getattr(filters, name)))
    if filters.search is not None:
        params[search.SEARCH_MATCH] = search.match(dialect, filters.search)
    return params


@dataclass(frozen=True, slots=True)
class _Source:
    joined: FromClause
    hits: Subquery | None


def _source(shape: _Shape) -> _Source:
    joined = offers.join(organisations, offers.c.organisation_id == organisations.c.id)
    if not shape.search:
        return _Source(joined, None)
    hits = search.hits(shape.dialect)
    return _Source(joined.join(hits, hits.c.offer_id == offers.c.id), hits)


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    return [
        offers.c.status == OfferStatus.published.value,
        or_(offers.c.deadline.is_(None), offers.c.deadline >= bindparam("today", type_=DateType)),
        or_(
            offers.c.expires_at.is_(None),
            offers.c.expires_at > bindparam("now", type_=offers.c.expires_at.type),
        ),
        *(_CONDITIONS[name].where(shape.dialect) for name in shape.filters),
    ]


def _select(shape: _Shape) -> Select[Any]:
    source = _source(shape)
    columns = [*OFFER_COLUMNS, *ORGANISATION_COLUMNS]
    if source.hits is not None:
        columns.append(source.hits.c.score)
    return select(*columns).select_from(source.joined).where(*_conditions(shape))


def _score(value: str) -> float:
    score = float(value)
    if not math.isfinite(score):
        raise ValueError("not a score")
    return score


def _ordered(statement: Select[Any], sort: OfferSort, after: bool) -> Select[Any]:
    """ORDER BY and, past the first page, the keyset condition (its values bound by
    ``_after``): both use the same key, which always ends with the id, so ties never lose
    or repeat an offer."""
    after_id = bindparam("after_id", type_=offers.c.id.type)
    if sort == OfferSort.relevance:
        score = statement.selected_columns.score
        statement = statement.order_by(
            score.desc(), offers.c.published_at.desc(), offers.c.id.desc()
        )
        if after:
            statement = statement.where(
                tuple_(score, offers.c.published_at, offers.c.id)
                < tuple_(
                    bindparam("after_score", type_=Float),
                    bindparam("after_published_at", type_=offers.c.published_at.type),
                    after_id,
                )
            )
    elif sort == OfferSort.deadline:
        statement = statement.order_by(_DEADLINE_KEY, offers.c.id)
        if after:
            statement = statement.where(
                tuple_(_DEADLINE_KEY, offers.c.id)
                > tuple_(bindparam("after_deadline", type_=DateType), after_id)
            )
    else:
        statement = statement.order_by(offers.c.published_at.desc(), offers.c.id.desc())
        if after:
            statement = statement.where(
                tuple_(offers.c.published_at, offers.c.id)
                < tuple_(
                    bindparam("after_published_at", type_=offers.c.published_at.type), after_id
                )
            )
    return statement


def _after(sort: OfferSort, cursor: str) -> dict[str, Any]:
    """The keyset values of a cursor issued under ``sort``; 422 for any other."""
    parts = decode_cursor(cursor)
    try:
        if sort == OfferSort.relevance:
            if len(parts) != 4 or parts[0] != sort.value:
                raise invalid_cursor()
            return {
                "after_score": _score(parts[1]),
                "after_published_at": in_storable_range(datetime.fromisoformat(parts[2])),
                "after_id": UUID(parts[3]),
            }
        if sort == OfferSort.deadline:
            if len(parts) != 3 or parts[0] != sort.value:
                raise invalid_cursor()
            return {"after_deadline": date.fromisoformat(parts[1]), "after_id": UUID(parts[2])}
        # Two parts, as before sorting was offered: cursors partners hold stay valid.
        if len(parts) != 2:
            raise invalid_cursor()
        return {
            "after_published_at": in_storable_range(datetime.fromisoformat(parts[0])),
            "after_id": UUID(parts[1]),
        }
    except ValueError:
        raise invalid_cursor() from None


def _cursor_after(row: Any, sort: OfferSort) -> str:
    if sort == OfferSort.relevance:
        return encode_cursor(sort.value, repr(float(row["score"])), row["published_at"], row["id"])
    if sort == OfferSort.deadline:
        return encode_cursor(sort.value, (row["deadline"] or date.max).isoformat(), row["id"])
    return encode_cursor(row["published_at"], row["id"])


@lru_cache(maxsize=1024)
def _page_statement(shape: _Shape, sort: OfferSort, after: bool) -> Select[Any]:
    return _ordered(_select(shape), sort, after).limit(bindparam("limit", type_=Integer))


def page_statement(
    query: OfferQuery, dialect: str, *, today: date, limit: int, cursor: str | None
) -> tuple[Select[Any], dict[str, Any], OfferSort]:
    """The statement of one page of the list (built once per shape of query), the values
    it binds, and the sort it follows. It fetches one row more than ``limit``: its
    presence says that there is a next page."""
    sort = effective_sort(query.sort, query)
    params = _params(query, dialect, today) | {"limit": limit + 1}
    if cursor:
        params |= _after(sort, cursor)
    return _page_statement(_Shape.of(query, dialect), sort, bool(cursor)), params, sort


async def _facet_counts(
    reader: AsyncConnection, filters: OfferFilters, facet: Facet, today: date
) -> dict[str, int]:
    others = filters.without(facet.value)
    column = _FACET_COLUMNS[facet]
    shape = _Shape.of(others, reader.dialect.name)
    statement = (
        select(column, func.count())
        .select_from(_source(shape).joined)
        .where(*_conditions(shape), column.is_not(None))
        .group_by(column)
        .order_by(func.count().desc(), column)
    )
    params = _params(others, shape.dialect, today)
    rows = (await reader.execute(statement, params)).all()
    return {str(value): int(count) for value, count in rows}


async def matching_offers(
    connection: AsyncConnection | AsyncSession,
    filters: OfferFilters,
    offer_ids: Sequence[UUID],
    *,
    today: date,
    open_only: bool = True,
) -> set[UUID]:
    """Which of ``offer_ids`` the list shows under ``filters``: the list's own statement,
    narrowed to these offers (webhook subscriptions match events with it). Without
    ``open_only``, the filters alone: an offer just closed is no longer open, yet it was
    one of theirs."""
    if not offer_ids:
        return set()
    dialect = dialect_of(connection)
    shape = _Shape.of(filters, dialect)
    conditions = (
        _conditions(shape)
        if open_only
        else [_CONDITIONS[name].where(dialect) for name in shape.filters]
    )
    statement = (
        select(offers.c.id)
        .select_from(_source(shape).joined)
        .where(*conditions, offers.c.id.in_(bindparam("offer_ids", expanding=True)))
    )
    params = _params(filters, dialect, today) | {"offer_ids": list(offer_ids)}
    rows = (await connection.execute(statement, params)).all()
    return {row[0] for row in rows}


_write_page = reads.json_writer(OfferPage)


@dataclass(frozen=True, slots=True)
class ListedPage:
    """A page of the list as ``OfferPage`` holds it, and its JSON."""

    items: list[dict[str, Any]]
    """Each offer as ``OfferPublic`` holds it (``reads.public_data``)."""
    next_cursor: str | None
    facets: dict[str, dict[str, int]] | None = None
    """The facets asked for, in ``OfferFacets``' order."""

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"items": self.items, "next_cursor": self.next_cursor}
        if self.facets is not None:
            data["facets"] = self.facets
        return data

    def body(self) -> bytes:
        """What ``OfferPage`` serialises, without the facets not asked for."""
        return _write_page(self.data())


async def list_public(
    database: Database,
    query: OfferQuery,
    *,
    limit: int,
    cursor: str | None,
    today: date,
    facets: Sequence[Facet] = (),
) -> ListedPage:
    statement, params, sort = page_statement(
        query, database.dialect, today=today, limit=limit, cursor=cursor
    )
    rows = await reads.fetch(database, statement, params)
    items = reads.public_rows(rows[:limit], today)
    next_cursor = _cursor_after(rows[limit - 1], sort) if len(rows) > limit else None
    counts = None
    if facets:
        async with database.reader.connect() as reader:
            counts = {
                facet.value: await _facet_counts(reader, query, facet, today)
                for facet in Facet
                if facet in facets
            }
    return ListedPage(items, next_cursor, counts)


@dataclass(frozen=True, slots=True)
class ListingStamp:
    """Changes whenever the open offers under some filters change, and costs one aggregate
    query: a feed is validated (ETag, 304) without being rendered."""

    count: int
    offers_changed_at: datetime | None
    organisations_changed_at: datetime | None


async def listing_stamp(
    reader: AsyncConnection, filters: OfferFilters, today: date
) -> ListingStamp:
    # Organisations count too: a feed shows each offer's organisation name.
    shape = _Shape.of(filters, reader.dialect.name)
    statement = (
        select(func.count(), func.max(offers.c.updated_at), func.max(organisations.c.updated_at))
        .select_from(_source(shape).joined)
        .where(*_conditions(shape))
    )
    row = (await reader.execute(statement, _params(filters, shape.dialect, today))).one()
    return ListingStamp(int(row[0]), row[1], row[2])


# Rows fetched per round trip while streaming: enough to amortise the trip, few enough
# that a batch of long descriptions stays small.
_STREAM_BATCH = 100


async def stream_public(
    connection: AsyncConnection, filters: OfferFilters, *, limit: int, today: date
) -> AsyncIterator[OfferPublic]:
    """The open offers, newest first, through a server-side cursor: a feed of any length
    holds one batch of rows at a time. PostgreSQL keeps such a cursor only inside a
    transaction, so ``connection`` must not be in autocommit mode."""
    shape = _Shape.of(filters, connection.dialect.name)
    statement = _ordered(_select(shape), OfferSort.published_at, False).limit(limit)
    result = await connection.stream(
        statement.execution_options(yield_per=_STREAM_BATCH),
        _params(filters, shape.dialect, today),
    )
    async for row in result.mappings():
        yield to_public(row, today)
