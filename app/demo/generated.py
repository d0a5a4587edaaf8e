"""Generated demo offers: enough variety (contracts, places, remote, salaries, fields of
work) for the filters, facets and pages of the API to mean something, each plausible for
its contract. Deterministic, so the README's examples hold."""

import random
from datetime import date, timedelta
from typing import Any, NamedTuple

ORGANISATIONS: list[dict[str, Any]] = [
    {
        "slug": "passerelles-demo",
        "name": "Association Passerelles (démo)",
        "kind": "association",
        "description": "Association fictive d'accompagnement vers l'emploi, pour la démo.",
        "city": "Lyon",
        "postcode": "69003",
        "departement": "69",
    },
    {
        "slug": "horizons-communs-demo",
        "name": "Fondation Horizons Communs (démo)",
        "kind": "fondation",
        "description": "Fondation fictive qui finance des projets d'éducation populaire.",
        "city": "Bordeaux",
        "postcode": "33000",
        "departement": "33",
    },
    {
        "slug": "les-etablis-demo",
        "name": "Coopérative Les Établis (démo)",
        "kind": "entreprise_ess",
        "description": "SCIC fictive de réemploi et de réparation, pour la démo.",
        "city": "Lille",
        "postcode": "59000",
        "departement": "59",
    },
    {
        "slug": "saint-aubin-des-pres-demo",
        "name": "Commune de Saint-Aubin-des-Prés (démo)",
        "kind": "collectivite_territoriale",
        "description": "Commune fictive de 12 000 habitants, pour la démo.",
        "city": "Rennes",
        "postcode": "35000",
        "departement": "35",
    },
]

_PLACES = [
    ("Paris", "75011", "75"),
    ("Marseille", "13001", "13"),
    ("Lyon", "69007", "69"),
    ("Toulouse", "31000", "31"),
    ("Nantes", "44000", "44"),
    ("Strasbourg", "67000", "67"),
    ("Montpellier", "34000", "34"),
    ("Rennes", "35000", "35"),
    ("Lille", "59000", "59"),
    ("Ajaccio", "20000", "2A"),
    ("Pointe-à-Pitre", "97110", "971"),
    ("Saint-Denis", "97400", "974"),
    ("Clermont-Ferrand", "63000", "63"),
    ("Dijon", "21000", "21"),
]


class _Job(NamedTuple):
    title: str
    contract_type: str
    education: str | None
    domain: str
    yearly_pay: tuple[int, int] | None = None
    """For employees (cdi, cdd): the band the lower bound of a yearly gross salary falls in,
    as associations and foundations pay such posts."""


_JOBS = [
    _Job("Chargé·e de mission plaidoyer", "cdi", "niveau_7", "plaidoyer", (31_000, 36_000)),
    _Job("Coordinateur·rice de projets jeunesse", "cdd", "niveau_6", "education_jeunesse",
         (27_000, 31_000)),
    _Job("Animateur·ice de réseau territorial", "cdi", "niveau_6", "vie_associative",
         (26_000, 30_000)),
    _Job("Médiateur·rice numérique", "service_civique", None, "numerique"),
    _Job("Assistant·e communication", "alternance", "niveau_5", "communication"),
    _Job("Stagiaire en évaluation des politiques publiques", "stage", "niveau_7",
         "politiques_publiques"),
    _Job("Responsable administratif·ve et financier·e", "cdi", "niveau_7", "finances",
         (38_000, 44_000)),
    _Job("Juriste en droit des étrangers", "cdd", "niveau_7", "juridique", (30_000, 35_000)),
    _Job("Volontaire en solidarité internationale", "volontariat", "niveau_6", "international"),
    _Job("Facilitateur·rice en intelligence collective", "independant", "niveau_6",
         "innovation_design"),
    _Job("Agent·e d'accueil France services", "fonctionnaire", "niveau_4", "administration"),
    _Job("Chef·fe de projet transition écologique", "fonctionnaire", "niveau_7",
         "environnement"),
    _Job("Chargé·e d'études statistiques", "cdd", "niveau_7", "numerique", (32_000, 37_000)),
    _Job("Agent·e de collecte et de tri", "interim", "niveau_3", "environnement"),
]  # fmt: skip

_COMMUNE = ORGANISATIONS[3]

# A volunteer in solidarité internationale serves abroad (that is what the contract is).
_ABROAD = [("Dakar", "SN"), ("Cotonou", "BJ"), ("Antananarivo", "MG")]

