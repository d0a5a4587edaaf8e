"""The seed offers keep the facts of their sources in fields, not only in prose.

The sources are the documents of ``../shared/seeds/`` (000, 002, 003 and 004: job offers;
001: the page of Nos services publics). This module does not read them: CI checks out
the project alone. ``FACTS`` holds, per seed, what its document states, field by field,
written by hand from it; every field left out of ``FACTS`` is one the document does not
state, and must stay null (or at its default) in the demo: an unknown working time, remote
mode or way to apply is not a full-time, on-site or apply-here post.

Three checks: an offer written from the facts alone reads back the same through the API;
the demo file ``app/demo/seed_offers.json`` carries the same facts and nothing more
besides its prose; ``vocation demo`` serves them, dates apart (it moves them to today).

What the fields cannot hold stays in the prose (description, missions, profile):
``ONLY_IN_PROSE`` lists those facts per seed with why, 26 in the four offers, and
``ORGANISATION_ONLY_IN_PROSE`` the 3 of seed 001, in the organisation's description. Not
counted: the missions themselves and the employer's presentation, prose by nature.

Read into the facts, not copied from them: 002's « bon niveau en anglais » as B2; 003's
« l'application » and its page layout as Choisir le service public (source_url,
apply_url). Left out on purpose: the personal e-mail addresses and names of the people
who take applications (002, 004) or answer questions (003) and the spokespeople of 001.
Assumed, since the documents do not say and the loader needs one: published_at of 000,
002 and 004 (each offer's `source_note` says so).
"""

import json
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo.loader import load_demo, load_seed_file
from app.offers.models import OfferFields
from tests.factories import bearer, make_key, make_organisation, paris_today

NSP, STAGE, DITP, LABO = (
    "NSP-2025-PREFIG",
    "27R-2020-STAGE-AGP",
    "2024-17971",
    "LABOESS-2023-PROJCOLL",
)

FACTS: dict[str, dict[str, Any]] = {
    # Seed 000: Nos services publics, the institute's préfiguration.
    NSP: {
        "title": "Chargé·e de préfiguration de l'institut de recherche et de formation",
        "contract_type": "cdd",
        "duration_months": 6,
        "working_time": "full_time",
        "remote": "partial",  # « télétravail possible », no number of days
        "salary_min": 3500,
        "salary_max": 3500,
        "salary_period": "month",
        "salary_basis": "gross",
        "salary_text": "environ 3 500 € bruts par mois",  # « autour de »
        "domain": "recherche",  # an institute of research; half the time on research
        "education_level": "niveau_8",  # « profil de post-doctorant·e »
        "documents_required": ["CV", "e-mail de motivation"],
        "apply_via": "email",
        "apply_email": "collectif@nosservicespublics.fr",
    },
    # Seed 002: La 27e Région's internship.
    STAGE: {
        "title": "Assistant·e gestion de projet",
        "contract_type": "stage",
        "duration_months_min": 4,
        "duration_months": 6,
        "city": "Paris",
        "postcode": "75020",  # « Paris 20e »
        "departement": "75",
        "region": "11",
        "address": "Halle Belleville",
        "salary_min": 3.9,
        "salary_max": 3.9,
        "salary_period": "hour",
        "salary_text": "gratification au barème légal, soit environ 540 € par mois",
        "benefits": [
            "tickets restaurant de 9 €, pris en charge à 60 %",
            "remboursement de 50 % des frais de transport",
        ],
        "domain": "innovation_design",
        "start_date": "2020-09-01",
        "start_precision": "month",
        "start_text": "début septembre 2020",
        "education_level": "niveau_7",  # student in M2
        "languages": [{"code": "en", "level": "B2"}],
        "documents_required": ["CV", "lettre de motivation"],
    },
    # Seed 003: the DITP's post at Etat'LIN, a Choisir le service public page.
    DITP: {
        "reference": "2024-17971",
        "title": "Chef de projets innovation et transformation publique H/F",
        "contract_type": "fonctionnaire",
        "versant": "fpe",
        "categorie": "A",
        "open_to_contractuels": True,
        "contract_reason": "vacance",  # « Statut du poste : Vacant »
        "legal_basis": "L332-2 2° du CGFP",
        "working_time": "full_time",
        "remote": "partial",
        "manages_team": False,  # « Management : Non »
        "city": "Nantes",
        "postcode": "44000",
        "departement": "44",
        "region": "52",
        "address": "Préfecture de région, 6 quai Ceineray",
        "salary_text": "cotation RIFSEEP 3",
        "domain": "politiques_publiques",  # its « Domaine » is « Direction et pilotage des PP »
        "start_date": "2025-06-01",  # « Date de vacance de l'emploi »
        "start_precision": "day",
        "deadline": "2025-05-22",
        "education_level": "niveau_7",
        "experience_years_min": 3,  # « au moins 3/4 ans »
        "contact": {"email": "innovation-territoriale.ditp@modernisation.gouv.fr"},
        "documents_required": ["CV", "lettre de motivation"],
        "apply_via": "url",
        "apply_url": "https://choisirleservicepublic.gouv.fr/",
        "source_url": "https://choisirleservicepublic.gouv.fr/",
    },
    # Seed 004: Le Labo de l'ESS.
    LABO: {
        "title": "Chargé·e des projets collectifs",
        "contract_type": "cdd",
        "duration_months": 12,
        "city": "Paris",
        "postcode": "75007",  # « Paris (7ème arrondissement) »
        "departement": "75",
        "region": "11",
        "remote": "partial",
        "remote_days_per_week": 2,
        "salary_text": "à négocier : le barème du statut Employé A 255 (convention collective "
        "Animation - ECLAT) sera complété",
        "benefits": [
            "tickets restaurant",
            "mutuelle",
            "50 % du pass Navigo ou forfait mobilités durables",
        ],
        "domain": "developpement_economique",  # the ESS
        "start_date": "2023-09-01",
        "start_precision": "month",
        "start_text": "début septembre 2023",
        "deadline": "2023-07-17",  # « avant le 17 juillet », the year of the start
        "education_level": "niveau_7",  # « Master II »
        "experience_years_min": 3,
        "documents_required": ["lettre de motivation", "CV"],
    },
}

