"""The routes an e-mailed link leads to, for people and for programs alike.

A link is opened with GET, which mail scanners also do: it shows a page with a form and
changes nothing. The form posts the token (and a password) to the same path, and gets a
page back, errors written next to their field. A program posts the same fields as JSON, and
gets JSON and problem+json, as everywhere else in the API. Which one a caller is, its body's
media type says."""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from app.candidates.models import Candidate, CandidatePublic
from app.candidates.proof import WrongPassword
from app.candidates.strength import TooEasy
from app.core import email_tokens
from app.core.email_tokens import InvalidLink
from app.core.errors import AppError, FieldError, Unprocessable, problem_responses
from app.core.http import private_json
from app.core.urls import absolute_url
from app.web.pages import render_page

M = TypeVar("M", bound=BaseModel)

FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
HTML = "text/html"
INVALID_LINK_PAGE = "invalid_link.html.j2"


@dataclass(frozen=True, slots=True)
class Submission:
    as_page: bool
    fields: dict[str, Any]

    def parse(self, model: type[M]) -> M:
        try:
            return model.model_validate(self.fields)
        except ValidationError as error:
            raise Unprocessable.from_validation(error) from None


async def read(request: Request) -> Submission:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type in FORM_TYPES:
        form = await request.form()
        # A file where a text was expected is left out, and then reported missing.
        texts = {name: value for name, value in form.multi_items() if isinstance(value, str)}
        return Submission(as_page=True, fields=texts)
    try:
        fields = json.loads(await request.body())
    except ValueError:
        fields = None
    if not isinstance(fields, dict):
        raise Unprocessable(
            "The body must be a JSON object, or form data.",
            errors=[FieldError(field="body", message="not a JSON object")],
        )
    return Submission(as_page=False, fields=fields)


@dataclass(frozen=True, slots=True)
class LinkPage:
    purpose: str
    path: str
    # The page with the form, shown by GET and again with an error.
    form: str
    # The page once it is done.
    done: str
    # The token's datum the form page names ("confirm the address …"), if any.
    shown: str | None = None


async def show(request: Request, session: AsyncSession, page: LinkPage, token: str) -> Response:
    """What GET answers: the form, or why the link does not work. Reads only."""
    try:
        found = await email_tokens.peek(session, token, page.purpose)
    except InvalidLink:
        return render_page(request, INVALID_LINK_PAGE, {}, status_code=400)
    shown = found.values.get(page.shown) if page.shown else None
    return _form(request, page, token, address=shown)


async def submit(
    request: Request,
    page: LinkPage,
    action: Callable[[Submission], Awaitable[Candidate]],
) -> Response:
    submission = await read(request)
    try:
        candidate = await action(submission)
    except (InvalidLink, Unprocessable) as error:
        if not submission.as_page:
            raise
        return _refused(request, page, submission, error)
    if submission.as_page:
        return render_page(request, page.done, {"address": candidate.email})
    return private_json(CandidatePublic.of(candidate))


def _refused(request: Request, page: LinkPage, submission: Submission, error: AppError) -> Response:
    token = submission.fields.get("token")
    fields = {field_error.field for field_error in error.errors or []}
    if isinstance(error, InvalidLink) or not isinstance(token, str) or "token" in fields:
        return render_page(request, INVALID_LINK_PAGE, {}, status_code=400)
    # The reason, as a code the French template words.
    reason = (
        "too_easy"
        if isinstance(error, TooEasy)
        else "wrong_password"
        if isinstance(error, WrongPassword)
        else "invalid_password"
    )
    return _form(request, page, token, error=reason, status_code=422)


def _form(
    request: Request,
    page: LinkPage,
    token: str,
    *,
    address: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "action": absolute_url(request, page.path),
        "token": token,
        "address": address,
        "error": error,
    }
    return render_page(request, page.form, context, status_code=status_code)


def body_of(model: type[BaseModel]) -> dict[str, Any]:
    """The `openapi_extra` of a route that reads ``model`` as JSON or as its page's form.

    Only JSON is declared: the form is the page's own, and a request body with two media
    types makes openapi-python-client (0.29) write a client that does not import
    (openapi-generators/openapi-python-client#1451). The description names the form."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


PAGE: dict[str, Any] = {"content": {HTML: {"schema": {"type": "string"}}}}
# What GET answers for a spent, expired or unknown link: a page, for a person.
SPENT_LINK_PAGE: dict[int | str, dict[str, Any]] = {
    400: {"description": "The link is spent, expired or unknown: a page saying so.", **PAGE}
}


def page_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``problem_responses``, with the page a form gets instead on 400 and 422."""
    responses = problem_responses(*statuses)
    notes = {
        400: " A form gets a page saying the link is spent or expired.",
        422: " A form gets its page again, the error next to its field.",
    }
    for status, note in notes.items():
        if status in responses:
            responses[status]["description"] += note
            responses[status]["content"][HTML] = PAGE["content"][HTML]
    return responses
