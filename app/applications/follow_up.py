"""The follow-up token: the secret that lets a candidate without an account read or
withdraw the one application it was given for, and nothing else."""

import secrets

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from app.applications.models import Application
from app.core.api_keys import hash_key
from app.core.security import FOLLOW_UP, Principal

FOLLOW_UP_PREFIX = "app_"

_FOLLOW_UP_LOOKUP = select(col(Application.id)).where(
    col(Application.follow_up_token_hash) == bindparam("token_hash")
)


def new_token() -> tuple[str, str]:
    """A fresh token and its hash: the token is shown to the candidate once, only the hash
    is stored."""
    token = FOLLOW_UP_PREFIX + secrets.token_urlsafe(32)
    return token, hash_key(token)


async def resolve_follow_up_token(connection: AsyncConnection, token: str) -> Principal | None:
    application_id = (
        await connection.execute(_FOLLOW_UP_LOOKUP, {"token_hash": hash_key(token)})
    ).scalar()
    if application_id is None:
        return None
    return Principal(role=FOLLOW_UP, application_id=application_id)
