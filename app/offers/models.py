"""Offers: the table and the schemas the API reads and writes."""

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator, with_config
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as Column
from sqlmodel import SQLModel
from typing_extensions import TypedDict

from app.core.email import EmailAddress
from app.core.fields import (
    CountryCode,
    LanguageCode,
    Line,
    LongText,
    Phone,
    Reference,
    ShortText,
    Statement,
    Url,
    exact_decimal,
    number_schema,
)
from app.core.types import Moment, UTCDateTime, utcnow
from app.organisations.models import OrganisationSummary
from app.referentials.enums import (
    ApplyVia,
    Categorie,
    ContractReason,
    ContractType,
    Domain,
    EducationLevel,
    LanguageLevel,
    OfferStatus,
    RemoteMode,
    SalaryBasis,
    SalaryPeriod,
    StartPrecision,
    Versant,
    WorkingTime,
)
from app.referentials.validation import DepartementCode, RegionCode, region_of

# Euros to the cent, read back as floats: the API's amounts are JSON numbers (see
# core.fields.decimal_number), and SQLite has no exact decimal type to read Decimals from.
MONEY = sa.Numeric(12, 2, asdecimal=False)
HOURS = sa.Numeric(5, 2, asdecimal=False)
# JSONB on PostgreSQL (compact, comparable); SQL NULL, not JSON null, for a missing object.
JSON_LIST = sa.JSON().with_variant(JSONB(), "postgresql")
JSON_OBJECT = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Offer(SQLModel, table=True):
    __tablename__ = "offer"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "reference"),
        # The public list: published offers, newest first, paged by (published_at, id).
        sa.Index("ix_offer_listing", "status", "published_at", "id"),
        # The expiry worker's question: published offers past their end.
        sa.Index("ix_offer_expiry", "status", "expires_at"),
    )

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: uuid.UUID = Column(foreign_key="organisation.id", index=True)
    reference: str | None = Column(default=None, sa_type=sa.String(100))
    title: str = Column(sa_type=sa.String(200))
    description: str = Column(sa_type=sa.Text)
    missions: str | None = Column(default=None, sa_type=sa.Text)
    profile: str | None = Column(default=None, sa_type=sa.Text)
    contract_type: str | None = Column(default=None, sa_type=sa.String(20))
    duration_months: int | None = Column(default=None)
    duration_months_min: int | None = Column(default=None)
    working_time: str | None = Column(default=None, sa_type=sa.String(10))
    working_time_percent: int | None = Column(default=None)
    city: str | None = Column(default=None, sa_type=sa.String(200))
    postcode: str | None = Column(default=None, sa_type=sa.String(10))
    departement: str | None = Column(default=None, sa_type=sa.String(3))
    region: str | None = Column(default=None, sa_type=sa.String(2))
    country: str = Column(default="FR", sa_type=sa.String(2))
    remote: str | None = Column(default=None, sa_type=sa.String(10))
    remote_days_per_week: int | None = Column(default=None)
    language: str = Column(default="fr", sa_type=sa.String(2))
    salary_min: float | None = Column(default=None, sa_type=MONEY)
    salary_max: float | None = Column(default=None, sa_type=MONEY)
    salary_period: str | None = Column(default=None, sa_type=sa.String(5))
    salary_basis: str | None = Column(default=None, sa_type=sa.String(5))
    salary_text: str | None = Column(default=None, sa_type=sa.String(1000))
    benefits: list[str] = Column(default_factory=list, sa_type=JSON_LIST)
    versant: str | None = Column(default=None, sa_type=sa.String(3))
    categorie: str | None = Column(default=None, sa_type=sa.String(2))
    open_to_contractuels: bool | None = Column(default=None)
    start_date: date | None = Column(default=None)
    start_precision: str | None = Column(default=None, sa_type=sa.String(10))
    end_date: date | None = Column(default=None)
    start_text: str | None = Column(default=None, sa_type=sa.String(200))
    deadline: date | None = Column(default=None)
    expires_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    hours_per_week: float | None = Column(default=None, sa_type=HOURS)
    contract_reason: str | None = Column(default=None, sa_type=sa.String(15))
    grades: list[str] = Column(default_factory=list, sa_type=JSON_LIST)
    domain: str | None = Column(default=None, sa_type=sa.String(30))
    languages: list[dict[str, str]] = Column(default_factory=list, sa_type=JSON_LIST)
    contact: dict[str, str] | None = Column(default=None, sa_type=JSON_OBJECT)
    documents_required: list[str] = Column(default_factory=list, sa_type=JSON_LIST)
    education_level: str | None = Column(default=None, sa_type=sa.String(10))
    experience_years_min: int | None = Column(default=None)
    experience_years_max: int | None = Column(default=None)
    positions: int = Column(default=1)
    manages_team: bool | None = Column(default=None)
    address: str | None = Column(default=None, sa_type=sa.String(200))
    legal_basis: str | None = Column(default=None, sa_type=sa.String(200))
    source_url: str | None = Column(default=None, sa_type=sa.String(500))
    apply_via: str | None = Column(default=None, sa_type=sa.String(10))
    apply_email: str | None = Column(default=None, sa_type=sa.String(320))
    apply_url: str | None = Column(default=None, sa_type=sa.String(500))
    status: str = Column(default="draft", sa_type=sa.String(10))
    published_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Column(default=None, sa_type=UTCDateTime)
    created_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Column(default=1)


