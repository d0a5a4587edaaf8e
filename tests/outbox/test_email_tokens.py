"""The tokens of e-mailed links: once, before they expire, and only for their purpose."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from app.core import email_tokens
from app.core.email_tokens import EmailToken, InvalidLink


async def issued(app: Any, lifetime: timedelta = timedelta(hours=24)) -> str:
    async with app.state.database.sessions() as session:
        token = await email_tokens.issue(
            session, "verify", lifetime=lifetime, data={"email": "élise@example.org"}
        )
        await session.commit()
    return token


async def use(app: Any, token: str, purpose: str = "verify") -> EmailToken:
    async with app.state.database.sessions() as session:
        found = await email_tokens.consume(session, token, purpose)
        await session.commit()
        return found


async def test_a_token_works_once_for_its_purpose_and_is_stored_hashed(app: Any) -> None:
    token = await issued(app)
    async with app.state.database.sessions() as session:
        stored = await session.get(EmailToken, token)
        assert stored is None  # only the hash is a key
    with pytest.raises(InvalidLink):
        await use(app, token, "reset")
    assert (await use(app, token)).values == {"email": "élise@example.org"}
    with pytest.raises(InvalidLink):
        await use(app, token)


async def test_two_uses_at_once_let_one_through(app: Any) -> None:
    token = await issued(app)
    outcomes = await asyncio.gather(*(use(app, token) for _ in range(4)), return_exceptions=True)
    assert sum(isinstance(outcome, EmailToken) for outcome in outcomes) == 1
    assert all(isinstance(o, EmailToken | InvalidLink) for o in outcomes)


async def test_a_token_expires(app: Any) -> None:
    with time_machine.travel(datetime(2026, 12, 8, 9, 0, tzinfo=UTC), tick=False) as clock:
        token = await issued(app, timedelta(hours=24))
        clock.shift(timedelta(hours=23, minutes=59))
        async with app.state.database.sessions() as session:
            await email_tokens.peek(session, token, "verify")
        clock.shift(timedelta(minutes=2))
        with pytest.raises(InvalidLink):
            await use(app, token)


async def test_a_rolled_back_use_leaves_the_token_usable(app: Any) -> None:
    token = await issued(app)
    async with app.state.database.sessions() as session:
        await email_tokens.consume(session, token, "verify")
        await session.rollback()
    await use(app, token)
