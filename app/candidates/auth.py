"""The OAuth2 endpoints of candidates (a public client, RFC 6749): the token endpoint and
revocation (RFC 7009), which is how a candidate signs out."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.candidates import service, tokens
from app.candidates.guard import Guard, GuardDep
from app.candidates.models import TokenResponse
from app.candidates.oauth import NO_STORE, OAuthError, error_response, token_response
from app.core.db import SessionDep
from app.core.errors import problem_responses

router = APIRouter()

# The sign-up limits: longer input cannot be a valid account's, so it is not hashed.
_MAX_EMAIL, _MAX_PASSWORD = 320, 200


@router.post(
    "/auth/token",
    operation_id="requestToken",
    response_model=TokenResponse,
    summary="Sign in, or refresh (OAuth2 token endpoint)",
    description="Form-encoded (RFC 6749 §4.3, §6). Sign in with `grant_type=password`, "
    "`username` (the e-mail) and `password`; refresh with `grant_type=refresh_token` and "
    "`refresh_token`. The access token lasts 60 minutes "
    "(`VOCATION_CANDIDATE_TOKEN_MINUTES`), the refresh token 30 days "
    "(`VOCATION_CANDIDATE_REFRESH_DAYS`). Each refresh token works once: the answer holds "
    "the next one, and presenting a used one again revokes the whole sign-in. Errors are "
    "RFC 6749's JSON (`400` with `error`), not problem+json. No client authentication: "
    "`client_id` and an `Authorization: Basic` header are ignored.\n\n"
    "Before a password is checked: at most `VOCATION_RATE_LIMIT_SIGN_IN_ACCOUNT` (10 a "
    "minute) attempts per account, from any address, and after "
    "`VOCATION_SIGN_IN_LOCKOUT_FAILURES` (5) wrong passwords in a row the address takes none "
    "for `VOCATION_SIGN_IN_LOCKOUT_SECONDS` (60), doubled at each further failure up to "
    "`VOCATION_SIGN_IN_LOCKOUT_MAX_SECONDS` (900): `429` problem+json with `Retry-After`. "
    "An address without an account locks alike: no answer tells whether it has one. "
    "When too many passwords are being checked at once: `503` with `Retry-After`. The "
    "e-mail is compared in its canonical form (NFKC, case-folded).",
    responses={
        400: error_response(
            "RFC 6749 §5.2: `invalid_request` (a field missing), `invalid_grant` (wrong "
            "e-mail or password; a refresh token unknown, expired, revoked or already used) "
            "or `unsupported_grant_type`."
        ),
        **problem_responses(413, 422, 429, 503),
    },
)
async def token(
    request: Request,
    session: SessionDep,
    guard: GuardDep,
    # Every field is optional to FastAPI, so that a missing one gets RFC 6749's 400, not 422.
    grant_type: Annotated[
        str | None, Form(description="`password` or `refresh_token`; without it, `password`.")
    ] = None,
    username: Annotated[str | None, Form(description="The e-mail, for `password`.")] = None,
    password: Annotated[str | None, Form(description="For `password`.")] = None,
    refresh_token: Annotated[str | None, Form(description="For `refresh_token`.")] = None,
    scope: Annotated[str | None, Form(description="Ignored: a token opens the account.")] = None,
) -> Response:
    settings = request.app.state.settings
    lifetimes = tokens.Lifetimes(
        access=timedelta(minutes=settings.candidate_token_minutes),
        refresh=timedelta(days=settings.candidate_refresh_days),
    )
    try:
        # Before refresh tokens, grant_type was optional and meant the password grant:
        # clients that still omit it keep signing in.
        if grant_type in (None, "password"):
            issued = await _password_grant(session, guard, username, password, lifetimes)
        elif grant_type == "refresh_token":
            if not refresh_token:
                raise OAuthError("invalid_request", "The form field `refresh_token` is missing.")
            issued = await tokens.refresh(session, refresh_token, lifetimes)
        else:
            raise OAuthError(
                "unsupported_grant_type", "Use `password` or `refresh_token` as `grant_type`."
            )
    except OAuthError as error:
        return error.response()
    return token_response(issued)


async def _password_grant(
    session: AsyncSession,
    guard: Guard,
    username: str | None,
    password: str | None,
    lifetimes: tokens.Lifetimes,
) -> TokenResponse:
    if not username or not password:
        raise OAuthError("invalid_request", "The form fields `username` and `password` are needed.")
    candidate_id = None
    if len(username) <= _MAX_EMAIL and len(password) <= _MAX_PASSWORD:
        candidate_id = await service.authenticate(session, username, password, guard)
    if candidate_id is None:
        raise OAuthError("invalid_grant", "Wrong e-mail or password.")
    return await tokens.sign_in(session, candidate_id, lifetimes)


@router.post(
    "/auth/revoke",
    operation_id="revokeToken",
    response_class=Response,
    summary="Sign out: revoke a token (RFC 7009)",
    description="Form-encoded: `token`, and optionally `token_type_hint` (`access_token` or "
    "`refresh_token`; not needed, the token says which it is). Revoking the refresh token "
    "signs out: it revokes every token of that sign-in, access tokens included. Revoking an "
    "access token revokes that token only. Unknown, expired and already revoked tokens get "
    "the same empty `200`, so the answer tells nothing about a token.",
    responses={
        200: {"description": "Revoked, or nothing to revoke.", "content": None},
        400: error_response("RFC 6749 §5.2: `invalid_request`, the form field `token` is missing."),
        **problem_responses(413, 422),
    },
)
async def revoke(
    session: SessionDep,
    token: Annotated[str | None, Form(description="The access or refresh token to revoke.")] = None,
    token_type_hint: Annotated[
        str | None, Form(description="`access_token` or `refresh_token`; ignored.")
    ] = None,
) -> Response:
    if not token:
        return OAuthError("invalid_request", "The form field `token` is missing.").response()
    await tokens.revoke(session, token)
    return Response(status_code=200, headers=NO_STORE)
