"""Fixtures of the offer tests that write as one recruiter: Le Labo and its key."""

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.organisations.models import Organisation
from tests.factories import bearer, make_key, make_organisation


@pytest.fixture
async def labo(session: AsyncSession) -> Organisation:
    return await make_organisation(session, slug="le-labo", name="Le Labo")


@pytest.fixture
async def key(session: AsyncSession, labo: Organisation) -> dict[str, str]:
    """The `Authorization` header of a recruiter key of Le Labo."""
    return bearer(await make_key(session, "recruiter", labo))