Euros = Annotated[
    int | float,
    exact_decimal(2, 0, 10_000_000),
    number_schema(0, 10_000_000),
    Field(description="Euros, to the cent (3.90 an hour); whole amounts read as integers."),
]
Hours = Annotated[
    int | float,
    exact_decimal(2, 0.5, 48),
    number_schema(0.5, 48),
    Field(description="Hours a week: « 10h30 » is 10.5."),
]


@with_config(ConfigDict(extra="forbid"))
class LanguageRequirement(TypedDict):
    code: LanguageCode
    """ISO 639-1."""
    level: LanguageLevel


@with_config(ConfigDict(extra="forbid"))
class ContactFields(TypedDict, total=False):
    """Whom to ask about the offer (not how to apply); only what the offer gives."""

    name: Line
    role: Line
    email: EmailAddress
    phone: Phone


class Contact(TypedDict, total=False):
    """Whom to ask about the offer (not how to apply); only what the offer gives."""

    name: str
    role: str
    email: str
    phone: str


def _some_contact(contact: ContactFields) -> ContactFields:
    if not contact:
        raise ValueError("give at least one of name, role, email, phone (or null)")
    return contact


def _each_language_once(languages: list[LanguageRequirement]) -> list[LanguageRequirement]:
    codes = [language["code"] for language in languages]
    if len(set(codes)) != len(codes):
        raise ValueError("each language once")
    return languages


ContactDetails = Annotated[ContactFields, AfterValidator(_some_contact)]
Languages = Annotated[
    list[LanguageRequirement],
    Field(max_length=10, description="Required languages and their level."),
    AfterValidator(_each_language_once),
]
Benefits = Annotated[
    list[ShortText],
    Field(max_length=30, examples=[["IFSE", "CIA", "tickets restaurant"]]),
]
Grades = Annotated[
    list[Line],
    Field(
        max_length=20,
        description="Cadres d'emplois or grades open to the post.",
        examples=[["attaché territorial", "rédacteur territorial"]],
    ),
]
Documents = Annotated[
    list[ShortText],
    Field(
        max_length=20,
        examples=[["CV", "lettre de motivation", "dernier arrêté de situation"]],
    ),
]


