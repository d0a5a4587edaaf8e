"""The AppError family and the handlers that answer every error as RFC 9457 problem+json."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from app.core.fields import message_of
from app.core.storage import StorageError

log = logging.getLogger("vocation.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Every problem's `type` is a URN of ours (RFC 9457 §3.1.1 allows any URI; a URN promises
# no page to fetch), never "about:blank": clients tell problems apart by it.
PROBLEM_TYPE_PREFIX = "urn:vocation:problem:"
# The names already published; any other status gets its reason phrase, hyphenated
# (431 -> request-header-fields-too-large), so a problem added later still has a URN.
PROBLEM_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
    500: "internal",
    503: "unavailable",
}


def problem_type(status: int, slug: str | None = None) -> str:
    """The `type` URN of a problem: ``slug`` when given, else the one of ``status``."""
    if slug is None:
        slug = PROBLEM_SLUGS.get(status)
    if slug is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "error"
        slug = "-".join(phrase.lower().replace("-", " ").split())
    return PROBLEM_TYPE_PREFIX + slug


def _problem_schema(schema: dict[str, Any]) -> None:
    # The `type` is always sent (filled from the status when not given): required, and
    # without the empty default that only says "not given" to the constructor.
    schema["properties"]["type"].pop("default", None)
    schema["required"] = ["type", *schema.get("required", [])]
    schema["example"] = {
        "type": "urn:vocation:problem:not-found",
        "title": "Not Found",
        "status": 404,
        "detail": "No offer with this id.",
    }


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending input, e.g. `title`, `limit`.")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(json_schema_extra=_problem_schema)

    type: str = Field(
        default="",
        description="A URN naming the kind of problem, `urn:vocation:problem:` and a name: "
        + ", ".join(f"`{slug}` ({status})" for status, slug in sorted(PROBLEM_SLUGS.items()))
        + ". Any other status gets its HTTP reason phrase, lower case and hyphenated.",
        pattern=f"^{PROBLEM_TYPE_PREFIX}[a-z0-9-]+$",
    )
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None

    @model_validator(mode="after")
    def _type_from_status(self) -> "Problem":
        if not self.type:
            self.type = problem_type(self.status)
        return self


class AppError(Exception):
    status = 500
    title = "Internal Server Error"
    # None: the status's own name (see problem_type), so a subclass cannot inherit a wrong one.
    slug: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}

    def problem(self) -> Problem:
        return Problem(
            type=problem_type(self.status, self.slug),
            title=self.title,
            status=self.status,
            detail=self.detail,
            errors=self.errors,
        )


class Unauthorized(AppError):
    status, title, slug = 401, "Unauthorized", "unauthorized"


class Forbidden(AppError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(AppError):
    status, title, slug = 404, "Not Found", "not-found"


class Conflict(AppError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(AppError):
    status, title, slug = 412, "Precondition Failed", "precondition-failed"


class PayloadTooLarge(AppError):
    status, title, slug = 413, "Content Too Large", "payload-too-large"


class UnsupportedMediaType(AppError):
    status, title, slug = 415, "Unsupported Media Type", "unsupported-media-type"


class Unprocessable(AppError):
    status, title, slug = 422, "Unprocessable Content", "validation"

    @classmethod
    def from_validation(cls, error: ValidationError, prefix: str = "") -> "Unprocessable":
        return cls("The request is not valid.", errors=field_errors(error.errors(), prefix))


class ServiceUnavailable(AppError):
    status, title, slug = 503, "Service Unavailable", "unavailable"


def field_errors(raw: Any, prefix: str = "") -> list[FieldError]:
    """Turn pydantic's error list into (field, message) pairs without echoing the input,
    which may hold personal data or bytes a log should not see."""
    result = []
    for item in raw:
        location = [str(part) for part in item.get("loc", ())]
        if location and location[0] in {"body", "query", "path", "header", "cookie"}:
            location = location[1:]
        field = ".".join(location) or prefix.rstrip(".") or "body"
        if prefix and location:
            field = prefix + field
        message = message_of(item)
        result.append(FieldError(field=field, message=message))
    return result


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


async def _app_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return problem_response(exc.problem(), exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    error = Unprocessable("The request is not valid.", errors=field_errors(exc.errors()))
    return problem_response(error.problem())


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's word for a body it could not decode; to a client it is one more
        # unprocessable body, answered like every other.
        body_error = Unprocessable(
            "The body could not be parsed: send UTF-8 JSON, or well-formed form data "
            "within the documented limits.",
            errors=[FieldError(field="body", message="could not be parsed")],
        )
        return problem_response(body_error.problem())
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    problem = Problem(title=title, status=exc.status_code, detail=detail)
    return problem_response(problem, headers)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> list[str]:
    """Starlette names only the first route that matched the path; a path often has several
    (GET and POST on a collection), and Allow must list them all."""
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]


def _is_busy(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text


# PostgreSQL aborts one of two transactions that wait for each other (deadlock) or that
# cannot both be serialised; the other goes on, and the aborted one may simply be retried.
_RETRY_STATES = {"40P01", "40001"}


async def _database_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    if isinstance(exc, OperationalError) and _is_busy(exc):
        busy = ServiceUnavailable(
            "The database is busy; retry shortly.", headers={"Retry-After": "1"}
        )
        return problem_response(busy.problem(), busy.headers)
    if getattr(exc.orig, "sqlstate", None) in _RETRY_STATES:
        crossed = Conflict(
            "This request crossed another one writing the same rows; send it again.",
            headers={"Retry-After": "1"},
        )
        return problem_response(crossed.problem(), crossed.headers)
    # Anything else is a bug: on to the server's own handler, which logs its traceback.
    raise exc


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # The path only: query strings and bodies can carry personal data.
    log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
    problem = Problem(
        title="Internal Server Error",
        status=500,
        detail="An unexpected error occurred; it has been logged.",
    )
    return problem_response(problem)


async def _storage_error(_request: Request, exc: Exception) -> Response:
    # The key and the backend's words stay in the log; the client learns only to retry.
    log.error("storage failure: %s", exc)
    unavailable = ServiceUnavailable(
        "File storage is unavailable; retry shortly.", headers={"Retry-After": "5"}
    )
    return problem_response(unavailable.problem(), unavailable.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(StorageError, _storage_error)
    app.add_exception_handler(Exception, _unexpected_error)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entry of a route: each status it may answer, as problem+json."""
    descriptions = {
        304: "Not Modified: the representation matches `If-None-Match`, or (without it) "
        "has not changed since `If-Modified-Since`.",
        400: "Bad Request.",
        401: "Missing, malformed or revoked credentials.",
        403: "The credentials do not allow this action.",
        404: "No such resource, or not visible to these credentials.",
        409: "Conflicts with the current state.",
        412: "`If-Match` does not match the current representation.",
        413: "The request body is larger than the documented limit.",
        415: "The uploaded file is not of an accepted type.",
        421: "The Host is not one this server answers for (`VOCATION_ALLOWED_HOSTS`).",
        422: "The request is not valid; `errors` names each field.",
        429: "Too many requests; see `Retry-After`.",
        503: "Temporarily unavailable; see `Retry-After`.",
    }
    result: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        if status == 304:
            result[status] = {"description": descriptions[304]}
            continue
        result[status] = {
            "description": descriptions[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return result
