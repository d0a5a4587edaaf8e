"""RFC 6749's wire format: its error body and the headers every token answer carries.

OAuth2 client libraries parse these exact shapes (a 400 with `error`), not problem+json:
given anything else they mistake an error for a token or raise the wrong error."""

from typing import Any, Literal

from pydantic import BaseModel
from starlette.responses import Response

from app.candidates.models import TokenResponse

ErrorCode = Literal["invalid_request", "invalid_grant", "unsupported_grant_type"]

# RFC 6749 §5.1: tokens must not be kept by any cache, HTTP/1.0 ones included.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2."""

    error: ErrorCode
    error_description: str


class OAuthError(Exception):
    def __init__(self, error: ErrorCode, description: str) -> None:
        super().__init__(description)
        self.body = OAuthErrorBody(error=error, error_description=description)

    def response(self) -> Response:
        return _json(self.body, 400)


def token_response(token: TokenResponse) -> Response:
    return _json(token, 200)


def _json(model: BaseModel, status_code: int) -> Response:
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=NO_STORE,
    )


def error_response(description: str) -> dict[str, Any]:
    """The 400 of an OpenAPI operation, in RFC 6749's shape."""
    return {"model": OAuthErrorBody, "description": description}
