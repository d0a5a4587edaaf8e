"""Generated organisations and published offers for the HTTP benchmark, written straight to
PostgreSQL with COPY, then indexed for search with the app's own indexer.

Deterministic for a given seed and day. The French text is assembled from a few lists
(roles, fields of work, sentences) so that the search index holds a realistic vocabulary:
a word of one field of work is in a few percent of the offers, a role in a few thousand.
"""

import random
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from app.referentials.data import DEPARTEMENT_BY_CODE
from app.search import index

ORGANISATION_KINDS = [
    ("association", "Association", 40),
    ("collectif", "Collectif", 5),
    ("fondation", "Fondation", 6),
    ("think_tank", "Think tank", 2),
    ("administration_etat", "Direction", 10),
    ("collectivite_territoriale", "Commune de", 15),
    ("etablissement_public", "Établissement public", 6),
    ("etablissement_hospitalier", "Centre hospitalier", 5),
    ("entreprise_ess", "Coopérative", 10),
    ("other", "Réseau", 1),
]
ORGANISATION_WORDS = [
    "Passerelles", "Horizons Communs", "Les Établis", "Terre Solidaire", "Le Relais",
    "Cap Avenir", "Les Ponts", "Solidarités Nouvelles", "L'Escale", "Initiatives Citoyennes",
    "Le Fil", "Racines", "Trajectoires", "La Fabrique", "Les Communs", "Entraide",
    "L'Atelier", "Voisinages", "Grand Air", "Ressources",
]  # fmt: skip

