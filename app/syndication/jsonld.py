"""An offer as a schema.org JobPosting, the shape Google's job search and partners' pages read.

Pure functions of an ``OfferPublic``: the feeds and the detail route share them.
"""

import html
import json
import re
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from app.offers.models import OfferPublic
from app.referentials.data import DOMAIN_BY_CODE, REGION_BY_CODE
from app.referentials.enums import (
    ApplyVia,
    ContractType,
    Domain,
    EducationLevel,
    RemoteMode,
    SalaryPeriod,
    StartPrecision,
    WorkingTime,
)

CONTEXT = "https://schema.org"
PARIS = ZoneInfo("Europe/Paris")

# Alternance (apprentissage, professionnalisation) is a salaried work contract, not a
# stage: Google shows INTERN as « Stage », which would misdescribe it, so it goes as OTHER
# with its working time.
_EMPLOYMENT: dict[ContractType, tuple[str, ...]] = {
    ContractType.cdi: (),
    ContractType.cdd: ("TEMPORARY",),
    ContractType.stage: ("INTERN",),
    ContractType.alternance: ("OTHER",),
    ContractType.service_civique: ("VOLUNTEER",),
    ContractType.volontariat: ("VOLUNTEER",),
    ContractType.interim: ("TEMPORARY",),
    ContractType.independant: ("CONTRACTOR",),
    ContractType.fonctionnaire: (),
}
# The contracts whose schedule is worth stating next to (or instead of) their kind.
_WITH_SCHEDULE = {
    ContractType.cdi,
    ContractType.cdd,
    ContractType.alternance,
    ContractType.fonctionnaire,
}

_UNIT = {SalaryPeriod.hour: "HOUR", SalaryPeriod.month: "MONTH", SalaryPeriod.year: "YEAR"}

# Google's credentialCategory values; the French levels follow the RNCP framework.
_CREDENTIAL = {
    EducationLevel.niveau_3: "professional certificate",
    EducationLevel.niveau_4: "high school",
    EducationLevel.niveau_5: "associate degree",
    EducationLevel.niveau_6: "bachelor degree",
    EducationLevel.niveau_7: "postgraduate degree",
    EducationLevel.niveau_8: "postgraduate degree",
}

_COUNTRY_NAMES = {"FR": "France"}

# The offer's contact is whom to ask about the job, schema.org's applicationContact; the
# person's role is the kind of contact point it is.
_CONTACT = {"name": "name", "role": "contactType", "email": "email", "phone": "telephone"}

# The legal full-time week in France. Stated hours below it say part time when the offer
# does not name its working time; a named working time wins, since some full-time weeks
# are legally shorter (32 h 30 for night work in public hospitals).
FULL_TIME_HOURS = 35
ASAP = "dès que possible"

_HEADINGS = {
    "fr": ("Missions", "Profil recherché"),
    "en": ("Responsibilities", "Profile"),
}
_BULLET = re.compile(r"^\s*[-*•]\s+")


def offer_url(base_url: str, offer: OfferPublic) -> str:
    return f"{base_url.rstrip('/')}/v1/offers/{offer.id}"


def schedule(offer: OfferPublic) -> WorkingTime | None:
    """Full or part time, from what the offer says of it; None when it says nothing, so
    that an unknown schedule is never published as full time.

    A percent of a full time is part time whatever else is said; then the named working
    time; then the hours, against the legal full-time week (see ``FULL_TIME_HOURS``)."""
    if offer.working_time_percent is not None:
        return WorkingTime.part_time
    if offer.working_time is not None:
        return offer.working_time
    if offer.hours_per_week is not None:
        short = offer.hours_per_week < FULL_TIME_HOURS
        return WorkingTime.part_time if short else WorkingTime.full_time
    return None


