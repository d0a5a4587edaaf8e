"""Hot reads of published offers: the public columns, statements compiled once, run on the
driver's own connection, and rows written straight to JSON.

The list and the detail are the API's hottest routes. What each request would otherwise
pay, and this module spares it:

- building and compiling the statement: each statement is built once (``listing`` builds
  one per shape of the query, with bound parameters) and compiled once per engine;
- SQLAlchemy's execution and result layers: on PostgreSQL the compiled SQL goes to
  asyncpg's connection itself, whose rows already hold what SQLAlchemy's types would give
  (aware UTC datetimes, UUIDs); other engines go through SQLAlchemy Core;
- validating rows into ``OfferPublic`` to serialise them again: ``public_data`` lays a
  row out as ``OfferPublic`` serialises (same keys, same order, same values) and
  pydantic-core writes it, with the same encoder, so the bytes are the model's.
  ``tests/offers/test_reads.py`` holds them to it.
"""

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cached_property
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from pydantic_core import SchemaSerializer, core_schema
from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import greenlet_spawn
from typing_extensions import is_typeddict

from app.core.db import Database
from app.core.errors import NotFound
from app.core.security import Principal
from app.offers.lifetime import end_of_day
from app.offers.models import Offer, OfferPublic
from app.organisations.models import Organisation, OrganisationSummary
from app.referentials.enums import OfferStatus

offers = Offer.__table__  # type: ignore[attr-defined]
organisations = Organisation.__table__  # type: ignore[attr-defined]

OFFER_COLUMNS = [
    offers.c[name] for name in OfferPublic.model_fields if name not in {"organisation"}
]
ORGANISATION_COLUMNS = [
    organisations.c.id.label("organisation_id"),
    organisations.c.slug.label("organisation_slug"),
    organisations.c.name.label("organisation_name"),
    organisations.c.kind.label("organisation_kind"),
    organisations.c.updated_at.label("organisation_updated_at"),
]
# Built once: each request only adds its filters to this statement.
_PUBLIC_SELECT = select(*OFFER_COLUMNS, *ORGANISATION_COLUMNS).select_from(
    offers.join(organisations, offers.c.organisation_id == organisations.c.id)
)
_BY_ID = _PUBLIC_SELECT.where(offers.c.id == bindparam("offer_id"))


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    """The parameters' names, in the order of their placeholders."""
    values: dict[str, Any]
    """The values built into the statement (its literals, as `status = 'published'`)."""

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] if name in params else self.values[name] for name in self.names]


_compiled: dict[tuple[int, str], tuple[Select[Any], _Compiled]] = {}


def _compile(statement: Select[Any], dialect: Dialect) -> _Compiled:
    # Keyed by identity, with the statement kept alive beside its text: statements are
    # built once (module constants, or one per shape of query) so the cache stays small.
    key = (id(statement), dialect.name)
    cached = _compiled.get(key)
    if cached is None:
        if len(_compiled) >= 2048:
            _compiled.clear()
        compiled = statement.compile(dialect=dialect)
        values = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if bind.value is not None or bind.callable is not None
        }
        names = tuple(compiled.positiontup or ())
        cached = (statement, _Compiled(compiled.string, names, values))
        _compiled[key] = cached
    return cached[1]


