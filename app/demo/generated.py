"""Generated demo offers: enough variety (contracts, places, remote, salaries) for the filters
and pages of the API to mean something. Deterministic, so the README's examples hold."""

import random
from datetime import date, timedelta
from typing import Any

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

_JOBS = [
    ("Chargé·e de mission plaidoyer", "cdi", "niveau_7"),
    ("Coordinateur·rice de projets jeunesse", "cdd", "niveau_6"),
    ("Animateur·ice de réseau territorial", "cdi", "niveau_6"),
    ("Médiateur·rice numérique", "service_civique", None),
    ("Assistant·e communication", "alternance", "niveau_5"),
    ("Stagiaire en évaluation des politiques publiques", "stage", "niveau_7"),
    ("Responsable administratif·ve et financier·e", "cdi", "niveau_7"),
    ("Juriste en droit des étrangers", "cdd", "niveau_7"),
    ("Volontaire en solidarité internationale", "volontariat", "niveau_6"),
    ("Facilitateur·rice en intelligence collective", "independant", "niveau_6"),
    ("Agent·e d'accueil France services", "fonctionnaire", "niveau_4"),
    ("Chef·fe de projet transition écologique", "fonctionnaire", "niveau_7"),
    ("Chargé·e d'études statistiques", "cdd", "niveau_7"),
    ("Agent·e de collecte et de tri", "interim", "niveau_3"),
]

_THEMES = [
    "l'accès aux droits",
    "la transition écologique des territoires",
    "l'insertion professionnelle",
    "l'éducation populaire",
    "la participation citoyenne",
    "l'inclusion numérique",
]


def generated_offers(count: int, today: date) -> list[dict[str, Any]]:
    """``count`` offers, all open on ``today``, spread over the previous four weeks."""
    rng = random.Random(2026)  # noqa: S311 - demo data, not secrets
    offers: list[dict[str, Any]] = []
    for index in range(count):
        title, contract_type, education = _JOBS[index % len(_JOBS)]
        city, postcode, departement = _PLACES[(index * 5) % len(_PLACES)]
        organisation = ORGANISATIONS[index % len(ORGANISATIONS)]
        theme = _THEMES[index % len(_THEMES)]
        # From yesterday back: an offer published later today would lie in the future.
        published = today - timedelta(days=rng.randint(1, 27))
        offer: dict[str, Any] = {
            "organisation": organisation["slug"],
            "reference": f"DEMO-{index + 1:03d}",
            "title": title,
            "description": (
                f"Poste fictif de démonstration au sein de {organisation['name']}, "
                f"au service de {theme}.\n\n- Équipe de 6 à 15 personnes\n- Poste basé à {city}"
            ),
            "missions": f"- Piloter des actions liées à {theme}\n- Rendre compte à la direction",
            "profile": "- Intérêt pour l'intérêt général\n- Goût du travail en équipe",
            "contract_type": contract_type,
            "city": city,
            "postcode": postcode,
            "departement": departement,
            "remote": ["none", "partial", "partial", "full"][index % 4],
            "education_level": education,
            "experience_years_min": [0, 1, 2, 3, 5][index % 5],
            # Half take applications here, so the demo shows the whole apply flow.
            "apply_via": "platform" if index % 2 == 0 else "email",
            "apply_email": None if index % 2 == 0 else f"recrutement+demo{index + 1}@example.org",
            "published_at": f"{published.isoformat()}T{8 + index % 10:02d}:00:00+00:00",
            "status": "published",
        }
        if offer["remote"] == "partial":
            offer["remote_days_per_week"] = 1 + index % 3
        if contract_type in {"cdd", "stage", "alternance", "service_civique", "volontariat"}:
            offer["duration_months"] = {"stage": 6, "service_civique": 8, "alternance": 24}.get(
                contract_type, 12
            )
        if contract_type == "fonctionnaire":
            offer |= {
                "versant": ["fpt", "fpe", "fph"][index % 3],
                "categorie": ["A", "B", "C"][index % 3],
            }
            offer["open_to_contractuels"] = index % 2 == 0
            offer["salary_text"] = "selon grille indiciaire"
        elif contract_type == "service_civique":
            offer |= {
                "salary_min": 620,
                "salary_max": 620,
                "salary_period": "month",
                "salary_basis": "net",
            }
        elif contract_type == "independant":
            offer |= {"salary_min": 45, "salary_max": 65, "salary_period": "hour"}
            offer["salary_text"] = "tarif horaire à discuter selon la mission"
        else:
            low = rng.randrange(24_000, 38_000, 500)
            offer |= {
                "salary_min": low,
                "salary_max": low + 4_000,
                "salary_period": "year",
                "salary_basis": "gross",
            }
        if index % 3:
            offer["deadline"] = (today + timedelta(days=7 + index % 40)).isoformat()
        if index % 7 == 0:
            offer["start_text"] = "dès que possible"
        else:
            offer["start_date"] = (today + timedelta(days=30 + index % 60)).isoformat()
        offers.append(offer)
    return offers