def employment_types(offer: OfferPublic) -> list[str]:
    if offer.contract_type is None:  # a draft may not say yet
        return []
    kinds = list(_EMPLOYMENT[offer.contract_type])
    hours = schedule(offer)
    if offer.contract_type in _WITH_SCHEDULE and hours is not None:
        kinds.append("PART_TIME" if hours == WorkingTime.part_time else "FULL_TIME")
    return kinds


def french_number(value: float) -> str:
    """17.5 as « 17,5 », 35.0 as « 35 »: the offers' text is French."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").replace(".", ",")


def work_hours(offer: OfferPublic) -> str | None:
    """The working week in words, from the hours and the percent of a full time."""
    hours = offer.hours_per_week
    percent = offer.working_time_percent
    share = f"temps partiel à {percent} %" if percent is not None else None
    if hours is None:
        return share
    week = f"{french_number(hours)} heures par semaine"
    return f"{week} ({share})" if share else week


def job_start(offer: OfferPublic) -> str | None:
    """schema.org's jobStartDate is a Date or a Text: the day, the month as ISO 8601
    allows it (2026-09), or the words when the offer starts as soon as it can or gives
    no date."""
    if offer.start_precision == StartPrecision.asap:
        return offer.start_text or ASAP
    if offer.start_date is None:
        return offer.start_text
    if offer.start_precision == StartPrecision.month:
        return offer.start_date.strftime("%Y-%m")
    return offer.start_date.isoformat()


def domain_label(offer: OfferPublic) -> str | None:
    # « Autre domaine » tells a reader nothing about the job.
    if offer.domain is None or offer.domain == Domain.other:
        return None
    return DOMAIN_BY_CODE[offer.domain].label


def _escape(text: str) -> str:
    # Quotes stay as they are: this HTML never puts text inside an attribute.
    return html.escape(text, quote=False)


def _paragraphs(text: str) -> str:
    """Just enough Markdown for a job description (paragraphs, line breaks, bullet lists),
    every character escaped, so the result is safe wherever HTML is accepted."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        index = 0
        while index < len(lines):
            if _BULLET.match(lines[index]):
                items = []
                while index < len(lines) and _BULLET.match(lines[index]):
                    items.append(f"<li>{_escape(_BULLET.sub('', lines[index]))}</li>")
                    index += 1
                out.append("<ul>" + "".join(items) + "</ul>")
            else:
                start = index
                while index < len(lines) and not _BULLET.match(lines[index]):
                    index += 1
                out.append("<p>" + "<br/>".join(_escape(x) for x in lines[start:index]))
                out[-1] += "</p>"
    return "".join(out)


def description_html(offer: OfferPublic) -> str:
    """The description, the missions and the profile as one HTML text."""
    missions, profile = _HEADINGS.get(offer.language, _HEADINGS["fr"])
    parts = [_paragraphs(offer.description)]
    if offer.missions:
        parts.append(f"<h3>{missions}</h3>{_paragraphs(offer.missions)}")
    if offer.profile:
        parts.append(f"<h3>{profile}</h3>{_paragraphs(offer.profile)}")
    return "".join(parts)


def valid_through(offer: OfferPublic, zone: ZoneInfo = PARIS) -> datetime | None:
    """The last moment to apply: the earliest of the deadline's last second in the
    service's zone, the moment the offer stops being shown, and the moment the recruiter
    closed it, so that crawlers drop an offer when the service does."""
    ends = [moment for moment in (offer.expires_at, offer.closed_at) if moment is not None]
    if offer.deadline is not None:
        ends.append(datetime.combine(offer.deadline, time(23, 59, 59), tzinfo=zone))
    return min(ends, default=None)


