"""The PATCH schemas mirror the write schemas field for field, so no field is writable on
creation and silently frozen afterwards (or the reverse)."""

from app.offers.models import OfferFields, OfferUpdate
from app.organisations.models import OrganisationFields, OrganisationUpdate


def test_offer_update_has_every_writable_field() -> None:
    assert set(OfferUpdate.model_fields) == set(OfferFields.model_fields) | {"status"}


def test_organisation_update_has_every_writable_field() -> None:
    assert set(OrganisationUpdate.model_fields) == set(OrganisationFields.model_fields)
