"""Changing a candidate's address: asked by the signed-in candidate, confirmed on the new
address."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from app.candidates import email_change, link_pages, links
from app.candidates.guard import GuardDep
from app.candidates.link_pages import LinkPage, Submission
from app.candidates.links import LinksDep
from app.candidates.models import Candidate, CandidatePublic
from app.candidates.schemas import CheckYourEmail, EmailChangeRequest, ProveAddress
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.http import private_json
from app.core.security import CANDIDATE, Principal, require_roles

router = APIRouter()
SignedIn = Annotated[Principal, require_roles(CANDIDATE)]

PAGE = LinkPage(
    purpose=links.EMAIL_CHANGE,
    path=links.EMAIL_CHANGE_PATH,
    form="candidate_email_change.html.j2",
    done="candidate_email_changed.html.j2",
    shown="new_email",
)
Token = Annotated[str, Query(description="The token of the e-mailed link.")]


@router.post(
    "/me/email",
    operation_id="requestEmailChange",
    response_model=CheckYourEmail,
    status_code=202,
    summary="Change the signed-in candidate's address",
    description="`new_email` and the account's `password`. Nothing changes until the link sent to "
    "the new address is used (24 hours, once). The answer is the same whether or not the new "
    "address has an account; if it has, its owner is told by e-mail and nothing else happens. A "
    "wrong password counts towards the account's lockout, as at sign-in: `422`, then `429`. The "
    "new address is sent at most `VOCATION_MAIL_QUOTA_PER_ADDRESS` e-mails on request (3 an "
    "hour, whoever asks): past that the answer is the same and no e-mail is sent.",
    responses=problem_responses(401, 403, 413, 422, 429, 503),
)
async def request_change(
    session: SessionDep,
    guard: GuardDep,
    principal: SignedIn,
    urls: LinksDep,
    data: EmailChangeRequest,
) -> Response:
    assert principal.candidate_id is not None
    await email_change.request_change(session, guard, principal.candidate_id, data, urls)
    return private_json(CheckYourEmail(), status_code=202)


@router.get(
    links.EMAIL_CHANGE_PATH.removeprefix("/v1"),
    operation_id="showEmailChangePage",
    response_class=HTMLResponse,
    summary="The page a change of address link opens",
    description="A French page with a form that asks for the account's password and posts the "
    "token to the same path; opening it changes nothing. A spent, expired or unknown link gets a "
    "page saying so, `400`.",
    responses={
        200: {"description": "The form."},
        **link_pages.SPENT_LINK_PAGE,
        **problem_responses(422),
    },
)
async def change_page(request: Request, session: SessionDep, token: Token = "") -> Response:
    return await link_pages.show(request, session, PAGE, token)


@router.post(
    links.EMAIL_CHANGE_PATH.removeprefix("/v1"),
    operation_id="confirmEmailChange",
    response_model=CandidatePublic,
    summary="Use a change of address link",
    description="`token` from the link and the account's `password`, as JSON, or form-encoded as "
    "the page's form posts them. The account takes the new address, proven, and the old address is "
    "told. The link fails as a spent one (`400`) if the account's address changed meanwhile or the "
    "new address got an account. JSON gets the account; the form gets a page.",
    responses={
        200: {"description": "The account.", **link_pages.PAGE},
        **link_pages.page_responses(400, 413, 422, 429, 503),
    },
    openapi_extra=link_pages.body_of(ProveAddress),
)
async def confirm_change(request: Request, session: SessionDep, guard: GuardDep) -> Response:
    async def change(submission: Submission) -> Candidate:
        return await email_change.confirm_change(session, guard, submission.parse(ProveAddress))

    return await link_pages.submit(request, PAGE, change)