class OfferFields(BaseModel):
    """What a writer may set on an offer, with the rules that hold across fields."""

    model_config = ConfigDict(extra="forbid")

    reference: Reference | None = Field(
        default=None, description="Your own reference, unique within your organisation."
    )
    title: Line
    description: LongText = Field(description="Markdown.")
    missions: LongText | None = Field(default=None, description="Markdown.")
    profile: LongText | None = Field(default=None, description="Markdown.")
    contract_type: ContractType | None = Field(
        default=None, description="Required to publish; a draft may leave it out."
    )
    duration_months: int | None = Field(
        default=None, ge=1, le=120, description="In months; the top of a range."
    )
    duration_months_min: int | None = Field(
        default=None,
        ge=1,
        le=120,
        description="The bottom of a range of months (« 4 à 6 mois »: 4, and 6 in "
        "`duration_months`).",
    )
    working_time: WorkingTime | None = Field(
        default=None, description="Null when the offer does not say."
    )
    working_time_percent: int | None = Field(
        default=None, ge=1, le=99, description="Only with `part_time`."
    )
    hours_per_week: Hours | None = None
    city: Line | None = None
    postcode: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")] | None = None
    departement: DepartementCode | None = None
    region: RegionCode | None = Field(
        default=None, description="Derived from the département when not given."
    )
    country: CountryCode = Field(default="FR", description="ISO 3166-1 alpha-2.")
    remote: RemoteMode | None = Field(default=None, description="Null when the offer does not say.")
    remote_days_per_week: int | None = Field(
        default=None, ge=1, le=5, description="Only with `partial`."
    )
    language: LanguageCode = Field(default="fr", description="ISO 639-1 code of the offer's text.")
    salary_min: Euros | None = None
    salary_max: Euros | None = None
    salary_period: SalaryPeriod | None = None
    salary_basis: SalaryBasis | None = None
    salary_text: Statement | None = Field(
        default=None,
        description="What is not a number: « selon grille », « à négocier », a bonus scheme "
        "(up to 1,000 characters).",
    )
    benefits: Benefits = Field(default_factory=list)
    contract_reason: ContractReason | None = None
    versant: Versant | None = None
    categorie: Categorie | None = None
    open_to_contractuels: bool | None = None
    grades: Grades = Field(default_factory=list)
    domain: Domain | None = Field(default=None, description="The job's field of work.")
    start_date: date | None = None
    start_precision: StartPrecision | None = Field(
        default=None,
        description="`day`: on `start_date`; `month`: in the month of `start_date`; `asap`: "
        "as soon as possible (no date needed).",
    )
    start_text: Line | None = Field(default=None, examples=["dès que possible"])
    end_date: date | None = Field(
        default=None,
        description="End of a fixed term; with both dates known, `duration_months` may be "
        "left out.",
    )
    deadline: date | None = Field(
        default=None, description="Last day to apply; the offer leaves the list the day after."
    )
    expires_at: Moment | None = Field(
        default=None,
        description="When the offer stops being shown (and is closed). Left out: the end of "
        "the deadline's day, or, without a deadline, `VOCATION_OFFER_DEFAULT_DAYS` (60) days "
        "after publication; it then follows the deadline when that changes.",
    )
    education_level: EducationLevel | None = None
    experience_years_min: int | None = Field(default=None, ge=0, le=50)
    experience_years_max: int | None = Field(
        default=None, ge=0, le=50, description="At most this many years (« 2 à 5 ans »: 5)."
    )
    positions: int = Field(default=1, ge=1, le=1_000, description="Number of posts.")
    manages_team: bool | None = Field(
        default=None, description="Whether the job leads a team; null when the offer does not say."
    )
    address: Line | None = Field(
        default=None, description="Street line; city, postcode and département are apart."
    )
    legal_basis: Line | None = Field(
        default=None,
        description="The legal basis for hiring a contractuel, e.g. « L332-8 2° ».",
        examples=["L332-8 2°"],
    )
    source_url: Url | None = Field(default=None, description="Where the offer was first published.")
    languages: Languages = Field(default_factory=list)
    contact: ContactDetails | None = None
    documents_required: Documents = Field(default_factory=list)
    apply_via: ApplyVia | None = Field(
        default=None,
        description="Null when the offer does not say; only `platform` takes applications here.",
    )
    apply_email: EmailAddress | None = None
    apply_url: Url | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "OfferFields":
        problems: list[str] = []
        low, high = self.salary_min, self.salary_max
        if low is not None and high is not None and low > high:
            problems.append("salary_min is above salary_max")
        has_amount = self.salary_min is not None or self.salary_max is not None
        if has_amount and self.salary_period is None:
            problems.append("salary_period is required with a salary amount")
        if self.working_time_percent is not None and self.working_time != WorkingTime.part_time:
            problems.append("working_time_percent goes with working_time=part_time")
        if self.remote_days_per_week is not None and self.remote != RemoteMode.partial:
            problems.append("remote_days_per_week goes with remote=partial")
        if self.apply_via == ApplyVia.email and not self.apply_email:
            problems.append("apply_email is required when apply_via is email")
        if self.apply_via == ApplyVia.url and not self.apply_url:
            problems.append("apply_url is required when apply_via is url")
        if self.contract_type == ContractType.cdi and self.duration_months is not None:
            problems.append("a cdi has no duration_months")
        shortest, longest = self.duration_months_min, self.duration_months
        if shortest is not None and (longest is None or shortest > longest):
            problems.append("duration_months_min goes with a duration_months at least as long")
        if self.contract_type == ContractType.cdi and self.end_date is not None:
            problems.append("a cdi has no end_date")
        least, most = self.experience_years_min, self.experience_years_max
        if least is not None and most is not None and least > most:
            problems.append("experience_years_min is above experience_years_max")
        if self.start_precision in (StartPrecision.day, StartPrecision.month) and not (
            self.start_date
        ):
            problems.append(f"start_precision {self.start_precision.value} goes with a start_date")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            problems.append("end_date is before start_date")
        if self.country != "FR" and (self.departement or self.region):
            problems.append("departement and region are for offers in France (country FR)")
        if self.country == "FR" and self.postcode and not self.postcode.isdigit():
            problems.append("a French postcode is five digits")
        if self.departement is not None:
            expected = region_of(self.departement)
            if self.region is None:
                self.region = expected
            elif self.region != expected:
                problems.append(f"région {self.region} does not contain {self.departement}")
        if problems:
            raise ValueError("; ".join(problems))
        return self


