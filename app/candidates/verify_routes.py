"""Proving a candidate's address: the link of sign-up (or the one asked for again), its
page, and its use."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import HTMLResponse, Response

from app.candidates import link_pages, links, signup
from app.candidates.guard import GuardDep
from app.candidates.link_pages import LinkPage, Submission
from app.candidates.links import LinksDep
from app.candidates.models import Candidate, CandidatePublic
from app.candidates.schemas import CheckYourEmail, ProveAddress
from app.core.db import SessionDep
from app.core.errors import problem_responses
from app.core.http import private_json
from app.core.security import CANDIDATE, Principal, require_roles

router = APIRouter()
SignedIn = Annotated[Principal, require_roles(CANDIDATE)]

PAGE = LinkPage(
    purpose=links.VERIFY,
    path=links.VERIFY_PATH,
    form="candidate_verify.html.j2",
    done="candidate_verified.html.j2",
    shown="email",
)
Token = Annotated[str, Query(description="The token of the e-mailed link.")]


@router.get(
    links.VERIFY_PATH.removeprefix("/v1"),
    operation_id="showVerifyCandidateEmailPage",
    response_class=HTMLResponse,
    summary="The page an address verification link opens",
    description="The link of the verification e-mail. A French page with a form that asks for the "
    "account's password and posts the token to the same path; opening it changes nothing (mail "
    "scanners open links). A spent, expired or unknown link gets a page saying so, `400`.",
    responses={
        200: {"description": "The form."},
        **link_pages.SPENT_LINK_PAGE,
        **problem_responses(422),
    },
)
async def verify_page(request: Request, session: SessionDep, token: Token = "") -> Response:
    return await link_pages.show(request, session, PAGE, token)


@router.post(
    links.VERIFY_PATH.removeprefix("/v1"),
    operation_id="verifyCandidateEmail",
    response_model=CandidatePublic,
    summary="Use an address verification link",
    description="`token` from the link, and the account's password, as JSON, or form-encoded as "
    "the page's form posts them. A sign-up's link creates the account, its address proven; the "
    "link of an older account proves its address. The link works once, for 24 hours. The password "
    "is asked so that a link alone never ties an address to an account whose password the "
    "address's owner does not know. JSON gets the account; the form gets a page. A spent, expired "
    "or unknown link: `400` (`urn:vocation:problem:invalid-link`); a wrong password: `422`.",
    responses={
        200: {"description": "The account.", **link_pages.PAGE},
        **link_pages.page_responses(400, 413, 422, 429, 503),
    },
    openapi_extra=link_pages.body_of(ProveAddress),
)
async def verify(request: Request, session: SessionDep, guard: GuardDep) -> Response:
    async def prove(submission: Submission) -> Candidate:
        return await signup.prove_address(session, guard, submission.parse(ProveAddress))

    return await link_pages.submit(request, PAGE, prove)


@router.post(
    "/candidates/verification",
    operation_id="sendCandidateVerification",
    response_model=CheckYourEmail,
    status_code=202,
    summary="Send the signed-in candidate a link that proves their address",
    description="For accounts made before sign-up asked for a proof (`email_verified: false` in "
    "`GET /v1/me`). The link lasts 24 hours; it counts as an attempt on the account "
    "(`VOCATION_RATE_LIMIT_SIGN_IN_ACCOUNT`) and against the address's e-mail quota "
    "(`VOCATION_MAIL_QUOTA_PER_ADDRESS`, 3 an hour: past it, the same answer and no e-mail). "
    "`409` when the address is proven already.",
    responses=problem_responses(401, 403, 409, 413, 429),
)
async def send_verification(
    session: SessionDep, guard: GuardDep, principal: SignedIn, urls: LinksDep
) -> Response:
    assert principal.candidate_id is not None
    await signup.send_proof_again(session, guard, principal.candidate_id, urls)
    return private_json(CheckYourEmail(), status_code=202)
