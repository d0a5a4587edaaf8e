"""JobPosting property by property, and one offer served as JSON-LD by negotiation."""

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.offers.models import OfferPublic
from app.syndication.jsonld import description_html, dumps, job_posting
from tests.factories import make_offer, make_organisation

BASE = "https://vocation.example.org"
PUBLISHED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def offer(**overrides: Any) -> OfferPublic:
    """The DITP's Etat'LIN offer of the seeds, changed by ``overrides``."""
    values: dict[str, Any] = {
        "id": uuid.UUID("6f1c1d2e-0000-4000-8000-000000000001"),
        "organisation": {
            "id": uuid.uuid4(),
            "slug": "etat-lin",
            "name": "Etat'LIN",
            "kind": "administration_etat",
        },
        "reference": "2024-17971",
        "title": "Chef de projets innovation et transformation publique H/F",
        "description": "À Nantes, Etat'LIN aide les services de l'État.\n\n- Catégorie A",
        "missions": "- Conseiller et coacher\n- Piloter des démarches",
        "profile": "Expérience confirmée.",
        "contract_type": "fonctionnaire",
        "duration_months": None,
        "working_time": "full_time",
        "working_time_percent": None,
        "city": "Nantes",
        "postcode": "44000",
        "departement": "44",
        "region": "52",
        "country": "FR",
        "remote": "partial",
        "remote_days_per_week": None,
        "language": "fr",
        "salary_min": None,
        "salary_max": None,
        "salary_period": None,
        "salary_basis": None,
        "salary_text": "selon grille indiciaire, cotation RIFSEEP 3",
        "versant": "fpe",
        "categorie": "A",
        "open_to_contractuels": True,
        "start_date": None,
        "start_text": None,
        "end_date": None,
        "duration_months_min": None,
        "experience_years_max": None,
        "positions": 1,
        "manages_team": None,
        "address": None,
        "legal_basis": None,
        "source_url": None,
        "hours_per_week": None,
        "benefits": [],
        "contract_reason": None,
        "grades": [],
        "domain": None,
        "start_precision": None,
        "expires_at": None,
        "languages": [],
        "contact": None,
        "documents_required": [],
        "deadline": date(2026, 3, 31),
        "education_level": "niveau_7",
        "experience_years_min": 3,
        "apply_via": "url",
        "apply_email": None,
        "apply_url": "https://choisirleservicepublic.gouv.fr/",
        "status": "published",
        "published_at": PUBLISHED,
        "closed_at": None,
        "created_at": PUBLISHED,
        "updated_at": PUBLISHED,
    }
    values.update(overrides)
    return OfferPublic.model_validate(values)


def test_the_ditp_offer_as_a_job_posting() -> None:
    posting = job_posting(offer(), BASE)

    assert posting["@context"] == "https://schema.org"
    assert posting["@type"] == "JobPosting"
    assert posting["title"] == "Chef de projets innovation et transformation publique H/F"
    assert posting["url"] == f"{BASE}/v1/offers/6f1c1d2e-0000-4000-8000-000000000001"
    assert posting["datePosted"] == "2026-03-02T09:30:00+00:00"
    # The last day ends at midnight in Paris (UTC+2 from the last Sunday of March).
    assert posting["validThrough"] == "2026-03-31T23:59:59+02:00"
    assert posting["hiringOrganization"] == {"@type": "Organization", "name": "Etat'LIN"}
    assert posting["jobLocation"] == {
        "@type": "Place",
        "address": {
            "@type": "PostalAddress",
            "addressLocality": "Nantes",
            "postalCode": "44000",
            "addressRegion": "Pays de la Loire",
            "addressCountry": "FR",
        },
    }
    assert "jobLocationType" not in posting
    assert posting["employmentType"] == ["FULL_TIME"]
    assert "baseSalary" not in posting  # « selon grille » is not a number
    assert posting["identifier"] == {
        "@type": "PropertyValue",
        "name": "Etat'LIN",
        "value": "6f1c1d2e-0000-4000-8000-000000000001",
    }
    assert posting["directApply"] is False
    assert posting["educationRequirements"] == {
        "@type": "EducationalOccupationalCredential",
        "credentialCategory": "postgraduate degree",
    }
    assert posting["experienceRequirements"] == {
        "@type": "OccupationalExperienceRequirements",
        "monthsOfExperience": 36,
    }
    assert posting["inLanguage"] == "fr"


