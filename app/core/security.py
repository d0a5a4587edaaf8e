"""Who is calling: the Bearer token, resolved to a principal, and the role checks."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from app.core.api_keys import ApiKey, Role, hash_key, looks_like_key
from app.core.db import get_database
from app.core.errors import Forbidden, Unauthorized

# For routes that anyone may call and that do more with credentials: the empty
# requirement tells clients (and schemathesis) that sending none is fine. FastAPI appends
# it to the route's own Bearer requirement.
OPTIONAL_CREDENTIALS: dict[str, Any] = {"security": [{}]}
# The same, for a route that reads its token with `bearer_token` rather than a dependency.
OPTIONAL_BEARER: dict[str, Any] = {"security": [{"HTTPBearer": []}, {}]}

CANDIDATE = "candidate"
FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class Principal:
    """An API key's role (admin, recruiter, partner), a signed-in candidate, or a
    follow-up token that opens exactly one application."""

    role: str
    key_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    candidate_id: uuid.UUID | None = None
    application_id: uuid.UUID | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.admin

    def may_write_for(self, organisation_id: uuid.UUID) -> bool:
        return self.is_admin or (
            self.role == Role.recruiter and self.organisation_id == organisation_id
        )


# Domains outside core register how their own tokens resolve, by prefix
# (``app.state.token_resolvers``): core knows no candidate and no application.
TokenResolver = Callable[[AsyncConnection, str], Awaitable[Principal | None]]


# auto_error=False: we answer missing credentials ourselves, as problem+json with the
# WWW-Authenticate challenge RFC 6750 asks for.
_bearer = HTTPBearer(
    auto_error=False,
    description="An API key (`voc_…`), a candidate's access token (`cnd_…`) or an "
    "application's follow-up token (`app_…`).",
)

# Candidates get their Bearer token from the OAuth2 password flow. This scheme only tells
# clients (and their generators) where to get and refresh it: the token itself is read by
# `_bearer`, as every other token.
TOKEN_URL = "/v1/auth/token"  # noqa: S105 (a route, not a secret)
CANDIDATE_SIGN_IN = "CandidateSignIn"
_candidate_sign_in = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    refreshUrl=TOKEN_URL,
    scheme_name=CANDIDATE_SIGN_IN,
    auto_error=False,
    description="A candidate's access token (`cnd_…`), from the password flow.",
)
# For a route that takes candidates without `require_roles`.
CANDIDATE_CREDENTIALS: dict[str, Any] = {"security": [{CANDIDATE_SIGN_IN: []}]}

_KEY_LOOKUP = select(
    col(ApiKey.id), col(ApiKey.role), col(ApiKey.organisation_id), col(ApiKey.revoked_at)
).where(col(ApiKey.key_hash) == bindparam("key_hash"))


def bearer_challenge(error: str | None = None, description: str | None = None) -> dict[str, str]:
    """RFC 6750 §3: the realm alone when no credentials came; the error code and its
    description otherwise, so a client can tell a token to refresh from a request to fix."""
    value = 'Bearer realm="vocation"'
    if error:
        value += f', error="{error}"'
    if error and description:
        value += f', error_description="{_quotable(description)}"'
    return {"WWW-Authenticate": value}


def _quotable(text: str) -> str:
    # RFC 6750 allows printable ASCII but the quote and the backslash in error_description.
    return "".join(c for c in text if " " <= c <= "~" and c not in '"\\')


def _unauthorized(detail: str, error: str) -> Unauthorized:
    return Unauthorized(detail, headers=bearer_challenge(error, detail))


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    return await principal_for(request, credentials.credentials if credentials else None)


def bearer_token(request: Request) -> str | None:
    """The request's bearer token, read without the `HTTPBearer` dependency: for hot
    routes that document their security in `openapi_extra` instead."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Use `Authorization: Bearer <key>`.", "invalid_request")
    return token.strip()


async def principal_for(request: Request, token: str | None) -> Principal | None:
    if token is None:
        if request.headers.get("authorization"):
            raise _unauthorized("Use `Authorization: Bearer <key>`.", "invalid_request")
        return None
    resolvers: dict[str, TokenResolver] = getattr(request.app.state, "token_resolvers", {})
    resolver: TokenResolver | None = _resolve_api_key if looks_like_key(token) else None
    for prefix, candidate in resolvers.items():
        if token.startswith(prefix) and 20 <= len(token) <= 100 and token.isascii():
            resolver = candidate
    if resolver is None:
        raise _unauthorized("The token is malformed.", "invalid_token")
    async with get_database(request).reader.connect() as connection:
        principal = await resolver(connection, token)
    if principal is None:
        raise _unauthorized("The token is unknown, expired or revoked.", "invalid_token")
    return principal


async def _resolve_api_key(connection: AsyncConnection, token: str) -> Principal | None:
    row = (await connection.execute(_KEY_LOOKUP, {"key_hash": hash_key(token)})).first()
    if row is None or row.revoked_at is not None:
        return None
    return Principal(role=row.role, key_id=row.id, organisation_id=row.organisation_id)


async def required_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized("This route needs credentials.", headers=bearer_challenge())
    return principal


def require_roles(*roles: str) -> Any:
    async def dependency(
        principal: Annotated[Principal, Depends(required_principal)],
    ) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(str(role) for role in roles)
            raise Forbidden(f"This route is for these roles: {allowed}.")
        return principal

    if CANDIDATE not in roles:
        return Depends(dependency)

    async def candidate_dependency(
        principal: Annotated[Principal, Depends(dependency)],
        _documented: Annotated[str | None, Depends(_candidate_sign_in)],
    ) -> Principal:
        return principal

    return Depends(candidate_dependency)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
AdminPrincipal = Annotated[Principal, require_roles(Role.admin)]
WriterPrincipal = Annotated[Principal, require_roles(Role.admin, Role.recruiter)]
