"""Rules and queries for organisations."""

import re
import uuid
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from app.core.db import versioned_update
from app.core.errors import Conflict, Forbidden, NotFound, PreconditionFailed
from app.core.pagination import Page, decode_cursor, encode_cursor, invalid_cursor
from app.core.patching import apply_patch
from app.core.security import Principal
from app.core.types import utcnow
from app.organisations.models import (
    Organisation,
    OrganisationCreate,
    OrganisationFields,
    OrganisationPublic,
    OrganisationUpdate,
)
from app.search import index as search_index

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

table = Organisation.__table__  # type: ignore[attr-defined]
PUBLIC_COLUMNS = [table.c[name] for name in OrganisationPublic.model_fields]

_LIST = select(*PUBLIC_COLUMNS).order_by(table.c.slug)
_BY_ID = select(*PUBLIC_COLUMNS).where(table.c.id == bindparam("id"))
_BY_SLUG = select(*PUBLIC_COLUMNS).where(table.c.slug == bindparam("slug"))


def parse_ref(id_or_slug: str) -> tuple[str, Any]:
    """An organisation is named by its id or its slug, wherever a path or filter takes one."""
    try:
        return "id", uuid.UUID(id_or_slug)
    except ValueError:
        return "slug", id_or_slug


async def list_public(
    reader: AsyncConnection,
    *,
    limit: int,
    cursor: str | None,
    kind: list[str] | None = None,
    departement: list[str] | None = None,
) -> Page[OrganisationPublic]:
    statement: Select[Any] = _LIST
    if kind:
        statement = statement.where(table.c.kind.in_(kind))
    if departement:
        statement = statement.where(table.c.departement.in_(departement))
    if cursor:
        parts = decode_cursor(cursor)
        if len(parts) != 1 or not SLUG.fullmatch(parts[0]):
            raise invalid_cursor()
        statement = statement.where(table.c.slug > parts[0])
    rows = (await reader.execute(statement.limit(limit + 1))).mappings().all()
    items = [OrganisationPublic.model_validate(row) for row in rows[:limit]]
    next_cursor = encode_cursor(items[-1].slug) if len(rows) > limit else None
    return Page[OrganisationPublic](items=items, next_cursor=next_cursor)


async def get_public(reader: AsyncConnection, id_or_slug: str) -> OrganisationPublic:
    kind, value = parse_ref(id_or_slug)
    statement = _BY_ID if kind == "id" else _BY_SLUG
    row = (await reader.execute(statement, {kind: value})).mappings().first()
    if row is None:
        raise NotFound("No organisation with this id or slug.")
    return OrganisationPublic.model_validate(row)


async def create(session: AsyncSession, data: OrganisationCreate) -> Organisation:
    organisation = Organisation(**data.model_dump())
    session.add(organisation)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"The slug {data.slug!r} is taken.") from None
    return organisation


async def load_for_write(
    session: AsyncSession, principal: Principal, id_or_slug: str
) -> Organisation:
    kind, value = parse_ref(id_or_slug)
    column = col(Organisation.id) if kind == "id" else col(Organisation.slug)
    organisation = (
        await session.execute(select(Organisation).where(column == value))
    ).scalar_one_or_none()
    if organisation is None:
        raise NotFound("No organisation with this id or slug.")
    if not principal.may_write_for(organisation.id):
        raise Forbidden("This key may only change its own organisation.")
    return organisation


async def update(
    session: AsyncSession, organisation: Organisation, patch: OrganisationUpdate
) -> Organisation:
    changes = patch.model_dump(exclude_unset=True)
    merged = apply_patch(
        OrganisationFields, organisation, changes, derived={"departement": "region"}
    )
    values = merged.model_dump() | {"updated_at": utcnow()}
    if not await versioned_update(session, table, organisation.id, organisation.version, values):
        await session.rollback()
        raise PreconditionFailed("The organisation changed meanwhile: GET it again and retry.")
    if values["name"] != organisation.name:
        await search_index.sync_for_organisation(session, organisation.id)
    await session.commit()
    await session.refresh(organisation)
    return organisation