def test_description_holds_description_missions_and_profile_as_safe_html() -> None:
    text = description_html(
        offer(description="Intro <script>alert(1)</script> & co\nligne 2\n\n- un\n- deux")
    )

    assert text.startswith("<p>Intro &lt;script&gt;alert(1)&lt;/script&gt; &amp; co<br/>ligne 2")
    assert "<ul><li>un</li><li>deux</li></ul>" in text
    assert "<h3>Missions</h3><ul><li>Conseiller et coacher</li>" in text
    assert "<h3>Profil recherché</h3><p>Expérience confirmée.</p>" in text
    assert job_posting(offer(), BASE)["description"] == description_html(offer())


def test_json_cannot_close_a_script_element() -> None:
    text = dumps(job_posting(offer(title="</script><script>alert(1)</script>"), BASE))

    assert "<" not in text
    assert json.loads(text)["title"] == "</script><script>alert(1)</script>"


@pytest.mark.parametrize(
    ("contract_type", "working_time", "expected"),
    [
        ("cdi", "full_time", ["FULL_TIME"]),
        ("cdi", "part_time", ["PART_TIME"]),
        ("cdd", "full_time", ["TEMPORARY", "FULL_TIME"]),
        ("cdd", "part_time", ["TEMPORARY", "PART_TIME"]),
        ("stage", "full_time", ["INTERN"]),
        ("alternance", "full_time", ["OTHER", "FULL_TIME"]),
        ("service_civique", "full_time", ["VOLUNTEER"]),
        ("volontariat", "full_time", ["VOLUNTEER"]),
        ("interim", "full_time", ["TEMPORARY"]),
        ("independant", "full_time", ["CONTRACTOR"]),
        ("fonctionnaire", "full_time", ["FULL_TIME"]),
        ("fonctionnaire", "part_time", ["PART_TIME"]),
    ],
)
def test_employment_type_for_each_contract(
    contract_type: str, working_time: str, expected: list[str]
) -> None:
    posting = job_posting(offer(contract_type=contract_type, working_time=working_time), BASE)

    assert posting["employmentType"] == expected


def test_fully_remote_is_telecommute_within_the_country() -> None:
    posting = job_posting(offer(remote="full"), BASE)

    assert posting["jobLocationType"] == "TELECOMMUTE"
    assert posting["applicantLocationRequirements"] == {"@type": "Country", "name": "France"}
    assert "jobLocation" not in posting


@pytest.mark.parametrize(
    ("low", "high", "period", "value"),
    [
        (2600, 2900, "month", {"minValue": 2600, "maxValue": 2900, "unitText": "MONTH"}),
        (12, None, "hour", {"minValue": 12, "unitText": "HOUR"}),
        (None, 42000, "year", {"maxValue": 42000, "unitText": "YEAR"}),
    ],
)
def test_base_salary_is_a_monetary_amount(
    low: int | None, high: int | None, period: str, value: dict[str, Any]
) -> None:
    posting = job_posting(
        offer(salary_min=low, salary_max=high, salary_period=period, salary_basis="gross"), BASE
    )

    assert posting["baseSalary"] == {
        "@type": "MonetaryAmount",
        "currency": "EUR",
        "value": {"@type": "QuantitativeValue", **value},
    }


def test_platform_offers_are_direct_apply_and_optional_facts_are_left_out() -> None:
    posting = job_posting(
        offer(
            apply_via="platform",
            apply_url=None,
            deadline=None,
            education_level=None,
            experience_years_min=None,
        ),
        BASE,
    )

    assert posting["directApply"] is True
    for absent in ("validThrough", "educationRequirements", "experienceRequirements"):
        assert absent not in posting


def test_no_diploma_and_no_experience_say_so() -> None:
    posting = job_posting(offer(education_level="none", experience_years_min=0), BASE)

    assert posting["educationRequirements"] == "no requirements"
    assert posting["experienceRequirements"] == "no requirements"


def test_an_offer_closed_before_its_deadline_is_valid_until_it_closed() -> None:
    closed_at = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    posting = job_posting(offer(status="closed", closed_at=closed_at), BASE)

    assert posting["validThrough"] == "2026-03-10T14:00:00+00:00"