async def fetch(
    database: Database, statement: Select[Any], params: Mapping[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """The rows of ``statement``, each a mapping by column name, outside any transaction.

    On PostgreSQL, the compiled SQL runs on asyncpg's own connection, taken from the
    engine's pool: no SQLAlchemy connection, execution context or result around it (and
    no task for each connection's closing). Listeners of the engine's
    ``before_cursor_execute`` still see each statement (with no connection nor cursor).
    Elsewhere, through SQLAlchemy Core on the reader."""
    if database.dialect != "postgresql":
        async with database.reader.connect() as reader:
            result = await reader.execute(statement, dict(params))
            return list(result.mappings().all())
    engine = database.engine.sync_engine
    compiled = _compile(statement, engine.dialect)
    arguments = compiled.arguments(params)
    if engine.dispatch.before_cursor_execute:
        engine.dispatch.before_cursor_execute(None, None, compiled.sql, arguments, None, False)
    raw = await database.engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        rows: Sequence[Mapping[str, Any]] = await driver.fetch(compiled.sql, *arguments)
    finally:
        # Back to the pool; SQLAlchemy's reset may talk to the driver, hence the greenlet.
        await greenlet_spawn(raw.close)
    return rows


def effective_status(
    status: str, deadline: date | None, expires_at: datetime | None, today: date, now: datetime
) -> OfferStatus:
    """Closed once its deadline's day or its `expires_at` has passed, before the expiry
    worker records it."""
    if status == OfferStatus.published and (
        (deadline is not None and deadline < today)
        or (expires_at is not None and expires_at <= now)
    ):
        return OfferStatus.closed
    return OfferStatus(status)


_SCALARS: dict[Any, Callable[[], core_schema.CoreSchema]] = {
    str: core_schema.str_schema,
    int: core_schema.int_schema,
    float: core_schema.float_schema,
    bool: core_schema.bool_schema,
    date: core_schema.date_schema,
    datetime: core_schema.datetime_schema,
    uuid.UUID: core_schema.uuid_schema,
}


def _schema_of(annotation: Any) -> core_schema.CoreSchema:
    """How pydantic serialises ``annotation``, for plain data: a model as a dict of its
    fields (a field left out of the dict is left out of the JSON), an enum as its value."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _schema_of(get_args(annotation)[0])
    if origin in (Union, UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        choices: list[core_schema.CoreSchema | tuple[core_schema.CoreSchema, str]] = [
            _schema_of(arg) for arg in inner
        ]
        union = _schema_of(inner[0]) if len(inner) == 1 else core_schema.union_schema(choices)
        if len(inner) == len(get_args(annotation)):
            return union
        return core_schema.nullable_schema(union)
    if origin is list:
        return core_schema.list_schema(_schema_of(get_args(annotation)[0]))
    if origin is dict:
        key, value = get_args(annotation)
        return core_schema.dict_schema(_schema_of(key), _schema_of(value))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        fields = {
            name: core_schema.typed_dict_field(_schema_of(field.annotation), required=False)
            for name, field in annotation.model_fields.items()
        }
        return core_schema.typed_dict_schema(fields)
    if is_typeddict(annotation):
        hints = get_type_hints(annotation, include_extras=True)
        return core_schema.typed_dict_schema(
            {
                name: core_schema.typed_dict_field(_schema_of(hint), required=False)
                for name, hint in hints.items()
            }
        )
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return core_schema.str_schema()
    return _SCALARS[annotation]()


def json_writer(model: type[BaseModel]) -> Callable[[dict[str, Any]], bytes]:
    """Writes the data of a ``model`` (a dict of its fields, in their order, holding what
    the model holds, enums as their values) as ``model.model_dump_json`` would: the same
    pydantic-core encoder, told each field's type, without building the model."""
    return SchemaSerializer(_schema_of(model)).to_json


# OfferPublic's fields in order, each but the organisation read from the column of its name.
_FIELDS = tuple(OfferPublic.model_fields)
_ORGANISATION_FIELDS = tuple(OrganisationSummary.model_fields)
# The columns of OFFER_COLUMNS then ORGANISATION_COLUMNS, as every public statement begins.
_LAYOUT = (
    *(column.name for column in OFFER_COLUMNS),
    *(f"organisation_{field}" for field in _ORGANISATION_FIELDS),
)
_OFFER_END = len(OFFER_COLUMNS)
_ORGANISATION_END = len(_LAYOUT)
_REST = _LAYOUT[1:_OFFER_END]  # the offer's fields after its id, in OfferPublic's order
if ("id", "organisation", *_REST) != _FIELDS:
    raise RuntimeError("OFFER_COLUMNS must follow OfferPublic's fields")
dumps = json_writer(OfferPublic)


def _number(value: Any) -> int | float | None:
    # Numeric columns hold cents at most: Decimal from asyncpg's own rows, float through
    # SQLAlchemy (asdecimal=False); JSON shows whole amounts as integers either way.
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


# JSON columns need nothing: the engine's codec decodes them on both paths (core.db).
_NUMBERS = ("salary_min", "salary_max", "hours_per_week")


def _public(values: Sequence[Any], today: date, now: datetime) -> dict[str, Any]:
    data = {
        "id": values[0],
        "organisation": dict(
            zip(_ORGANISATION_FIELDS, values[_OFFER_END:_ORGANISATION_END], strict=True)
        ),
        **dict(zip(_REST, values[1:_OFFER_END], strict=True)),
    }
    for name in _NUMBERS:
        data[name] = _number(data[name])
    data["status"] = effective_status(
        data["status"], data["deadline"], data["expires_at"], today, now
    ).value
    return data


def public_rows(rows: Sequence[Mapping[str, Any]], today: date) -> list[dict[str, Any]]:
    """Rows as ``OfferPublic`` holds them, keys in its fields' order: what
    ``OfferPublic.model_validate`` takes, and what ``dumps`` writes as its JSON. The rows'
    columns begin with OFFER_COLUMNS then ORGANISATION_COLUMNS (checked on the first),
    so that each row is laid out by position."""
    if rows and tuple(rows[0].keys())[:_ORGANISATION_END] != _LAYOUT:
        raise ValueError("rows must begin with OFFER_COLUMNS then ORGANISATION_COLUMNS")
    now = datetime.now(UTC)
    return [_public(tuple(row.values()), today, now) for row in rows]


def public_data(row: Mapping[str, Any], today: date) -> dict[str, Any]:
    """One row as ``public_rows`` lays it out."""
    return public_rows([row], today)[0]


def to_public(row: Mapping[Any, Any], today: date) -> OfferPublic:
    return OfferPublic.model_validate(public_data(row, today))


@dataclass(frozen=True)
class Readable:
    data: dict[str, Any]
    """The offer as ``OfferPublic`` holds it (``public_data``)."""
    last_modified: datetime
    """When its representation last changed: the offer, its organisation's summary, or
    the end of its last day to apply, when that closed it."""

    @cached_property
    def offer(self) -> OfferPublic:
        return OfferPublic.model_validate(self.data)

    @cached_property
    def body(self) -> bytes:
        return dumps(self.data)


async def get_public(
    database: Database,
    offer_id: uuid.UUID,
    principal: Principal | None,
    today: date,
    zone: ZoneInfo,
) -> Readable:
    rows = await fetch(database, _BY_ID, {"offer_id": offer_id})
    if not rows:
        raise NotFound("No offer with this id.")
    row = rows[0]
    # Never published (a draft, or a draft closed as such): its organisation's business.
    if row["published_at"] is None and not (
        principal and principal.may_write_for(row["organisation_id"])
    ):
        raise NotFound("No offer with this id.")
    changed = max(row["updated_at"], row["organisation_updated_at"])
    data = public_data(row, today)
    if data["status"] == OfferStatus.closed and row["status"] == OfferStatus.published:
        # Closed by the clock: the representation changed when its end came.
        ends = [row["expires_at"]] if row["expires_at"] is not None else []
        if row["deadline"] is not None:
            ends.append(end_of_day(row["deadline"], zone))
        changed = max(changed, min(ends))
    return Readable(data, changed)


async def read_after_write(session: AsyncSession, offer_id: uuid.UUID, today: date) -> OfferPublic:
    row = (await session.execute(_BY_ID, {"offer_id": offer_id})).mappings().one()
    return to_public(row, today)
