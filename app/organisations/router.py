"""/v1/organisations: public reads, writes by admins and the organisation's recruiters."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.responses import Response

from app.core.db import ReaderDep, SessionDep
from app.core.errors import problem_responses
from app.core.fields import ID_OR_SLUG_PATTERN
from app.core.http import (
    cached_json,
    check_if_match,
    etag_of_model,
    json_response,
    private_json,
)
from app.core.pagination import CursorParam, Page, PageLimit, next_link
from app.core.security import AdminPrincipal, WriterPrincipal
from app.core.strict_query import STRICT_QUERY
from app.core.urls import url_for
from app.organisations import service
from app.organisations.models import (
    OrganisationCreate,
    OrganisationPrivate,
    OrganisationPublic,
    OrganisationUpdate,
)
from app.referentials.enums import OrganisationKind
from app.referentials.validation import DepartementCode

router = APIRouter(prefix="/organisations", tags=["organisations"])

IdOrSlug = Annotated[
    str,
    Path(
        min_length=1,
        max_length=80,
        pattern=ID_OR_SLUG_PATTERN,
        description="The organisation's id (UUID) or its slug.",
        examples=["le-labo-de-l-ess"],
    ),
]


@router.get(
    "",
    operation_id="listOrganisations",
    response_model=Page[OrganisationPublic],
    summary="List organisations",
    responses=problem_responses(304, 422),
    dependencies=[STRICT_QUERY],
)
async def list_organisations(
    request: Request,
    reader: ReaderDep,
    limit: PageLimit,
    kind: Annotated[Sequence[OrganisationKind], Query(description="Repeatable.")] = (),
    departement: Annotated[Sequence[DepartementCode], Query(description="Repeatable.")] = (),
    cursor: CursorParam = None,
) -> Response:
    page = await service.list_public(
        reader,
        limit=limit,
        cursor=cursor,
        kind=[value.value for value in kind],
        departement=list(departement),
    )
    link = next_link(request, page.next_cursor)
    return cached_json(
        request,
        page,
        max_age=request.app.state.settings.public_cache_seconds,
        headers={"Link": link} if link else None,
    )


@router.get(
    "/{id_or_slug}",
    operation_id="getOrganisation",
    response_model=OrganisationPublic,
    summary="Read one organisation",
    responses=problem_responses(304, 404, 422),
)
async def get_organisation(request: Request, reader: ReaderDep, id_or_slug: IdOrSlug) -> Response:
    organisation = await service.get_public(reader, id_or_slug)
    return cached_json(
        request, organisation, max_age=request.app.state.settings.public_cache_seconds
    )


@router.get(
    "/{id_or_slug}/private",
    operation_id="getOrganisationPrivate",
    response_model=OrganisationPrivate,
    summary="Read one organisation with its private fields (admin, or its recruiter keys)",
    description="Adds what public reads leave out: the contact e-mail and where and how "
    "often new applications are announced (`notification_email`, `notification_frequency`).",
    responses=problem_responses(401, 403, 404, 422),
)
async def get_organisation_private(
    session: SessionDep, principal: WriterPrincipal, id_or_slug: IdOrSlug
) -> Response:
    organisation = await service.load_for_write(session, principal, id_or_slug)
    return private_json(OrganisationPrivate.model_validate(organisation))


@router.post(
    "",
    operation_id="createOrganisation",
    response_model=OrganisationPrivate,
    status_code=201,
    summary="Create an organisation (admin key)",
    responses=problem_responses(401, 403, 409, 413, 422),
)
async def create_organisation(
    request: Request,
    session: SessionDep,
    _principal: AdminPrincipal,
    data: Annotated[OrganisationCreate, Body()],
) -> Response:
    organisation = await service.create(session, data)
    public = OrganisationPublic.model_validate(organisation)
    return json_response(
        OrganisationPrivate.model_validate(organisation),
        status_code=201,
        etag=etag_of_model(public),
        headers={"Location": url_for(request, "get_organisation", id_or_slug=organisation.slug)},
    )


@router.patch(
    "/{id_or_slug}",
    operation_id="updateOrganisation",
    response_model=OrganisationPrivate,
    summary="Update an organisation (admin, or a recruiter key of this organisation)",
    description="Send only the fields to change. With `If-Match`, the update is refused "
    "with 412 when the organisation changed since that ETag was read.",
    responses=problem_responses(401, 403, 404, 412, 413, 422),
)
async def update_organisation(
    request: Request,
    session: SessionDep,
    principal: WriterPrincipal,
    id_or_slug: IdOrSlug,
    patch: Annotated[OrganisationUpdate, Body()],
) -> Response:
    organisation = await service.load_for_write(session, principal, id_or_slug)
    check_if_match(request, OrganisationPublic.model_validate(organisation))
    organisation = await service.update(session, organisation, patch)
    public = OrganisationPublic.model_validate(organisation)
    return json_response(
        OrganisationPrivate.model_validate(organisation), etag=etag_of_model(public)
    )
