"""Password reset: the request, the page its link opens, and the new password."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from app.candidates import link_pages, links, reset
from app.candidates.guard import GuardDep
from app.candidates.link_pages import LinkPage, Submission
from app.candidates.links import LinksDep
from app.candidates.models import Candidate, CandidatePublic
from app.candidates.schemas import CheckYourEmail, NewPassword, PasswordResetRequest
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.http import private_json

router = APIRouter()

PAGE = LinkPage(
    purpose=links.RESET,
    path=links.RESET_PATH,
    form="candidate_reset.html.j2",
    done="candidate_reset_done.html.j2",
)
Token = Annotated[str, Query(description="The token of the e-mailed link.")]


@router.post(
    "/candidates/password-reset",
    operation_id="requestPasswordReset",
    response_model=CheckYourEmail,
    status_code=202,
    summary="Ask for a link to choose a new password",
    description="The answer is the same whatever the address: the e-mail says, to the address's "
    "owner only, either how to choose a new password (a link that works once, for an hour) or that "
    "the address has no account. Counts as an attempt on the account "
    "(`VOCATION_RATE_LIMIT_SIGN_IN_ACCOUNT`). One address is sent at most "
    "`VOCATION_MAIL_QUOTA_PER_ADDRESS` such e-mails (3 an hour), whoever asks: past that the "
    "answer is the same and no e-mail is sent.",
    responses=problem_responses(413, 422, 429),
)
async def request_reset(
    session: SessionDep, guard: GuardDep, urls: LinksDep, data: PasswordResetRequest
) -> Response:
    await reset.request_reset(session, guard, data.email, urls)
    return private_json(CheckYourEmail(), status_code=202)


@router.get(
    links.RESET_PATH.removeprefix("/v1"),
    operation_id="showPasswordResetPage",
    response_class=HTMLResponse,
    summary="The page a password reset link opens",
    description="A French page with a form for the new password, posted with the token to the "
    "same path; opening it changes nothing. A spent, expired or unknown link gets a page saying "
    "so, `400`.",
    responses={
        200: {"description": "The form."},
        **link_pages.SPENT_LINK_PAGE,
        **problem_responses(422),
    },
)
async def reset_page(request: Request, session: SessionDep, token: Token = "") -> Response:
    return await link_pages.show(request, session, PAGE, token)


@router.post(
    links.RESET_PATH.removeprefix("/v1"),
    operation_id="resetPassword",
    response_model=CandidatePublic,
    summary="Choose a new password with a reset link",
    description="`token` from the link and the new `password` (checked as at sign-up), as JSON, "
    "or form-encoded as the page's form posts them. The link works once, for an hour, and only "
    "while the password it was sent for is still the account's. It proves the address, ends the "
    "account's lockout, and signs out every session: all access and refresh tokens are revoked. A "
    "mail tells the account the password changed. JSON gets the account; the form gets a page. "
    "`400` for a spent, expired or unknown link; `422` for a password too easy to guess (the link "
    "still works).",
    responses={
        200: {"description": "The account.", **link_pages.PAGE},
        **link_pages.page_responses(400, 413, 422, 429, 503),
    },
    openapi_extra=link_pages.body_of(NewPassword),
)
async def reset_password(request: Request, session: SessionDep, guard: GuardDep) -> Response:
    async def change(submission: Submission) -> Candidate:
        return await reset.reset_password(session, guard, submission.parse(NewPassword))

    return await link_pages.submit(request, PAGE, change)