def _location(offer: OfferPublic) -> dict[str, Any]:
    if offer.remote == RemoteMode.full:
        country = _COUNTRY_NAMES.get(offer.country, offer.country)
        return {
            "jobLocationType": "TELECOMMUTE",
            "applicantLocationRequirements": {"@type": "Country", "name": country},
        }
    address: dict[str, Any] = {"@type": "PostalAddress"}
    if offer.address:
        address["streetAddress"] = offer.address
    if offer.city:
        address["addressLocality"] = offer.city
    if offer.postcode:
        address["postalCode"] = offer.postcode
    if offer.region and offer.region in REGION_BY_CODE:
        address["addressRegion"] = REGION_BY_CODE[offer.region].label
    address["addressCountry"] = offer.country
    return {"jobLocation": {"@type": "Place", "address": address}}


def _salary(offer: OfferPublic) -> dict[str, Any] | None:
    if offer.salary_period is None or (offer.salary_min is None and offer.salary_max is None):
        return None
    value: dict[str, Any] = {"@type": "QuantitativeValue", "unitText": _UNIT[offer.salary_period]}
    if offer.salary_min is not None:
        value["minValue"] = offer.salary_min
    if offer.salary_max is not None:
        value["maxValue"] = offer.salary_max
    return {"@type": "MonetaryAmount", "currency": "EUR", "value": value}


def _contact(offer: OfferPublic) -> dict[str, Any] | None:
    if not offer.contact:
        return None
    point: dict[str, Any] = {"@type": "ContactPoint"}
    for field, value in offer.contact.items():
        point[_CONTACT[field]] = value
    return point


def _requirements(offer: OfferPublic) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if offer.education_level == EducationLevel.none:
        found["educationRequirements"] = "no requirements"
    elif offer.education_level is not None:
        found["educationRequirements"] = {
            "@type": "EducationalOccupationalCredential",
            "credentialCategory": _CREDENTIAL[offer.education_level],
        }
    if offer.experience_years_min == 0:
        found["experienceRequirements"] = "no requirements"
    elif offer.experience_years_min is not None:
        found["experienceRequirements"] = {
            "@type": "OccupationalExperienceRequirements",
            "monthsOfExperience": offer.experience_years_min * 12,
        }
    return found


def job_posting(
    offer: OfferPublic, base_url: str, *, zone: ZoneInfo = PARIS, context: bool = True
) -> dict[str, Any]:
    """``context=False`` for a posting nested in a document that already declares it."""
    posting: dict[str, Any] = {"@context": CONTEXT} if context else {}
    posting |= {
        "@type": "JobPosting",
        "@id": offer_url(base_url, offer),
        "url": offer_url(base_url, offer),
        "title": offer.title,
        "description": description_html(offer),
        "datePosted": (offer.published_at or offer.created_at).isoformat(),
        "hiringOrganization": {"@type": "Organization", "name": offer.organisation.name},
        "identifier": {
            "@type": "PropertyValue",
            "name": offer.organisation.name,
            "value": str(offer.id),
        },
        "inLanguage": offer.language,
        "totalJobOpenings": offer.positions,
    }
    # What the offer does not say is left out rather than guessed: no schedule and no
    # directApply are better than a wrong FULL_TIME or a wrong promise of applying here.
    kinds = employment_types(offer)
    if kinds:
        posting["employmentType"] = kinds
    if offer.apply_via is not None:
        posting["directApply"] = offer.apply_via == ApplyVia.platform
    end = valid_through(offer, zone)
    if end is not None:
        posting["validThrough"] = end.isoformat()
    posting |= _location(offer)
    optional: dict[str, Any] = {
        "baseSalary": _salary(offer),
        "workHours": work_hours(offer),
        "jobStartDate": job_start(offer),
        "occupationalCategory": domain_label(offer),
        "jobBenefits": ", ".join(offer.benefits) or None,
        "applicationContact": _contact(offer),
    }
    posting |= {name: value for name, value in optional.items() if value is not None}
    posting |= _requirements(offer)
    return posting


def dumps(document: dict[str, Any]) -> str:
    """JSON safe to paste inside a page's <script> element: a description holding
    "</script>" must not end the element early, so <, > and & are written as escapes."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
