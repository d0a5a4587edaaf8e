"""Rows for tests, written straight through the ORM: quicker than the API and independent
of the routes under test."""

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidates.models import Candidate
from app.core.api_keys import Role, issue_key
from app.core.email import account_email
from app.offers.models import Offer
from app.organisations.models import Organisation
from app.search import index as search_index

_counter = itertools.count(1)
# One Argon2 hash (64 MiB, tens of milliseconds) for every test account of this password.
_hasher = PasswordHasher()
PASSWORD = "un mot de passe solide"
_hashes: dict[str, str] = {}


async def make_organisation(session: AsyncSession, **overrides: Any) -> Organisation:
    number = next(_counter)
    values: dict[str, Any] = {
        "slug": f"organisation-{number}",
        "name": f"Organisation {number}",
        "kind": "association",
        "city": "Nantes",
        "postcode": "44000",
        "departement": "44",
        "region": "52",
    }
    values.update(overrides)
    organisation = Organisation(**values)
    session.add(organisation)
    await session.commit()
    return organisation


async def make_offer(session: AsyncSession, organisation: Organisation, **overrides: Any) -> Offer:
    number = next(_counter)
    values: dict[str, Any] = {
        "organisation_id": organisation.id,
        "reference": f"REF-{number}",
        "title": f"Chargé·e de mission {number}",
        "description": "Une mission d'intérêt général.",
        "contract_type": "cdd",
        "duration_months": 12,
        "city": "Nantes",
        "postcode": "44000",
        "departement": "44",
        "region": "52",
        "remote": "none",
        "apply_via": "platform",
        "status": "published",
        # Newest first in creation order; minutes, so that a long run stays within an
        # offer's default lifetime (VOCATION_OFFER_DEFAULT_DAYS).
        "published_at": datetime.now(UTC) - timedelta(minutes=number),
    }
    values.update(overrides)
    offer = Offer(**values)
    session.add(offer)
    await session.flush()
    # As the service does on every write: published offers are searchable.
    await search_index.sync(session, [offer.id])
    await session.commit()
    return offer


async def make_key(
    session: AsyncSession, role: Role | str, organisation: Organisation | None = None
) -> str:
    _key, secret = await issue_key(
        session, Role(role), organisation.id if organisation is not None else None
    )
    return secret


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def offer_body(**overrides: Any) -> dict[str, Any]:
    """A valid creation body, shaped like the DITP's Etat'LIN offer in the seeds."""
    body: dict[str, Any] = {
        "reference": f"2024-{next(_counter):05d}",
        "title": "Chef de projets innovation et transformation publique H/F",
        "description": "Accompagner les services de l'État en région dans leurs projets.",
        "contract_type": "fonctionnaire",
        "versant": "fpe",
        "categorie": "A",
        "open_to_contractuels": True,
        "city": "Nantes",
        "postcode": "44000",
        "departement": "44",
        "remote": "partial",
        "education_level": "niveau_7",
        "experience_years_min": 3,
        "start_date": (paris_today() + timedelta(days=40)).isoformat(),
        "deadline": (paris_today() + timedelta(days=30)).isoformat(),
        "apply_via": "url",
        "apply_url": "https://choisirleservicepublic.gouv.fr/",
        "status": "published",
    }
    body.update(overrides)
    return body


def paris_today() -> date:
    """The API's "today": deadlines end at midnight in Paris, whatever the machine's zone."""
    return datetime.now(ZoneInfo("Europe/Paris")).date()


def new_id() -> str:
    return str(uuid.uuid4())


async def make_candidate(
    session: AsyncSession, email: str, password: str = PASSWORD, *, verified: bool = True
) -> Candidate:
    """An account as the verification link leaves it (``verified``), or as sign-up made
    them before it asked for a proof."""
    if password not in _hashes:
        _hashes[password] = _hasher.hash(password)
    candidate = Candidate(
        email=account_email(email),
        password_hash=_hashes[password],
        email_verified_at=datetime.now(UTC) if verified else None,
    )
    session.add(candidate)
    await session.commit()
    await session.refresh(candidate)
    return candidate