LIST_FIELDS = tuple(
    name for name, field in OfferFields.model_fields.items() if field.default_factory is list
)
"""The fields that hold a list, empty when the offer gives none."""


class OfferCreate(OfferFields):
    organisation_id: uuid.UUID | None = Field(
        default=None,
        description="Required with an admin key. With a recruiter key it may be left out; "
        "any other organisation than the key's is refused (422).",
    )
    status: Literal[OfferStatus.draft, OfferStatus.published] = OfferStatus.draft
    published_at: datetime | None = Field(
        default=None,
        description="When the offer was first published (to import an older offer); "
        "defaults to now on publication. Never in the future.",
    )


class OfferUpdate(BaseModel):
    """Every field optional; only the fields sent are changed (`null` clears one)."""

    model_config = ConfigDict(extra="forbid")

    reference: Reference | None = None
    title: Line | None = None
    description: LongText | None = None
    missions: LongText | None = None
    profile: LongText | None = None
    contract_type: ContractType | None = None
    duration_months: int | None = Field(default=None, ge=1, le=120)
    duration_months_min: int | None = Field(default=None, ge=1, le=120)
    working_time: WorkingTime | None = None
    working_time_percent: int | None = Field(default=None, ge=1, le=99)
    hours_per_week: Hours | None = None
    city: Line | None = None
    postcode: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$")] | None = None
    departement: DepartementCode | None = None
    region: RegionCode | None = None
    country: CountryCode | None = None
    remote: RemoteMode | None = None
    remote_days_per_week: int | None = Field(default=None, ge=1, le=5)
    language: LanguageCode | None = None
    salary_min: Euros | None = None
    salary_max: Euros | None = None
    salary_period: SalaryPeriod | None = None
    salary_basis: SalaryBasis | None = None
    salary_text: Statement | None = None
    benefits: Benefits | None = None
    contract_reason: ContractReason | None = None
    versant: Versant | None = None
    categorie: Categorie | None = None
    open_to_contractuels: bool | None = None
    grades: Grades | None = None
    domain: Domain | None = None
    start_date: date | None = None
    start_precision: StartPrecision | None = None
    start_text: Line | None = None
    end_date: date | None = None
    deadline: date | None = None
    expires_at: Moment | None = None
    education_level: EducationLevel | None = None
    experience_years_min: int | None = Field(default=None, ge=0, le=50)
    experience_years_max: int | None = Field(default=None, ge=0, le=50)
    positions: int | None = Field(default=None, ge=1, le=1_000)
    manages_team: bool | None = None
    address: Line | None = None
    legal_basis: Line | None = None
    source_url: Url | None = None
    languages: Languages | None = None
    contact: ContactDetails | None = None
    documents_required: Documents | None = None
    apply_via: ApplyVia | None = None
    apply_email: EmailAddress | None = None
    apply_url: Url | None = None
    status: OfferStatus | None = Field(
        default=None, description="`draft` → `published` → `closed`; never backwards."
    )


class OfferPublic(BaseModel):
    """An offer as anyone reads it."""

    id: uuid.UUID
    organisation: OrganisationSummary
    reference: str | None
    title: str
    description: str
    missions: str | None
    profile: str | None
    contract_type: ContractType | None = Field(description="Null only on a draft.")
    duration_months: int | None
    duration_months_min: int | None
    working_time: WorkingTime | None
    working_time_percent: int | None
    hours_per_week: Hours | None
    city: str | None
    postcode: str | None
    departement: str | None
    region: str | None
    country: str
    remote: RemoteMode | None
    remote_days_per_week: int | None
    language: str
    salary_min: Euros | None
    salary_max: Euros | None
    salary_period: SalaryPeriod | None
    salary_basis: SalaryBasis | None
    salary_text: str | None
    benefits: list[str]
    contract_reason: ContractReason | None
    versant: Versant | None
    categorie: Categorie | None
    open_to_contractuels: bool | None
    grades: list[str]
    domain: Domain | None
    start_date: date | None
    start_precision: StartPrecision | None
    start_text: str | None
    end_date: date | None
    deadline: date | None
    expires_at: datetime | None = Field(
        description="When it stops being shown: set on publication, or earlier by a deadline."
    )
    education_level: EducationLevel | None
    experience_years_min: int | None
    experience_years_max: int | None
    positions: int
    manages_team: bool | None
    address: str | None
    legal_basis: str | None
    source_url: str | None
    languages: list[LanguageRequirement]
    contact: Contact | None
    documents_required: list[str]
    apply_via: ApplyVia | None
    apply_email: str | None
    apply_url: str | None
    status: OfferStatus = Field(
        description="`closed` once closed by the recruiter or once its deadline has passed."
    )
    published_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
