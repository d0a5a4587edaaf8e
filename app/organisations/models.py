"""Organisations: the table and the schemas the API reads and writes."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Field as Column
from sqlmodel import SQLModel

from app.core.email import EmailAddress
from app.core.fields import Line, LongText, Postcode, Slug, Url
from app.core.types import UTCDateTime, utcnow
from app.referentials.enums import OrganisationKind
from app.referentials.validation import DepartementCode, RegionCode, region_of


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    slug: str = Column(sa_type=sa.String(80), unique=True)
    name: str = Column(sa_type=sa.String(200))
    kind: str = Column(sa_type=sa.String(40))
    description: str | None = Column(default=None, sa_type=sa.Text)
    website: str | None = Column(default=None, sa_type=sa.String(500))
    city: str | None = Column(default=None, sa_type=sa.String(200))
    postcode: str | None = Column(default=None, sa_type=sa.String(5))
    departement: str | None = Column(default=None, sa_type=sa.String(3))
    region: str | None = Column(default=None, sa_type=sa.String(2))
    siret: str | None = Column(default=None, sa_type=sa.String(14))
    contact_email: str | None = Column(default=None, sa_type=sa.String(320))
    # Where new applications are announced, and how often (app/applications/notify.py).
    notification_email: str | None = Column(default=None, sa_type=sa.String(320))
    notification_frequency: str = Column(
        default="immediate", sa_type=sa.String(12), sa_column_kwargs={"server_default": "immediate"}
    )
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Column(default=1)


class NotificationFrequency(StrEnum):
    """When the organisation hears of a new application: one e-mail each, at once, or one
    e-mail a day listing them (at `VOCATION_DIGEST_HOUR`, Paris time)."""

    immediate = "immediate"
    daily = "daily"


_NOTIFICATION_EMAIL = (
    "Where new applications are announced; `null`: nowhere. The e-mail names the offer and "
    "links to the application in the API; it says nothing about the candidate."
)
_NOTIFICATION_FREQUENCY = (
    "`immediate`: one e-mail per application, once received; `daily`: one e-mail a day, at "
    "`VOCATION_DIGEST_HOUR` (8 by default) Paris time, listing those received since the last."
)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        doubled = int(char) * (2 if position % 2 else 1)
        total += doubled - 9 if doubled > 9 else doubled
    return total % 10 == 0


def _valid_siret(value: str) -> str:
    digits = value.replace(" ", "")
    if len(digits) != 14 or not (digits.isascii() and digits.isdigit()):
        raise ValueError("a SIRET is 14 digits")
    # La Poste's establishments share one SIREN and many follow their own rule (sum % 5).
    la_poste = digits.startswith("356000000") and sum(int(d) for d in digits) % 5 == 0
    if not (_luhn_valid(digits) or la_poste):
        raise ValueError("invalid SIRET: checksum (Luhn) does not match")
    return digits


Siret = Annotated[
    str,
    Field(max_length=17, examples=["13002526500013"]),
    AfterValidator(_valid_siret),
]


class OrganisationFields(BaseModel):
    """What a writer may set, with the rules every write obeys."""

    model_config = ConfigDict(extra="forbid")

    name: Line
    kind: OrganisationKind
    description: LongText | None = None
    website: Url | None = None
    city: Line | None = None
    postcode: Postcode | None = None
    departement: DepartementCode | None = None
    region: RegionCode | None = None
    siret: Siret | None = None
    contact_email: EmailAddress | None = None
    notification_email: EmailAddress | None = Field(default=None, description=_NOTIFICATION_EMAIL)
    notification_frequency: NotificationFrequency = Field(
        default=NotificationFrequency.immediate, description=_NOTIFICATION_FREQUENCY
    )

    @model_validator(mode="after")
    def _region_matches_departement(self) -> "OrganisationFields":
        if self.departement is not None:
            expected = region_of(self.departement)
            if self.region is None:
                self.region = expected
            elif self.region != expected:
                raise ValueError(
                    f"région {self.region} does not contain département {self.departement}"
                )
        return self


class OrganisationCreate(OrganisationFields):
    slug: Slug = Field(description="Unique, URL-safe: lowercase letters, digits and hyphens.")


class OrganisationUpdate(BaseModel):
    """Every field optional; only the fields sent are changed (`null` clears one)."""

    model_config = ConfigDict(extra="forbid")

    name: Line | None = None
    kind: OrganisationKind | None = None
    description: LongText | None = None
    website: Url | None = None
    city: Line | None = None
    postcode: Postcode | None = None
    departement: DepartementCode | None = None
    region: RegionCode | None = None
    siret: Siret | None = None
    contact_email: EmailAddress | None = None
    notification_email: EmailAddress | None = Field(default=None, description=_NOTIFICATION_EMAIL)
    notification_frequency: NotificationFrequency | None = Field(
        default=None, description=_NOTIFICATION_FREQUENCY
    )


class OrganisationSummary(BaseModel):
    """How an offer names its organisation."""

    id: uuid.UUID
    slug: str
    name: str
    kind: OrganisationKind


class OrganisationPublic(BaseModel):
    """What anyone may read. The contact e-mail is left out: it may name a person."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    slug: str
    name: str
    kind: OrganisationKind
    description: str | None
    website: str | None
    city: str | None
    postcode: str | None
    departement: str | None
    region: str | None
    siret: str | None
    created_at: datetime
    updated_at: datetime


class OrganisationPrivate(OrganisationPublic):
    """What the organisation's own recruiters and admins read: after a write, and with
    `GET /v1/organisations/{id_or_slug}/private`."""

    contact_email: str | None
    notification_email: str | None = Field(description=_NOTIFICATION_EMAIL)
    notification_frequency: NotificationFrequency = Field(description=_NOTIFICATION_FREQUENCY)
