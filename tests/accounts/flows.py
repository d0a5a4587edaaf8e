"""Sign-up as a client goes through it, for tests that are about something else: the link
is read from the mail waiting in the outbox (tests/accounts/ reads it off a real SMTP
server instead)."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select
from sqlmodel import col

from app.outbox.models import OutboxMessage

PASSWORD = "un mot de passe solide"


def app_of(client: httpx.AsyncClient) -> Any:
    """The app behind an in-process test client."""
    return client._transport.app  # type: ignore[attr-defined]


async def queued_mails(client: httpx.AsyncClient, to: str | None = None) -> list[dict[str, Any]]:
    """The e-mails waiting in the outbox, oldest first: ``{to, template, context}``."""
    async with app_of(client).state.database.sessions() as session:
        rows = await session.execute(
            select(OutboxMessage)
            .where(col(OutboxMessage.channel) == "email")
            .order_by(col(OutboxMessage.created_at))
        )
        mails = [message.data for message in rows.scalars()]
    return [mail for mail in mails if to is None or mail["to"] == to]


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


async def sign_up(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    """Sign up and use the verification link, as JSON: the account."""
    asked = await client.post("/v1/candidates", json={"email": email, "password": password})
    assert asked.status_code == 202, asked.text
    *_, mail = [m for m in await queued_mails(client) if m["template"] == "candidate_verify"]
    token = token_of(mail["context"]["link"])
    proven = await client.post("/v1/candidates/verify", json={"token": token, "password": password})
    assert proven.status_code == 200, proven.text
    return dict(proven.json())