# The one publication date a document states (its time of day is not).
PUBLISHED_ON = {DITP: "2025-04-18"}

# Not facts: the prose, and the demo's own handle for offers whose source gives none.
NOT_FACTS = {"description", "missions", "profile", "reference"}

# Facts the fields cannot hold, each with a word of the demo's prose that carries it.
ONLY_IN_PROSE: dict[str, list[tuple[str, str]]] = {
    NSP: [
        ("CDI", "the CDD is meant to become a CDI once the institute exists: no field for "
         "a planned change of contract"),
        ("50 %", "the share of time per mission (50/30/20 %): no field for it"),
        ("le soir", "evening meetings and unusual hours: no field for working-hours "
         "constraints"),
        ("horaires libres", "free organisation of hours: working_time is full or part only"),
        ("solide formation à la recherche", "a post-doc *or* an advanced scientific "
         "background: education_level holds one level"),
        ("monde associatif ou militant", "experience in associations, activism or public "
         "service is a plus: the experience fields count required years"),
        ("Rigueur intellectuelle", "qualities sought: no field for skills"),
    ],
    STAGE: [
        ("déplacements", "occasional travel in France and Europe: no field for travel"),
        ("par e-mail", "applications by e-mail: apply_via email needs an address, and the "
         "only one given is a person's own (left out)"),
        ("sociologie des organisations", "the disciplines of the M2 sought: "
         "education_level holds the level only"),
        ("InDesign", "skills and qualities (InDesign, WordPress, writing, teamwork): no "
         "field for skills"),
    ],
    DITP: [
        ("conseiller expert", "its métier « Conseiller expert de cabinet »: domain is a "
         "coarse field of work, no field names the métier"),
        ("huit personnes", "the lab's team (1 head, 3 designers, 2 project leads, 2 "
         "apprentices): no field for a team's size"),
        ("déplacements", "regular travel in the region and to Paris: no field for travel"),
        ("facilitation", "experience « confirmé », in facilitation, « 3/4 ans »: the "
         "experience fields hold years only (3)"),
        ("design de services", "the skills listed (service design, change management, "
         "networks…): no field for skills"),
        ("DITP", "the DITP recruits for a lab of its network: an offer has one "
         "organisation"),
    ],
    LABO: [
        ("pérennisation", "the post may become permanent: no field for it"),
        ("une fois l'intégration faite", "remote days only after onboarding: the remote "
         "fields hold the days, not the condition"),
        ("déplacements", "occasional travel: no field for travel"),
        ("par e-mail", "applications by e-mail: apply_via email needs an address, and the "
         "only one given is a person's own (left out)"),
        ("entretien téléphonique", "the selection process (phone, then in Paris): no field "
         "for it"),
        ("sous la responsabilité", "reports to the head of projects and development: no "
         "field for a reporting line"),
        ("sciences humaines et sociales", "the disciplines of the Master II sought: "
         "education_level holds the level only"),
        ("pratique régulière de l'écrit", "the kind of experience wanted (project "
         "management, writing, volunteers): the experience fields hold years only"),
        ("éducation populaire sont appréciées", "knowledge and qualities sought: no field "
         "for skills"),
    ],
}  # fmt: skip

