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
from app.referentials.data import REGION_BY_CODE
from app.referentials.enums import (
    ApplyVia,
    ContractType,
    EducationLevel,
    RemoteMode,
    SalaryPeriod,
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

_HEADINGS = {
    "fr": ("Missions", "Profil recherché"),
    "en": ("Responsibilities", "Profile"),
}
_BULLET = re.compile(r"^\s*[-*•]\s+")


def offer_url(base_url: str, offer: OfferPublic) -> str:
    return f"{base_url.rstrip('/')}/v1/offers/{offer.id}"


def employment_types(offer: OfferPublic) -> list[str]:
    if offer.contract_type is None:  # a draft may not say yet
        return []
    kinds = list(_EMPLOYMENT[offer.contract_type])
    if offer.contract_type in _WITH_SCHEDULE:
        kinds.append("PART_TIME" if offer.working_time == WorkingTime.part_time else "FULL_TIME")
    return kinds


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
    """The last moment to apply: the deadline's last second in the service's zone, or the
    closing time when the recruiter closed it earlier, so crawlers drop closed offers."""
    end = None
    if offer.deadline is not None:
        end = datetime.combine(offer.deadline, time(23, 59, 59), tzinfo=zone)
    if offer.closed_at is not None and (end is None or offer.closed_at < end):
        end = offer.closed_at
    return end


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
        "employmentType": employment_types(offer),
        "identifier": {
            "@type": "PropertyValue",
            "name": offer.organisation.name,
            "value": str(offer.id),
        },
        "directApply": offer.apply_via == ApplyVia.platform,
        "inLanguage": offer.language,
        "totalJobOpenings": offer.positions,
    }
    end = valid_through(offer, zone)
    if end is not None:
        posting["validThrough"] = end.isoformat()
    posting |= _location(offer)
    salary = _salary(offer)
    if salary is not None:
        posting["baseSalary"] = salary
    posting |= _requirements(offer)
    return posting


def dumps(document: dict[str, Any]) -> str:
    """JSON safe to paste inside a page's <script> element: a description holding
    "</script>" must not end the element early, so <, > and & are written as escapes."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
