"""Candidates' accounts: sign-up, OAuth2 sign-in and sign-out, and their own data."""

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.responses import Response

from app.applications import service as applications
from app.applications.models import Application, ApplicationDetail, ApplicationSummary
from app.candidates import (
    auth,
    email_change_routes,
    reset_routes,
    service,
    signup,
    verify_routes,
)
from app.candidates.guard import GuardDep
from app.candidates.links import LinksDep
from app.candidates.models import CandidateCreate, CandidatePublic
from app.candidates.schemas import CheckYourEmail
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.http import private_json
from app.core.pagination import CursorParam, Page, PageLimit
from app.core.security import CANDIDATE, Principal, require_roles
from app.core.storage import StorageDep
from app.core.strict_query import STRICT_QUERY

router = APIRouter(tags=["candidates"])
SignedIn = Annotated[Principal, require_roles(CANDIDATE)]


class CandidateExport(BaseModel):
    """Everything held about the candidate (RGPD right of access). Documents are linked:
    download them with the same token."""

    account: CandidatePublic
    applications: list[ApplicationDetail]
    document_links: list[str]


@router.post(
    "/candidates",
    operation_id="createCandidate",
    response_model=CheckYourEmail,
    status_code=202,
    summary="Sign up: ask for a candidate account",
    description="Creates nothing yet: an e-mail goes to the address, with a link that "
    "creates the account, its address proven, once used with the same password (24 hours, "
    "once). If the address has an account, its owner gets a warning instead (with a link to "
    "choose a new password, in case they forgot it). The answer is the same, byte for byte, "
    "either way: sign-up tells nobody whether an address has an account. The password is "
    "checked for strength first (`422`, whatever the address), then hashed with Argon2. "
    "Sign-ups count with sign-ins against the account's limit "
    "(`VOCATION_RATE_LIMIT_SIGN_IN_ACCOUNT`: 429); when too many passwords are being hashed "
    "at once, 503 with `Retry-After`. One address is sent at most "
    "`VOCATION_MAIL_QUOTA_PER_ADDRESS` e-mails on request (3 an hour, resets and address "
    "changes included), whoever asks: past that the answer is the same and no e-mail is sent.",
    responses=problem_responses(413, 422, 429, 503),
)
async def sign_up(
    session: SessionDep, guard: GuardDep, urls: LinksDep, data: CandidateCreate
) -> Response:
    await signup.request_account(session, guard, data, urls)
    return private_json(CheckYourEmail(), status_code=202)


# Here, so that the spec lists what follows sign-up right after it.
router.include_router(verify_routes.router)
router.include_router(auth.router)
router.include_router(reset_routes.router)
router.include_router(email_change_routes.router)


@router.get(
    "/me",
    operation_id="getCurrentCandidate",
    response_model=CandidatePublic,
    summary="The signed-in candidate",
    responses=problem_responses(401, 403),
)
async def me(session: SessionDep, principal: SignedIn) -> Response:
    assert principal.candidate_id is not None
    candidate = await service.get(session, principal.candidate_id)
    return private_json(CandidatePublic.of(candidate))


@router.get(
    "/me/applications",
    operation_id="listMyApplications",
    response_model=Page[ApplicationSummary],
    summary="The signed-in candidate's applications",
    responses=problem_responses(401, 403, 422),
    dependencies=[STRICT_QUERY],
)
async def my_applications(
    session: SessionDep, principal: SignedIn, limit: PageLimit, cursor: CursorParam = None
) -> Response:
    page = await applications.list_for(
        session, principal, offer_id=None, statuses=[], limit=limit, cursor=cursor
    )
    return private_json(page)


async def _my_applications(session: AsyncSession, principal: Principal) -> list[Application]:
    rows = await session.execute(
        select(Application).where(col(Application.candidate_id) == principal.candidate_id)
    )
    return list(rows.scalars().all())


@router.get(
    "/me/export",
    operation_id="exportMyData",
    response_model=CandidateExport,
    summary="Export everything held about the signed-in candidate",
    responses=problem_responses(401, 403),
)
async def export(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    assert principal.candidate_id is not None
    candidate = await service.get(session, principal.candidate_id)
    zone = ZoneInfo(request.app.state.settings.timezone)
    details = [
        await applications.detail(session, application, zone)
        for application in await _my_applications(session, principal)
    ]
    links = [
        f"/v1/applications/{detail.id}/documents/{document.id}"
        for detail in details
        for document in detail.documents
    ]
    return private_json(
        CandidateExport(
            account=CandidatePublic.of(candidate),
            applications=details,
            document_links=links,
        )
    )


@router.delete(
    "/me",
    operation_id="eraseMyAccount",
    status_code=204,
    summary="Erase the signed-in candidate's account and applications",
    description="Deletes the account, the applications' personal data and their files. "
    "Recruiters then see each application as erased, without personal data.",
    responses=problem_responses(401, 403),
)
async def erase(
    session: SessionDep,
    principal: SignedIn,
    storage: StorageDep,
) -> Response:
    assert principal.candidate_id is not None
    await applications.erase(session, storage, await _my_applications(session, principal))
    await service.delete_account(session, principal.candidate_id)
    await session.commit()
    return Response(status_code=204)