# (title, weight): « chargé·e de projet » is common, as on real job boards.
ROLES = [
    ("Chargé·e de mission", 8), ("Chargé·e de projet", 6), ("Coordinateur·rice", 5),
    ("Animateur·ice", 5), ("Responsable", 5), ("Médiateur·rice", 3), ("Assistant·e", 4),
    ("Chef·fe de projet", 4), ("Directeur·rice", 2), ("Conseiller·ère", 3), ("Juriste", 2),
    ("Éducateur·rice spécialisé·e", 3), ("Travailleur·euse social·e", 3),
    ("Développeur·euse", 2), ("Comptable", 1), ("Gestionnaire", 3), ("Agent·e", 3),
    ("Délégué·e", 1), ("Référent·e", 2), ("Formateur·rice", 2), ("Infirmier·ère", 2),
    ("Ingénieur·e", 2), ("Stagiaire", 3), ("Volontaire", 2), ("Alternant·e", 2),
    ("Secrétaire général·e", 1), ("Analyste", 1), ("Designer de services", 1),
    ("Consultant·e", 1), ("Chargé·e d'études", 2),
]  # fmt: skip
FIELDS = [
    "plaidoyer", "transition écologique", "insertion professionnelle", "éducation populaire",
    "participation citoyenne", "inclusion numérique", "accès aux droits", "santé mentale",
    "économie circulaire", "agroécologie", "mobilité douce", "rénovation énergétique",
    "petite enfance", "protection de l'enfance", "hébergement d'urgence",
    "accueil des réfugiés", "lutte contre la pauvreté", "égalité femmes-hommes",
    "patrimoine", "médiation culturelle", "sport et citoyenneté", "biodiversité",
    "gestion de l'eau", "alimentation durable", "solidarité internationale",
    "vie associative", "mécénat", "collecte de fonds", "communication", "ressources humaines",
    "finances publiques", "marchés publics", "urbanisme", "politique de la ville",
    "logement social", "handicap et accessibilité", "vieillissement", "prévention santé",
    "recherche clinique", "évaluation des politiques publiques", "données ouvertes",
    "innovation publique", "relations presse", "bénévolat", "jeunesse",
    "formation professionnelle", "économie sociale et solidaire", "développement local",
    "tourisme durable", "énergies renouvelables", "numérique responsable", "justice",
    "droit des étrangers", "lutte contre les discriminations", "illettrisme",
    "lecture publique", "musées", "spectacle vivant", "agriculture urbaine",
    "déchets et réemploi",
]  # fmt: skip
PUBLICS = [
    "les jeunes de 16 à 25 ans", "les familles monoparentales", "les personnes âgées",
    "les personnes en situation de handicap", "les demandeurs d'emploi de longue durée",
    "les habitants des quartiers prioritaires", "les personnes exilées", "les agriculteurs",
    "les collectivités rurales", "les bénévoles du réseau", "les élus locaux",
    "les publics éloignés du numérique", "les étudiants", "les salariés en reconversion",
]  # fmt: skip
INTROS = [
    "Au sein d'une équipe de {size} personnes, vous rejoignez {organisation} pour "
    "développer nos actions en faveur de {field}.",
    "{organisation} recrute pour renforcer son pôle {field}, en lien étroit avec {public}.",
    "Rattaché·e à la direction, vous contribuez au programme {field} de {organisation}, "
    "qui accompagne chaque année {public}.",
    "Nous cherchons une personne motivée pour porter notre projet {field} et animer un "
    "réseau de partenaires locaux.",
]
SENTENCES = [
    "Vous travaillerez avec {public} et nos partenaires institutionnels.",
    "Le poste demande une bonne connaissance des enjeux de {field}.",
    "Une expérience en {field} serait un atout apprécié.",
    "Vous participerez à la conception d'outils pédagogiques et à l'animation d'ateliers.",
    "Vous assurerez le suivi budgétaire et le reporting auprès des financeurs.",
    "Des déplacements ponctuels en région sont à prévoir.",
    "Vous serez en charge de la coordination des bénévoles et de la vie associative.",
    "Vous rédigerez des notes de synthèse et des comptes rendus de réunion.",
    "Le poste comprend la préparation des comités de pilotage et des bilans annuels.",
    "Vous représenterez la structure auprès des collectivités et des services de l'État.",
    "Vous serez garant·e de la qualité de l'accueil et de l'accompagnement des publics.",
    "Vous développerez des partenariats avec les acteurs de {field}.",
]
MISSIONS = [
    "Piloter les actions liées à {field}",
    "Animer des ateliers collectifs auprès de {public}",
    "Suivre le budget et rédiger les bilans d'activité",
    "Coordonner les partenaires du territoire",
    "Organiser des événements de sensibilisation",
    "Accompagner individuellement {public}",
    "Concevoir et évaluer de nouveaux dispositifs",
    "Mettre à jour les outils de suivi et les indicateurs",
    "Préparer les dossiers de subvention",
    "Rendre compte à la direction et au conseil d'administration",
]
PROFILES = [
    "Intérêt pour l'intérêt général et l'action publique",
    "Goût du travail en équipe et sens de l'organisation",
    "Capacités rédactionnelles et esprit de synthèse",
    "Maîtrise des outils bureautiques et collaboratifs",
    "Connaissance du secteur associatif",
    "Aisance relationnelle et à l'oral",
    "Permis B apprécié",
    "Formation supérieure en sciences sociales, droit ou gestion",
    "Première expérience en gestion de projet",
    "Autonomie, rigueur et curiosité",
]
CONTRACTS = [
    ("cdi", 28), ("cdd", 22), ("stage", 10), ("alternance", 7), ("service_civique", 8),
    ("volontariat", 3), ("interim", 3), ("independant", 4), ("fonctionnaire", 15),
]  # fmt: skip
EDUCATION = ["none", "niveau_3", "niveau_4", "niveau_5", "niveau_6", "niveau_7", "niveau_8"]
# Weights by département: the big cities draw most offers, Paris the most.
HEAVY_DEPARTEMENTS = {
    "75": 120, "69": 35, "13": 35, "33": 25, "59": 30, "31": 25, "44": 22, "35": 20,
    "67": 18, "34": 18, "92": 25, "93": 20, "94": 15, "06": 12, "38": 12,
}  # fmt: skip
CITIES = {"75": ("Paris", "75011"), "69": ("Lyon", "69003"), "13": ("Marseille", "13001")}
# The offer's columns, in the order of the rows below (COPY needs them named).
OFFER_COLUMNS = (
    "id", "organisation_id", "reference", "title", "description", "missions", "profile",
    "contract_type", "duration_months", "working_time", "working_time_percent", "city",
    "postcode", "departement", "region", "country", "remote", "remote_days_per_week",
    "language", "salary_min", "salary_max", "salary_period", "salary_basis", "salary_text",
    "versant", "categorie", "open_to_contractuels", "start_date", "start_text", "deadline",
    "education_level", "experience_years_min", "apply_via", "apply_email", "apply_url",
    "status", "published_at", "closed_at", "created_at", "updated_at", "version",
)  # fmt: skip
ORGANISATION_COLUMNS = (
    "id", "slug", "name", "kind", "description", "website", "city", "postcode",
    "departement", "region", "siret", "contact_email", "created_at", "updated_at", "version",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Organisation:
    id: uuid.UUID
    name: str
    row: tuple[Any, ...]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _place(rng: random.Random, codes: Sequence[str], weights: Sequence[int]) -> tuple[Any, ...]:
    code = rng.choices(codes, weights)[0]
    departement = DEPARTEMENT_BY_CODE[code]
    city, postcode = CITIES.get(code, (departement.label, ""))
    if not postcode:
        digits = code if code.isdigit() else "20"
        postcode = (digits + "000")[:5] if len(digits) == 2 else digits + "00"
    return city, postcode, code, departement.region


def organisations(count: int, rng: random.Random, now: datetime) -> list[Organisation]:
    codes = sorted(DEPARTEMENT_BY_CODE)
    weights = [HEAVY_DEPARTEMENTS.get(code, 3) for code in codes]
    kinds = list(ORGANISATION_KINDS)
    made = []
    for number in range(count):
        kind, prefix, _weight = rng.choices(kinds, [kind[2] for kind in kinds])[0]
        city, postcode, departement, region = _place(rng, codes, weights)
        name = f"{prefix} {rng.choice(ORGANISATION_WORDS)} {city} {number + 1}"
        organisation_id = _uuid(rng)
        created = now - timedelta(days=200 + rng.randint(0, 400))
        row = (
            organisation_id,
            f"bench-organisation-{number + 1}",
            name,
            kind,
            f"{name} agit pour {rng.choice(FIELDS)} auprès de {rng.choice(PUBLICS)}.",
            f"https://organisation-{number + 1}.example.org",
            city,
            postcode,
            departement,
            region,
            None,
            f"contact@organisation-{number + 1}.example.org",
            created,
            created,
            1,
        )
        made.append(Organisation(organisation_id, name, row))
    return made


def _salary(rng: random.Random, contract_type: str) -> tuple[Any, ...]:
    """(min, max, period, basis, text)."""
    if contract_type == "fonctionnaire":
        return None, None, None, None, "selon grille indiciaire"
    if contract_type == "service_civique":
        return 620, 620, "month", "net", None
    if contract_type == "stage":
        return 4, 4, "hour", "net", "gratification légale"
    if contract_type == "independant":
        low = rng.randrange(35, 70, 5)
        return low, low + 15, "hour", None, "tarif horaire à discuter"
    if rng.random() < 0.15:
        return None, None, None, None, "selon profil et convention collective"
    if rng.random() < 0.3:
        low = rng.randrange(1_900, 3_200, 50)
        return low, low + rng.choice((0, 200, 400)), "month", "gross", None
    low = rng.randrange(24_000, 48_000, 500)
    return low, low + rng.choice((0, 2_000, 4_000, 6_000)), "year", "gross", None


def _text(rng: random.Random, organisation: str, field: str) -> tuple[str, str, str]:
    """(description, missions, profile) in markdown, about 1,000 characters together."""
    others = rng.sample(FIELDS, 2)
    values = {
        "organisation": organisation,
        "field": field,
        "public": rng.choice(PUBLICS),
        "size": rng.randint(4, 40),
    }
    paragraphs = [rng.choice(INTROS).format(**values)]
    sentences = rng.sample(SENTENCES, 3)
    for position, sentence in enumerate(sentences):
        chosen = {**values, "field": others[position % 2], "public": rng.choice(PUBLICS)}
        paragraphs.append(sentence.format(**chosen))
    description = paragraphs[0] + "\n\n" + " ".join(paragraphs[1:])
    missions = "\n".join(
        "- " + mission.format(**values) for mission in rng.sample(MISSIONS, rng.randint(3, 5))
    )
    profile = "\n".join("- " + line for line in rng.sample(PROFILES, rng.randint(2, 4)))
    return description, missions, profile


def offers(
    count: int, orgs: Sequence[Organisation], rng: random.Random, now: datetime, today: date
) -> Iterator[tuple[Any, ...]]:
    """``count`` published offers, open on ``today``, published over the last 90 days."""
    codes = sorted(DEPARTEMENT_BY_CODE)
    weights = [HEAVY_DEPARTEMENTS.get(code, 3) for code in codes]
    roles, role_weights = zip(*ROLES, strict=True)
    contracts, contract_weights = zip(*CONTRACTS, strict=True)
    for number in range(count):
        organisation = rng.choice(orgs)
        contract_type = rng.choices(contracts, contract_weights)[0]
        field = rng.choice(FIELDS)
        title = f"{rng.choices(roles, role_weights)[0]} {field}"
        if rng.random() < 0.2:
            title += " H/F"
        description, missions, profile = _text(rng, organisation.name, field)
        city, postcode, departement, region = _place(rng, codes, weights)
        remote = rng.choices(("none", "partial", "full"), (55, 38, 7))[0]
        part_time = rng.random() < 0.1
        salary = _salary(rng, contract_type)
        duration = None
        if contract_type in {"cdd", "stage", "alternance", "service_civique", "volontariat"}:
            duration = rng.choice((3, 6, 8, 12, 18, 24))
        versant = categorie = contractuels = None
        if contract_type == "fonctionnaire":
            versant = rng.choice(("fpe", "fpt", "fph"))
            categorie = rng.choice(("A+", "A", "B", "C"))
            contractuels = rng.random() < 0.6
        published = now - timedelta(seconds=rng.randint(60, 90 * 86_400))
        deadline = None if rng.random() < 0.35 else today + timedelta(days=rng.randint(1, 120))
        start_date, start_text = today + timedelta(days=rng.randint(15, 150)), None
        if rng.random() < 0.2:
            start_date, start_text = None, "dès que possible"
        apply_via = rng.choices(("platform", "email", "url"), (5, 3, 2))[0]
        apply_email = f"recrutement+{number + 1}@example.org" if apply_via == "email" else None
        apply_url = None
        if apply_via == "url":
            apply_url = f"https://emplois.example.org/offres/{number + 1}"
        yield (
            _uuid(rng),
            organisation.id,
            f"BENCH-{number + 1:06d}",
            title,
            description,
            missions,
            profile,
            contract_type,
            duration,
            "part_time" if part_time else "full_time",
            rng.choice((50, 60, 80, 90)) if part_time else None,
            city,
            postcode,
            departement,
            region,
            "FR",
            remote,
            rng.randint(1, 3) if remote == "partial" else None,
            "fr",
            *salary,
            versant,
            categorie,
            contractuels,
            start_date,
            start_text,
            deadline,
            rng.choice(EDUCATION),
            rng.choice((0, 0, 1, 2, 3, 5, 8)),
            apply_via,
            apply_email,
            apply_url,
            "published",
            published,
            None,
            published - timedelta(minutes=rng.randint(5, 600)),
            published,
            1,
        )


async def populate(
    dsn: str,
    engine: AsyncEngine,
    *,
    offer_count: int,
    organisation_count: int,
    today: date,
    seed: int = 2026,
) -> dict[str, float]:
    """Fill a freshly migrated database; returns the seconds each step took."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        orgs = organisations(organisation_count, rng, now)
        await connection.copy_records_to_table(
            "organisation", records=[org.row for org in orgs], columns=ORGANISATION_COLUMNS
        )
        batch: list[tuple[Any, ...]] = []
        for row in offers(offer_count, orgs, rng, now, today):
            batch.append(row)
            if len(batch) == 10_000:
                await connection.copy_records_to_table(
                    "offer", records=batch, columns=OFFER_COLUMNS
                )
                batch = []
        if batch:
            await connection.copy_records_to_table("offer", records=batch, columns=OFFER_COLUMNS)
        # Partners mirror through the change feed: every published offer is in it.
        await connection.execute(
            "INSERT INTO offer_change (offer_id, change, changed_at) "
            "SELECT id, 'created', published_at FROM offer ORDER BY published_at, id"
        )
        timings["generate and copy"] = time.perf_counter() - start
        start = time.perf_counter()
        async with engine.begin() as sa_connection:
            await sa_connection.run_sync(index.rebuild)
        timings["search index (app.search.index.rebuild)"] = time.perf_counter() - start
        start = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.perf_counter() - start
    finally:
        await connection.close()
    return timings