# Seed 001, Nos services publics' own page: an organisation has a kind, a place, a
# website and a contact address, and the page gives none of the last three.
ORGANISATION_ONLY_IN_PROSE = [
    ("titulaires, contractuels", "who the members are: no field for membership"),
    ("depuis l'intérieur", "its aims: no field for them"),
    ("Ni syndicat ni think tank", "what it is not: kind `collectif` says what it is"),
]


def _seed_offer(reference: str) -> dict[str, Any]:
    offers = {offer["reference"]: offer for offer in load_seed_file()["offers"]}
    return offers[reference]


def _as_read(raw: dict[str, Any]) -> dict[str, Any]:
    """An offer of the demo file as the loader reads it: null means not stated."""
    present = {key: value for key, value in raw.items() if value is not None}
    fields = OfferFields.model_validate(
        {key: value for key, value in present.items() if key in OfferFields.model_fields}
    )
    read: dict[str, Any] = json.loads(fields.model_dump_json())
    return read


def _defaults() -> dict[str, Any]:
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in OfferFields.model_fields.items()
    }


def test_the_table_counts_what_it_says() -> None:
    assert sum(len(facts) for facts in ONLY_IN_PROSE.values()) == 26
    assert len(ORGANISATION_ONLY_IN_PROSE) == 3


@pytest.mark.parametrize("reference", list(FACTS))
async def test_an_offer_written_from_its_seed_facts_reads_back_the_same(
    client: httpx.AsyncClient, session: AsyncSession, reference: str
) -> None:
    organisation = await make_organisation(session)
    admin = bearer(await make_key(session, "admin"))
    facts = FACTS[reference]
    body = {
        **facts,
        "organisation_id": str(organisation.id),
        "description": "Écrite depuis les faits de sa source.",
        "status": "published",
    }
    if reference in PUBLISHED_ON:
        body["published_at"] = f"{PUBLISHED_ON[reference]}T09:00:00+02:00"
    created = await client.post("/v1/offers", json=body, headers=admin)
    assert created.status_code == 201, created.text

    read = (await client.get(f"/v1/offers/{created.json()['id']}")).json()
    for field, value in facts.items():
        assert read[field] == value, field
    for field, value in _defaults().items():
        # Computed when not given: expires_at from the deadline or the publication.
        if field not in facts and field not in NOT_FACTS and field != "expires_at":
            assert read[field] == value, field
    if reference in PUBLISHED_ON:
        assert read["published_at"].startswith(PUBLISHED_ON[reference])


@pytest.mark.parametrize("reference", list(FACTS))
def test_the_demo_file_carries_the_seed_facts_and_no_more(reference: str) -> None:
    raw = _seed_offer(reference)
    read = _as_read(raw)
    facts = FACTS[reference]
    for field, value in facts.items():
        assert read[field] == value, field
    for field, value in _defaults().items():
        if field not in facts and field not in NOT_FACTS:
            assert read[field] == value, f"{field}: the seed does not say"
    if reference in PUBLISHED_ON:
        assert raw["published_at"].startswith(PUBLISHED_ON[reference])


@pytest.mark.parametrize("reference", list(FACTS))
def test_what_no_field_holds_stays_in_the_prose(reference: str) -> None:
    raw = _seed_offer(reference)
    prose = "\n".join(raw[field] or "" for field in ("description", "missions", "profile"))
    for needle, why in ONLY_IN_PROSE[reference]:
        assert needle.lower() in prose.lower(), why


def test_the_collective_page_stays_in_the_organisation_description() -> None:
    organisations = {item["slug"]: item for item in load_seed_file()["organisations"]}
    collective = organisations["nos-services-publics"]
    assert (collective["name"], collective["kind"]) == ("Nos services publics", "collectif")
    assert (collective["city"], collective["departement"]) == (None, None)
    for needle, why in ORGANISATION_ONLY_IN_PROSE:
        assert needle.lower() in collective["description"].lower(), why


# The loader moves these so the offers are open today; start_text goes with start_date.
_MOVED = {"start_date", "end_date", "deadline", "start_text"}


async def test_the_demo_serves_the_seed_facts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await load_demo(session, paris_today())
    listed = (await client.get("/v1/offers?limit=100")).json()["items"]
    ids = {item["reference"]: item["id"] for item in listed}
    for reference, facts in FACTS.items():
        read = (await client.get(f"/v1/offers/{ids[reference]}")).json()
        assert read["status"] == "published"
        for field, value in facts.items():
            if field not in _MOVED:
                assert read[field] == value, (reference, field)
        if facts.get("start_date"):
            assert date.fromisoformat(read["start_date"]) > paris_today()
