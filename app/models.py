"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from app.core.api_keys import ApiKey
from app.offers.models import Offer
from app.organisations.models import Organisation

metadata = SQLModel.metadata

__all__ = ["ApiKey", "Offer", "Organisation", "metadata"]