# A fonctionnaire works for a public employer, and the fictional commune is the only one
# here: its posts are territorial (fpt), with the cadres d'emplois of their catégorie.
_TERRITORIAL = {
    "Agent·e d'accueil France services": ("C", ["adjoint administratif territorial"]),
    "Chef·fe de projet transition écologique": (
        "A",
        ["attaché territorial", "ingénieur territorial"],
    ),
}

_THEMES = [
    "l'accès aux droits",
    "la transition écologique des territoires",
    "l'insertion professionnelle",
    "l'éducation populaire",
    "la participation citoyenne",
    "l'inclusion numérique",
]


def _pay(job: _Job, index: int, rng: random.Random) -> dict[str, Any]:
    """What the post pays, as the contract has it paid: trainees, volunteers and
    apprentices get what the law sets for them, not an employee's salary."""
    if job.yearly_pay is not None:
        low = rng.randrange(*job.yearly_pay, 500)
        return {
            "salary_min": low,
            "salary_max": low + rng.choice([2_000, 3_000, 4_000]),
            "salary_period": "year",
            "salary_basis": "gross",
        }
    if job.contract_type == "stage":
        # The legal minimum gratification (15 % of the social-security hourly ceiling),
        # exempt from contributions below it: neither gross nor net.
        if (index // len(_JOBS)) % 2:
            return {"salary_min": 700, "salary_max": 700, "salary_period": "month",
                    "salary_text": "gratification au-dessus du minimum légal"}  # fmt: skip
        return {
            "salary_min": 4.35,
            "salary_max": 4.35,
            "salary_period": "hour",
            "salary_text": "gratification légale, environ 660 € par mois à temps plein",
        }
    if job.contract_type == "service_civique":
        return {
            "salary_min": 620,
            "salary_max": 620,
            "salary_period": "month",
            "salary_basis": "net",
            "salary_text": "indemnité de service civique, versée par l'État et la structure",
        }
    if job.contract_type == "alternance":
        return {
            "salary_min": 955,
            "salary_max": 1_405,
            "salary_period": "month",
            "salary_basis": "gross",
            "salary_text": "selon l'âge et l'année de formation (pourcentage du SMIC)",
        }
    if job.contract_type == "volontariat":
        return {"salary_text": "indemnité de volontariat selon le pays d'affectation"}
    if job.contract_type == "interim":
        return {
            "salary_min": 11.88,
            "salary_max": 12.5,
            "salary_period": "hour",
            "salary_basis": "gross",
            "salary_text": "plus indemnités de fin de mission et de congés payés (10 % chacune)",
        }
    if job.contract_type == "independant":
        return {
            "salary_min": 45,
            "salary_max": 65,
            "salary_period": "hour",
            "salary_text": "tarif horaire à discuter selon la mission",
        }
    return {"salary_text": "selon grille indiciaire, RIFSEEP"}


def _one_year_on(day: date) -> date:
    try:
        return day.replace(year=day.year + 1) - timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def generated_offers(count: int, today: date) -> list[dict[str, Any]]:
    """``count`` offers, all open on ``today``, spread over the previous four weeks."""
    rng = random.Random(2026)  # noqa: S311 - demo data, not secrets
    offers: list[dict[str, Any]] = []
    for index in range(count):
        job = _JOBS[index % len(_JOBS)]
        contract_type = job.contract_type
        organisation = ORGANISATIONS[index % len(ORGANISATIONS)]
        if contract_type == "fonctionnaire":
            organisation = _COMMUNE
        city, postcode, departement = _PLACES[(index * 5) % len(_PLACES)]
        if organisation is _COMMUNE:
            # A commune hires for its own territory.
            city, postcode, departement = (
                _COMMUNE["city"],
                _COMMUNE["postcode"],
                _COMMUNE["departement"],
            )
        place: dict[str, Any] = {"city": city, "postcode": postcode, "departement": departement}
        if contract_type == "volontariat":
            city, country = _ABROAD[index % len(_ABROAD)]
            place = {"city": city, "country": country}
        theme = _THEMES[index % len(_THEMES)]
        # From yesterday back: an offer published later today would lie in the future.
        published = today - timedelta(days=rng.randint(1, 27))
        offer: dict[str, Any] = {
            "organisation": organisation["slug"],
            "reference": f"DEMO-{index + 1:03d}",
            "title": job.title,
            "description": (
                f"Poste fictif de démonstration au sein de {organisation['name']}, "
                f"au service de {theme}.\n\n- Équipe de 6 à 15 personnes\n- Poste basé à {city}"
            ),
            "missions": f"- Piloter des actions liées à {theme}\n- Rendre compte à la direction",
            "profile": "- Intérêt pour l'intérêt général\n- Goût du travail en équipe",
            "contract_type": contract_type,
            "domain": job.domain,
            **place,
            "remote": ["none", "partial", "partial", "full"][index % 4],
            "education_level": job.education,
            "experience_years_min": [0, 1, 2, 3, 5][index % 5],
            "documents_required": ["CV", "lettre de motivation"],
            # Half take applications here, so the demo shows the whole apply flow.
            "apply_via": "platform" if index % 2 == 0 else "email",
            "apply_email": None if index % 2 == 0 else f"recrutement+demo{index + 1}@example.org",
            "published_at": f"{published.isoformat()}T{8 + index % 10:02d}:00:00+00:00",
            "status": "published",
        }
        offer |= _pay(job, index, rng)
        if contract_type == "volontariat":
            offer["remote"] = "none"
            offer["languages"] = [{"code": "en", "level": "B2"}]
            offer["benefits"] = ["logement", "voyages aller et retour", "protection sociale"]
        if offer["remote"] == "partial":
            offer["remote_days_per_week"] = 1 + index % 3
        # Some offers say nothing of their hours, as real ones do: null, not full time.
        if contract_type == "volontariat":
            # A mission abroad takes all of a volunteer's time: never part time.
            offer |= {"working_time": "full_time"}
        elif index % 6 == 5:
            offer["working_time"] = None
        elif index % 6 == 4 or contract_type == "service_civique":
            offer |= {"working_time": "part_time", "working_time_percent": 80}
            offer["hours_per_week"] = 28
        else:
            offer |= {"working_time": "full_time", "hours_per_week": 35}
        if contract_type in {"stage", "alternance", "service_civique"}:
            # Open to students and beginners: years of experience would be nonsense.
            offer["experience_years_min"] = None
        elif index % 5 == 1:
            offer["experience_years_max"] = offer["experience_years_min"] + 3
        if contract_type in {"cdd", "stage", "alternance", "service_civique", "volontariat"}:
            offer["duration_months"] = {"stage": 6, "service_civique": 8, "alternance": 24}.get(
                contract_type, 12
            )
        if contract_type == "stage":
            offer["duration_months_min"] = 4
        if contract_type == "cdd":
            offer["contract_reason"] = ["remplacement", "accroissement", "projet"][index % 3]
        if contract_type == "interim":
            offer |= {"duration_months": 3, "contract_reason": "accroissement", "positions": 3}
        if contract_type == "service_civique":
            offer["positions"] = 2
        if contract_type == "fonctionnaire":
            categorie, grades = _TERRITORIAL[job.title]
            offer |= {"versant": "fpt", "categorie": categorie, "grades": grades}
            offer["open_to_contractuels"] = index % 2 == 0
            offer["contract_reason"] = "vacance" if index % 2 else "creation"
            offer["benefits"] = ["RIFSEEP", "CNAS", "participation à la mutuelle"]
            offer["documents_required"] = [
                "CV",
                "lettre de motivation",
                "dernier arrêté de situation",
            ]
        elif job.yearly_pay is not None:
            offer["benefits"] = ["tickets restaurant", "mutuelle", "forfait mobilités durables"][
                : 1 + index % 3
            ]
        offer["manages_team"] = {
            "Responsable administratif·ve et financier·e": True,
            "Coordinateur·rice de projets jeunesse": True,
        }.get(job.title, False if contract_type in {"stage", "service_civique"} else None)
        if index % 3 == 2:
            offer["contact"] = {
                "role": "Ressources humaines",
                "email": f"rh+demo{index + 1}@example.org",
            }
        if index % 3:
            offer["deadline"] = (today + timedelta(days=7 + index % 40)).isoformat()
        if index % 7 == 0:
            offer |= {"start_text": "dès que possible", "start_precision": "asap"}
        else:
            start = today + timedelta(days=30 + index % 60)
            offer["start_date"] = start.isoformat()
            offer["start_precision"] = "month" if index % 5 == 0 else "day"
            if contract_type == "cdd":
                offer["end_date"] = _one_year_on(start).isoformat()
        offers.append(offer)
    return offers
