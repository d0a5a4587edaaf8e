"""Who is calling: the Bearer token, resolved to a principal, and the role checks."""

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, select
from sqlmodel import col

from app.core.api_keys import ApiKey, Role, hash_key, looks_like_key
from app.core.db import get_database
from app.core.errors import Forbidden, Unauthorized


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: uuid.UUID
    role: Role
    organisation_id: uuid.UUID | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def may_write_for(self, organisation_id: uuid.UUID) -> bool:
        return self.is_admin or (
            self.role is Role.recruiter and self.organisation_id == organisation_id
        )


# auto_error=False: we answer missing credentials ourselves, as problem+json with the
# WWW-Authenticate challenge RFC 6750 asks for.
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer voc_…`")

_KEY_LOOKUP = select(
    col(ApiKey.id), col(ApiKey.role), col(ApiKey.organisation_id), col(ApiKey.revoked_at)
).where(col(ApiKey.key_hash) == bindparam("key_hash"))


def _challenge(error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="vocation"'
    if error:
        value += f', error="{error}"'
    return {"WWW-Authenticate": value}


async def optional_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    if credentials is None:
        if request.headers.get("authorization"):
            raise Unauthorized(
                "Use `Authorization: Bearer <key>`.", headers=_challenge("invalid_request")
            )
        return None
    token = credentials.credentials
    if not looks_like_key(token):
        raise Unauthorized("The key is malformed.", headers=_challenge("invalid_token"))
    async with get_database(request).reader.connect() as connection:
        row = (await connection.execute(_KEY_LOOKUP, {"key_hash": hash_key(token)})).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("The key is unknown or revoked.", headers=_challenge("invalid_token"))
    return Principal(key_id=row.id, role=Role(row.role), organisation_id=row.organisation_id)


async def required_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized("This route needs an API key.", headers=_challenge())
    return principal


def require_roles(*roles: Role) -> Any:
    async def dependency(
        principal: Annotated[Principal, Depends(required_principal)],
    ) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise Forbidden(f"This route is for these roles: {allowed}.")
        return principal

    return Depends(dependency)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
AdminPrincipal = Annotated[Principal, require_roles(Role.admin)]
WriterPrincipal = Annotated[Principal, require_roles(Role.admin, Role.recruiter)]
