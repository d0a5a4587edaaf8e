"""The link that confirms a pending application: its page, and its use.

Mail scanners open links: GET shows a French page with a button and changes nothing. The
button posts the token to the same path and gets a page back; a program posts
`{"token": …}` as JSON and gets JSON (problem+json on errors). The body's media type says
which one a caller is."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse, Response

from app.applications import confirmation
from app.applications.confirmation import AlreadyApplied
from app.applications.mails import CONFIRM_PATH
from app.applications.models import ApplicationCreated, ApplicationStatus, ConfirmationRequest
from app.core.db import SessionDep
from app.core.email_tokens import InvalidLink
from app.core.errors import FieldError, Unprocessable, problem_responses
from app.core.http import private_json
from app.core.storage import StorageDep
from app.core.urls import absolute_url, public_base
from app.web.pages import render_page

router = APIRouter(tags=["applications"])

PATH = CONFIRM_PATH.removeprefix("/v1")
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
HTML = {"text/html": {"schema": {"type": "string"}}}
INVALID_LINK_PAGE = "invalid_link.html.j2"


def _with_page(responses: dict[int | str, dict[str, Any]], note: str) -> None:
    for status in (400, 409):
        if status in responses:
            responses[status]["description"] += note
            responses[status]["content"] |= HTML


_PAGE_RESPONSES = problem_responses(400, 409, 413, 422)
_with_page(_PAGE_RESPONSES, " A form gets a French page saying so.")


@router.get(
    PATH,
    operation_id="showApplicationConfirmationPage",
    response_class=HTMLResponse,
    summary="The page a confirmation link opens",
    description="The link e-mailed to the address of a `pending` application. A French page "
    "naming the offer, with a button that posts the token to the same path; opening it "
    "changes nothing (mail scanners open links). A used, expired or unknown link gets a page "
    "saying so, `400`.",
    responses={
        200: {"description": "The page, with its button.", "content": HTML},
        400: {"description": "The link is used, expired or unknown.", "content": HTML},
        **problem_responses(422),
    },
)
async def confirmation_page(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Query(max_length=200, description="The link's token.")] = "",
) -> Response:
    try:
        waiting = await confirmation.awaiting(session, token)
    except InvalidLink:
        return render_page(request, INVALID_LINK_PAGE, {}, status_code=400)
    return render_page(
        request,
        "application_confirm.html.j2",
        {
            "action": absolute_url(request, CONFIRM_PATH),
            "token": token,
            "offer_title": waiting.offer_title,
            "organisation_name": waiting.organisation_name,
        },
    )


@router.post(
    PATH,
    operation_id="confirmApplication",
    response_model=ApplicationCreated,
    summary="Confirm a pending application",
    description="`token` from the e-mailed link, as JSON (or as the page's form, "
    "`application/x-www-form-urlencoded`, which gets pages back). The "
    "application becomes `received`: its recruiter sees it, and the candidate gets a receipt "
    "with the follow-up token, which a JSON caller also gets here. The link works once, for "
    "48 hours, after which the unconfirmed application is erased. `400` "
    "(`urn:vocation:problem:invalid-link`) for a used, expired or unknown link; `409` when "
    "this address has already applied to this offer (told only to the holder of the link, "
    "that is the address's owner): the unconfirmed application is then erased at once.",
    responses={
        200: {"description": "The application, received.", "content": HTML},
        **_PAGE_RESPONSES,
    },
    # JSON only: the form is the page's own, and a body of two media types makes
    # openapi-python-client write a client that does not import (its issue #1451).
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ConfirmationRequest.model_json_schema()}},
        }
    },
)
async def confirm(request: Request, session: SessionDep, storage: StorageDep) -> Response:
    as_page, fields = await _read(request)
    try:
        token = ConfirmationRequest.model_validate(fields).token
    except ValidationError as error:
        if as_page:
            return render_page(request, INVALID_LINK_PAGE, {}, status_code=400)
        raise Unprocessable.from_validation(error) from None
    try:
        done = await confirmation.confirm(session, storage, token, base=public_base(request))
    except InvalidLink:
        if not as_page:
            raise
        return render_page(request, INVALID_LINK_PAGE, {}, status_code=400)
    except AlreadyApplied:
        if not as_page:
            raise
        return render_page(request, "application_already_applied.html.j2", {}, status_code=409)
    if as_page:
        return render_page(
            request,
            "application_confirmed.html.j2",
            {"offer_title": done.offer_title, "organisation_name": done.organisation_name},
        )
    return private_json(
        ApplicationCreated(
            id=done.application.id,
            status=ApplicationStatus.received,
            follow_up_token=done.follow_up_token,
        )
    )


async def _read(request: Request) -> tuple[bool, Any]:
    """Whether the caller is the page's form, and the fields it sent."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type in FORM_TYPES:
        form = await request.form()
        return True, {name: value for name, value in form.items() if isinstance(value, str)}
    try:
        return False, json.loads(await request.body())
    except ValueError:
        raise Unprocessable(
            "The body must be a JSON object, or form data.",
            errors=[FieldError(field="body", message="not a JSON object")],
        ) from None