def test_valid_through_comes_from_expires_at_without_a_deadline() -> None:
    expires_at = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    posting = job_posting(offer(deadline=None, expires_at=expires_at), BASE)

    assert posting["validThrough"] == "2026-05-01T09:30:00+00:00"


@pytest.mark.parametrize(
    ("expires_at", "closed_at", "expected"),
    [
        # The default expires_at, the first moment after the deadline's day, comes after
        # the deadline's last second.
        (datetime(2026, 3, 31, 22, 0, tzinfo=UTC), None, "2026-03-31T23:59:59+02:00"),
        (datetime(2026, 4, 30, 22, 0, tzinfo=UTC), None, "2026-03-31T23:59:59+02:00"),
        (datetime(2026, 3, 20, 8, 0, tzinfo=UTC), None, "2026-03-20T08:00:00+00:00"),
        (
            datetime(2026, 3, 20, 8, 0, tzinfo=UTC),
            datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
            "2026-03-10T14:00:00+00:00",
        ),
        (
            datetime(2026, 3, 20, 8, 0, tzinfo=UTC),
            datetime(2026, 3, 25, 14, 0, tzinfo=UTC),
            "2026-03-20T08:00:00+00:00",
        ),
    ],
)
def test_valid_through_is_the_earliest_end(
    expires_at: datetime, closed_at: datetime | None, expected: str
) -> None:
    posting = job_posting(offer(expires_at=expires_at, closed_at=closed_at), BASE)

    assert posting["validThrough"] == expected


def test_unknown_working_time_remote_and_way_to_apply_say_nothing() -> None:
    unknown = {"working_time": None, "remote": None, "apply_via": None, "apply_url": None}

    temporary = job_posting(offer(contract_type="cdd", **unknown), BASE)
    statutory = job_posting(offer(**unknown), BASE)

    assert temporary["employmentType"] == ["TEMPORARY"]
    assert "employmentType" not in statutory  # a fonctionnaire's post is only its schedule
    for posting in (temporary, statutory):
        text = dumps(posting)
        assert "FULL_TIME" not in text
        assert "PART_TIME" not in text
        assert "TELECOMMUTE" not in text
        assert "jobLocationType" not in posting
        assert "applicantLocationRequirements" not in posting
        assert "directApply" not in posting
        assert posting["jobLocation"]["address"]["addressLocality"] == "Nantes"


@pytest.mark.parametrize(
    ("apply_via", "extra", "direct"),
    [
        ("platform", {"apply_url": None}, True),
        ("email", {"apply_url": None, "apply_email": "rh@example.org"}, False),
        ("url", {}, False),
    ],
)
def test_direct_apply_only_on_the_platform(
    apply_via: str, extra: dict[str, Any], direct: bool
) -> None:
    posting = job_posting(offer(apply_via=apply_via, **extra), BASE)

    assert posting["directApply"] is direct


def test_an_hourly_salary_keeps_its_cents() -> None:
    posting = job_posting(
        offer(salary_min=3.9, salary_max=None, salary_period="hour", salary_basis="net"), BASE
    )

    assert posting["baseSalary"] == {
        "@type": "MonetaryAmount",
        "currency": "EUR",
        "value": {"@type": "QuantitativeValue", "minValue": 3.9, "unitText": "HOUR"},
    }
    written = json.loads(dumps(posting), parse_float=str)  # the number as written
    assert written["baseSalary"]["value"]["minValue"] == "3.9"


@pytest.mark.parametrize(
    ("working_time", "percent", "hours", "employment", "work_hours"),
    [
        ("full_time", None, None, ["FULL_TIME"], None),
        ("part_time", None, None, ["PART_TIME"], None),
        ("part_time", 80, None, ["PART_TIME"], "temps partiel à 80 %"),
        (None, None, 17.5, ["PART_TIME"], "17,5 heures par semaine"),
        (None, None, 35, ["FULL_TIME"], "35 heures par semaine"),
        (None, None, 39, ["FULL_TIME"], "39 heures par semaine"),
        # Said to be full time: some full-time weeks are shorter than 35 hours.
        ("full_time", None, 32.5, ["FULL_TIME"], "32,5 heures par semaine"),
        ("part_time", 50, 17.5, ["PART_TIME"], "17,5 heures par semaine (temps partiel à 50 %)"),
        ("part_time", None, 10.25, ["PART_TIME"], "10,25 heures par semaine"),
    ],
)
def test_schedule_and_work_hours(
    working_time: str | None,
    percent: int | None,
    hours: float | None,
    employment: list[str],
    work_hours: str | None,
) -> None:
    posting = job_posting(
        offer(
            contract_type="cdi",
            working_time=working_time,
            working_time_percent=percent,
            hours_per_week=hours,
        ),
        BASE,
    )

    assert posting["employmentType"] == employment
    assert posting.get("workHours") == work_hours


