"""The public list of offers: search, filters, sort orders, keyset pages and facets.

Feeds and the list share the statements built here, so a filter means the same thing on
`GET /v1/offers` and on every feed.
"""

import math
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, FromClause, Select, case, func, literal, or_, select, tuple_
from sqlalchemy import Date as DateType
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import Subquery

from app.core.pagination import Page, decode_cursor, encode_cursor, invalid_cursor
from app.core.types import in_storable_range
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
from app.offers.service import OFFER_COLUMNS, ORGANISATION_COLUMNS, offers, organisations, to_public
from app.referentials.enums import (
    Categorie,
    ContractType,
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
}


def _one_of(column: ColumnElement[Any]) -> Callable[[Sequence[str]], ColumnElement[bool]]:
    return lambda values: column.in_([str(value) for value in values])


def _organisation_condition(references: Sequence[str]) -> ColumnElement[bool]:
    ids, slugs = [], []
    for reference in references:
        try:
            ids.append(UUID(reference))
        except ValueError:
            slugs.append(reference)
    return or_(organisations.c.id.in_(ids), organisations.c.slug.in_(slugs))


def _deadline_after(day: str) -> ColumnElement[bool]:
    return or_(offers.c.deadline.is_(None), offers.c.deadline >= date.fromisoformat(day))


# Each filter of ``OfferFilters`` as SQL, keyed by the field's name, given its value when
# the client set it. `q` is not a condition but a join (the search's hits, with their
# score): see ``_source``.
_CONDITIONS: dict[str, Callable[[Any], ColumnElement[bool]]] = {
    **{name: _one_of(column) for name, column in _ONE_OF.items()},
    "organisation": _organisation_condition,
    "salary_min": lambda least: least <= _MONTHLY_GROSS,
    "published_since": lambda moment: offers.c.published_at >= datetime.fromisoformat(moment),
    "deadline_after": _deadline_after,
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
class _Source:
    joined: FromClause
    hits: Subquery | None


def _source(filters: OfferFilters, dialect: str) -> _Source:
    joined = offers.join(organisations, offers.c.organisation_id == organisations.c.id)
    if filters.search is None:
        return _Source(joined, None)
    hits = search.hits(dialect, filters.search)
    return _Source(joined.join(hits, hits.c.offer_id == offers.c.id), hits)


def _conditions(filters: OfferFilters, today: date) -> list[ColumnElement[bool]]:
    conditions = [
        offers.c.status == OfferStatus.published.value,
        or_(offers.c.deadline.is_(None), offers.c.deadline >= today),
    ]
    for name, condition in _CONDITIONS.items():
        value = getattr(filters, name)
        # None or an empty list: a filter the client did not set.
        if value is not None and not (isinstance(value, list | tuple) and not value):
            conditions.append(condition(value))
    return conditions


def _select(filters: OfferFilters, dialect: str, today: date, *extra: Any) -> Select[Any]:
    source = _source(filters, dialect)
    columns = [*OFFER_COLUMNS, *ORGANISATION_COLUMNS, *extra]
    if source.hits is not None:
        columns.append(source.hits.c.score)
    return select(*columns).select_from(source.joined).where(*_conditions(filters, today))


def _score(value: str) -> float:
    score = float(value)
    if not math.isfinite(score):
        raise ValueError("not a score")
    return score


def _ordered(statement: Select[Any], sort: OfferSort, cursor: str | None) -> Select[Any]:
    """ORDER BY and, past the first page, the keyset condition: both use the same key,
    which always ends with the id, so ties never lose or repeat an offer."""
    parts = decode_cursor(cursor) if cursor else None
    try:
        if sort == OfferSort.relevance:
            score = statement.selected_columns.score
            key = tuple_(score, offers.c.published_at, offers.c.id)
            statement = statement.order_by(
                score.desc(), offers.c.published_at.desc(), offers.c.id.desc()
            )
            if parts is not None:
                if len(parts) != 4 or parts[0] != sort.value:
                    raise invalid_cursor()
                published_at = in_storable_range(datetime.fromisoformat(parts[2]))
                statement = statement.where(
                    key < tuple_(_score(parts[1]), published_at, UUID(parts[3]))
                )
        elif sort == OfferSort.deadline:
            statement = statement.order_by(_DEADLINE_KEY, offers.c.id)
            if parts is not None:
                if len(parts) != 3 or parts[0] != sort.value:
                    raise invalid_cursor()
                deadline = date.fromisoformat(parts[1])
                statement = statement.where(
                    tuple_(_DEADLINE_KEY, offers.c.id) > tuple_(deadline, UUID(parts[2]))
                )
        else:
            statement = statement.order_by(offers.c.published_at.desc(), offers.c.id.desc())
            # Two parts, as before sorting was offered: cursors partners hold stay valid.
            if parts is not None:
                if len(parts) != 2:
                    raise invalid_cursor()
                published_at = in_storable_range(datetime.fromisoformat(parts[0]))
                statement = statement.where(
                    tuple_(offers.c.published_at, offers.c.id)
                    < tuple_(published_at, UUID(parts[1]))
                )
    except ValueError:
        raise invalid_cursor() from None
    return statement


def _cursor_after(row: Any, sort: OfferSort) -> str:
    if sort == OfferSort.relevance:
        return encode_cursor(sort.value, repr(float(row["score"])), row["published_at"], row["id"])
    if sort == OfferSort.deadline:
        return encode_cursor(sort.value, (row["deadline"] or date.max).isoformat(), row["id"])
    return encode_cursor(row["published_at"], row["id"])


async def _facet_counts(
    reader: AsyncConnection, filters: OfferFilters, facet: Facet, today: date
) -> dict[str, int]:
    others = filters.without(facet.value)
    column = _FACET_COLUMNS[facet]
    source = _source(others, reader.dialect.name)
    statement = (
        select(column, func.count())
        .select_from(source.joined)
        .where(*_conditions(others, today), column.is_not(None))
        .group_by(column)
        .order_by(func.count().desc(), column)
    )
    rows = (await reader.execute(statement)).all()
    return {str(value): int(count) for value, count in rows}


async def list_public(
    reader: AsyncConnection,
    query: OfferQuery,
    *,
    limit: int,
    cursor: str | None,
    today: date,
    facets: Sequence[Facet] = (),
) -> OfferPage:
    order = effective_sort(query.sort, query)
    filters: OfferFilters = query
    statement = _ordered(_select(filters, reader.dialect.name, today), order, cursor)
    rows = (await reader.execute(statement.limit(limit + 1))).mappings().all()
    items = [to_public(row, today) for row in rows[:limit]]
    next_cursor = _cursor_after(rows[limit - 1], order) if len(rows) > limit else None
    page = OfferPage(items=items, next_cursor=next_cursor)
    if facets:
        counts = {
            facet.value: await _facet_counts(reader, filters, facet, today) for facet in facets
        }
        page.facets = OfferFacets.model_validate(counts)
    return page


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
    source = _source(filters, reader.dialect.name)
    statement = (
        select(func.count(), func.max(offers.c.updated_at), func.max(organisations.c.updated_at))
        .select_from(source.joined)
        .where(*_conditions(filters, today))
    )
    row = (await reader.execute(statement)).one()
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
    statement = _ordered(
        _select(filters, connection.dialect.name, today), OfferSort.published_at, None
    ).limit(limit)
    result = await connection.stream(statement.execution_options(yield_per=_STREAM_BATCH))
    async for row in result.mappings():
        yield to_public(row, today)
