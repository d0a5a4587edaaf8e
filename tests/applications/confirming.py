"""Confirming a pending application as its address's owner does: with the token of the
link e-mailed to that address.

Tests that are not about e-mail read the link from the queued message (the outbox row, not
sent) rather than from an SMTP server; tests/applications/test_pending.py goes through a
real one."""

import hashlib
import uuid
from collections.abc import Iterable
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.email_tokens import EmailToken
from app.outbox.models import OutboxMessage
from tests.applications.conftest import apply
from tests.mail import link_in, text_of

CONFIRM = "/v1/applications/confirm"


def app_of(client: httpx.AsyncClient) -> Any:
    return client._transport.app  # type: ignore[attr-defined]


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def confirmation_token(
    session: AsyncSession,
    application_id: uuid.UUID | str,
    mails: Iterable[EmailMessage] | None = None,
) -> str:
    """The token of the confirmation e-mail for this application: in ``mails`` received, or
    else in the outbox, queued and not sent yet."""
    if mails is None:
        messages = await session.execute(
            select(OutboxMessage).where(col(OutboxMessage.topic) == "application_confirm")
        )
        # A sent e-mail keeps no content: only those still queued are read.
        queued = [m.data for m in messages.scalars() if m.data]
        tokens = [token_of(data["context"]["confirm_url"]) for data in queued]
    else:
        tokens = [token_of(link_in(mail, CONFIRM)) for mail in mails if CONFIRM in text_of(mail)]
    for token in tokens:
        found = await session.get(EmailToken, hashlib.sha256(token.encode()).hexdigest())
        if found is not None and str(found.application_id) == str(application_id):
            return token
    raise AssertionError(f"no confirmation e-mail for {application_id}")


async def confirm(client: httpx.AsyncClient, pending: httpx.Response) -> httpx.Response:
    """Confirm the application a `202` answered for, as a JSON client."""
    assert pending.status_code == 202, pending.text
    async with app_of(client).state.database.sessions() as session:
        token = await confirmation_token(session, pending.json()["id"])
    return await client.post(CONFIRM, json={"token": token})


async def apply_confirmed(
    client: httpx.AsyncClient, offer_id: object, **arguments: Any
) -> httpx.Response:
    """Apply without a proven address, then confirm: the answer holds the application's
    `id`, `status: received` and its `follow_up_token`, as `201` did before pending ones."""
    confirmed = await confirm(client, await apply(client, offer_id, **arguments))
    assert confirmed.status_code == 200, confirmed.text
    return confirmed