@pytest.mark.parametrize(
    ("start_date", "precision", "text", "expected"),
    [
        (date(2026, 9, 1), "day", None, "2026-09-01"),
        (date(2026, 9, 1), None, None, "2026-09-01"),
        (date(2026, 9, 1), "month", "courant septembre", "2026-09"),
        (None, "asap", None, "dès que possible"),
        (None, "asap", "au plus tôt", "au plus tôt"),
        (date(2026, 9, 1), "asap", None, "dès que possible"),
        (None, None, "à la rentrée", "à la rentrée"),
        (None, None, None, None),
    ],
)
def test_job_start_date(
    start_date: date | None, precision: str | None, text: str | None, expected: str | None
) -> None:
    posting = job_posting(
        offer(start_date=start_date, start_precision=precision, start_text=text), BASE
    )

    assert posting.get("jobStartDate") == expected


def test_occupational_category_is_the_domains_french_label() -> None:
    assert job_posting(offer(domain="numerique"), BASE)["occupationalCategory"] == (
        "Numérique, données, systèmes d'information"
    )
    assert "occupationalCategory" not in job_posting(offer(domain="other"), BASE)
    assert "occupationalCategory" not in job_posting(offer(), BASE)


def test_experience_counts_the_least_years_asked() -> None:
    posting = job_posting(offer(experience_years_min=2, experience_years_max=5), BASE)

    assert posting["experienceRequirements"] == {
        "@type": "OccupationalExperienceRequirements",
        "monthsOfExperience": 24,
    }


def test_openings_benefits_and_contact() -> None:
    posting = job_posting(
        offer(
            positions=3,
            benefits=["IFSE", "CIA", "tickets restaurant"],
            contact={"name": "Camille Martin", "role": "cheffe du lab", "phone": "02 40 00 00 00"},
        ),
        BASE,
    )

    assert posting["totalJobOpenings"] == 3
    assert posting["jobBenefits"] == "IFSE, CIA, tickets restaurant"
    assert posting["applicationContact"] == {
        "@type": "ContactPoint",
        "name": "Camille Martin",
        "contactType": "cheffe du lab",
        "telephone": "02 40 00 00 00",
    }
    bare = job_posting(offer(), BASE)
    assert bare["totalJobOpenings"] == 1
    assert "jobBenefits" not in bare
    assert "applicationContact" not in bare


# Content negotiation on the offer detail route.


async def test_detail_negotiates_json_ld(client: httpx.AsyncClient, session: AsyncSession) -> None:
    organisation = await make_organisation(session, name="Etat'LIN")
    stored = await make_offer(session, organisation, contract_type="fonctionnaire")
    path = f"/v1/offers/{stored.id}"

    linked = await client.get(path, headers={"Accept": "application/ld+json"})

    assert linked.status_code == 200
    assert linked.headers["content-type"] == "application/ld+json"
    assert "Accept" in linked.headers["vary"]
    assert linked.headers["cache-control"] == "public, max-age=60"
    posting = linked.json()
    assert posting["@type"] == "JobPosting"
    assert posting["identifier"]["value"] == str(stored.id)
    assert posting["url"] == f"http://testserver/v1/offers/{stored.id}"
    assert posting["hiringOrganization"]["name"] == "Etat'LIN"

    again = await client.get(
        path,
        headers={"Accept": "application/ld+json", "If-None-Match": linked.headers["etag"]},
    )
    assert again.status_code == 304

    for accept in ("application/json", "*/*", "application/json, application/ld+json;q=0.5"):
        plain = await client.get(path, headers={"Accept": accept})
        assert plain.headers["content-type"] == "application/json", accept
        assert plain.json()["id"] == str(stored.id)
        assert "Accept" in plain.headers["vary"]
    preferred = await client.get(
        path, headers={"Accept": "application/json;q=0.5, application/ld+json"}
    )
    assert preferred.headers["content-type"] == "application/ld+json"
