"""French referentials used by the Vocation API.

These are the closed lists (contract types, organisation kinds, education levels, INSEE régions
and départements, …) that incoming payloads are validated against and that are served as-is to
front ends so they can build their forms and filters. Codes are stable identifiers; labels are
French and meant for display.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    label: str


@dataclass(frozen=True, slots=True)
class Departement:
    code: str
    label: str
    region: str


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    label: str


def codes(entries: tuple[Entry, ...]) -> tuple[str, ...]:
    return tuple(entry.code for entry in entries)


def _by_code(entries: tuple[Entry, ...]) -> dict[str, Entry]:
    return {entry.code: entry for entry in entries}


CONTRACT_TYPES: tuple[Entry, ...] = (
    Entry("cdi", "CDI"),
    Entry("cdd", "CDD"),
    Entry("stage", "Stage"),
    Entry("alternance", "Alternance (apprentissage ou professionnalisation)"),
    Entry("service_civique", "Service civique"),
    Entry("volontariat", "Volontariat (VSI, VIA, volontariat associatif…)"),
    Entry("interim", "Intérim"),
    Entry("independant", "Indépendant / freelance"),
    Entry("fonctionnaire", "Fonctionnaire (poste statutaire)"),
)

ORGANISATION_KINDS: tuple[Entry, ...] = (
    Entry("association", "Association"),
    Entry("collectif", "Collectif"),
    Entry("fondation", "Fondation"),
    Entry("think_tank", "Think tank"),
    Entry("administration_etat", "Administration de l'État"),
    Entry("collectivite_territoriale", "Collectivité territoriale"),
    Entry("etablissement_public", "Établissement public"),
    Entry("etablissement_hospitalier", "Établissement hospitalier"),
    # A public body of several local authorities (a natural park, a water board…).
    Entry("syndicat_mixte", "Syndicat mixte"),
    # A body of two or more States: a binational institute, an international organisation.
    Entry("organisme_international", "Organisme binational ou international"),
    Entry("entreprise_ess", "Entreprise de l'ESS"),
    Entry("other", "Autre"),
)

# Levels follow the national qualifications framework (décret n° 2019-14), which starts at 3.
EDUCATION_LEVELS: tuple[Entry, ...] = (
    Entry("none", "Aucun diplôme requis"),
    Entry("niveau_3", "Niveau 3 (CAP, BEP)"),
    Entry("niveau_4", "Niveau 4 (baccalauréat)"),
    Entry("niveau_5", "Niveau 5 (bac+2 : BTS, DUT)"),
    Entry("niveau_6", "Niveau 6 (bac+3 : licence, BUT)"),
    Entry("niveau_7", "Niveau 7 (bac+5 : master, diplôme d'ingénieur)"),
    Entry("niveau_8", "Niveau 8 (doctorat)"),
)

REMOTE_MODES: tuple[Entry, ...] = (
    Entry("none", "Pas de télétravail"),
    Entry("partial", "Télétravail partiel"),
    Entry("full", "Télétravail complet"),
)

WORKING_TIMES: tuple[Entry, ...] = (
    Entry("full_time", "Temps plein"),
    Entry("part_time", "Temps partiel"),
)

SALARY_PERIODS: tuple[Entry, ...] = (
    Entry("hour", "Par heure"),
    Entry("month", "Par mois"),
    Entry("year", "Par an"),
)

SALARY_BASES: tuple[Entry, ...] = (
    Entry("gross", "Brut"),
    Entry("net", "Net"),
)

VERSANTS: tuple[Entry, ...] = (
    Entry("fpe", "Fonction publique de l'État"),
    Entry("fpt", "Fonction publique territoriale"),
    Entry("fph", "Fonction publique hospitalière"),
)

CATEGORIES: tuple[Entry, ...] = (
    Entry("A+", "Catégorie A+"),
    Entry("A", "Catégorie A"),
    Entry("B", "Catégorie B"),
    Entry("C", "Catégorie C"),
)

CONTRACT_REASONS: tuple[Entry, ...] = (
    Entry("creation", "Création de poste"),
    Entry("vacance", "Poste vacant"),
    Entry("remplacement", "Remplacement"),
    Entry("accroissement", "Accroissement temporaire d'activité"),
    Entry("projet", "Contrat de projet"),
    Entry("other", "Autre motif"),
)

START_PRECISIONS: tuple[Entry, ...] = (
    Entry("day", "À cette date"),
    Entry("month", "Dans le mois"),
    Entry("asap", "Dès que possible"),
)

# Fields of work as public-interest employers advertise them: coarse enough for a filter
# panel, each label the words a candidate looks for.
DOMAINS: tuple[Entry, ...] = (
    Entry("administration", "Administration générale, gestion"),
    Entry("finances", "Finances, comptabilité, contrôle de gestion"),
    Entry("ressources_humaines", "Ressources humaines"),
    Entry("juridique", "Juridique, marchés publics"),
    Entry("politiques_publiques", "Politiques publiques, études, évaluation"),
    Entry("communication", "Communication, information, médias"),
    Entry("plaidoyer", "Plaidoyer, affaires publiques"),
    Entry("numerique", "Numérique, données, systèmes d'information"),
    Entry("innovation_design", "Innovation publique, design"),
    Entry("environnement", "Environnement, transition écologique"),
    Entry("urbanisme_mobilites", "Urbanisme, aménagement, mobilités"),
    Entry("technique_batiment", "Services techniques, bâtiment, travaux"),
    Entry("action_sociale", "Action sociale, solidarité, insertion"),
    Entry("sante", "Santé, soin, médico-social"),
    Entry("education_jeunesse", "Éducation, formation, jeunesse"),
    Entry("culture_sport", "Culture, patrimoine, sport"),
    Entry("recherche", "Recherche, enseignement supérieur"),
    Entry("international", "Solidarité internationale, coopération"),
    Entry("vie_associative", "Vie associative, animation, bénévolat"),
    Entry("developpement_economique", "Développement économique, emploi, ESS"),
    Entry("securite_prevention", "Sécurité, prévention, secours"),
    Entry("other", "Autre domaine"),
)

LANGUAGE_LEVELS: tuple[Entry, ...] = (
    Entry("A1", "A1 (découverte)"),
    Entry("A2", "A2 (intermédiaire)"),
    Entry("B1", "B1 (niveau seuil)"),
    Entry("B2", "B2 (avancé)"),
    Entry("C1", "C1 (autonome)"),
    Entry("C2", "C2 (maîtrise)"),
    Entry("native", "Langue maternelle"),
)

APPLY_VIA: tuple[Entry, ...] = (
    Entry("platform", "Candidature sur la plateforme"),
    Entry("email", "Candidature par e-mail"),
    Entry("url", "Candidature sur le site du recruteur"),
)

OFFER_STATUSES: tuple[Entry, ...] = (
    Entry("draft", "Brouillon"),
    Entry("published", "Publiée"),
    Entry("closed", "Clôturée"),
)

# INSEE Code officiel géographique, régions as of the 2016 reform.
REGIONS: tuple[Region, ...] = (
    Region("01", "Guadeloupe"),
    Region("02", "Martinique"),
    Region("03", "Guyane"),
    Region("04", "La Réunion"),
    Region("06", "Mayotte"),
    Region("11", "Île-de-France"),
    Region("24", "Centre-Val de Loire"),
    Region("27", "Bourgogne-Franche-Comté"),
    Region("28", "Normandie"),
    Region("32", "Hauts-de-France"),
    Region("44", "Grand Est"),
    Region("52", "Pays de la Loire"),
    Region("53", "Bretagne"),
    Region("75", "Nouvelle-Aquitaine"),
    Region("76", "Occitanie"),
    Region("84", "Auvergne-Rhône-Alpes"),
    Region("93", "Provence-Alpes-Côte d'Azur"),
    Region("94", "Corse"),
)

# INSEE still lists 2A/2B, 67/68, 69, 972 and 973 as départements even though they are now
# merged into other collectivités; job offers are located with these codes.
DEPARTEMENTS: tuple[Departement, ...] = (
    Departement("01", "Ain", "84"),
    Departement("02", "Aisne", "32"),
    Departement("03", "Allier", "84"),
    Departement("04", "Alpes-de-Haute-Provence", "93"),
    Departement("05", "Hautes-Alpes", "93"),
    Departement("06", "Alpes-Maritimes", "93"),
    Departement("07", "Ardèche", "84"),
    Departement("08", "Ardennes", "44"),
    Departement("09", "Ariège", "76"),
    Departement("10", "Aube", "44"),
    Departement("11", "Aude", "76"),
    Departement("12", "Aveyron", "76"),
    Departement("13", "Bouches-du-Rhône", "93"),
    Departement("14", "Calvados", "28"),
    Departement("15", "Cantal", "84"),
    Departement("16", "Charente", "75"),
    Departement("17", "Charente-Maritime", "75"),
    Departement("18", "Cher", "24"),
    Departement("19", "Corrèze", "75"),
    Departement("2A", "Corse-du-Sud", "94"),
    Departement("2B", "Haute-Corse", "94"),
    Departement("21", "Côte-d'Or", "27"),
    Departement("22", "Côtes-d'Armor", "53"),
    Departement("23", "Creuse", "75"),
    Departement("24", "Dordogne", "75"),
    Departement("25", "Doubs", "27"),
    Departement("26", "Drôme", "84"),
    Departement("27", "Eure", "28"),
    Departement("28", "Eure-et-Loir", "24"),
    Departement("29", "Finistère", "53"),
    Departement("30", "Gard", "76"),
    Departement("31", "Haute-Garonne", "76"),
    Departement("32", "Gers", "76"),
    Departement("33", "Gironde", "75"),
    Departement("34", "Hérault", "76"),
    Departement("35", "Ille-et-Vilaine", "53"),
    Departement("36", "Indre", "24"),
    Departement("37", "Indre-et-Loire", "24"),
    Departement("38", "Isère", "84"),
    Departement("39", "Jura", "27"),
    Departement("40", "Landes", "75"),
    Departement("41", "Loir-et-Cher", "24"),
    Departement("42", "Loire", "84"),
    Departement("43", "Haute-Loire", "84"),
    Departement("44", "Loire-Atlantique", "52"),
    Departement("45", "Loiret", "24"),
    Departement("46", "Lot", "76"),
    Departement("47", "Lot-et-Garonne", "75"),
    Departement("48", "Lozère", "76"),
    Departement("49", "Maine-et-Loire", "52"),
    Departement("50", "Manche", "28"),
    Departement("51", "Marne", "44"),
    Departement("52", "Haute-Marne", "44"),
    Departement("53", "Mayenne", "52"),
    Departement("54", "Meurthe-et-Moselle", "44"),
    Departement("55", "Meuse", "44"),
    Departement("56", "Morbihan", "53"),
    Departement("57", "Moselle", "44"),
    Departement("58", "Nièvre", "27"),
    Departement("59", "Nord", "32"),
    Departement("60", "Oise", "32"),
    Departement("61", "Orne", "28"),
    Departement("62", "Pas-de-Calais", "32"),
    Departement("63", "Puy-de-Dôme", "84"),
    Departement("64", "Pyrénées-Atlantiques", "75"),
    Departement("65", "Hautes-Pyrénées", "76"),
    Departement("66", "Pyrénées-Orientales", "76"),
    Departement("67", "Bas-Rhin", "44"),
    Departement("68", "Haut-Rhin", "44"),
    Departement("69", "Rhône", "84"),
    Departement("70", "Haute-Saône", "27"),
    Departement("71", "Saône-et-Loire", "27"),
    Departement("72", "Sarthe", "52"),
    Departement("73", "Savoie", "84"),
    Departement("74", "Haute-Savoie", "84"),
    Departement("75", "Paris", "11"),
    Departement("76", "Seine-Maritime", "28"),
    Departement("77", "Seine-et-Marne", "11"),
    Departement("78", "Yvelines", "11"),
    Departement("79", "Deux-Sèvres", "75"),
    Departement("80", "Somme", "32"),
    Departement("81", "Tarn", "76"),
    Departement("82", "Tarn-et-Garonne", "76"),
    Departement("83", "Var", "93"),
    Departement("84", "Vaucluse", "93"),
    Departement("85", "Vendée", "52"),
    Departement("86", "Vienne", "75"),
    Departement("87", "Haute-Vienne", "75"),
    Departement("88", "Vosges", "44"),
    Departement("89", "Yonne", "27"),
    Departement("90", "Territoire de Belfort", "27"),
    Departement("91", "Essonne", "11"),
    Departement("92", "Hauts-de-Seine", "11"),
    Departement("93", "Seine-Saint-Denis", "11"),
    Departement("94", "Val-de-Marne", "11"),
    Departement("95", "Val-d'Oise", "11"),
    Departement("971", "Guadeloupe", "01"),
    Departement("972", "Martinique", "02"),
    Departement("973", "Guyane", "03"),
    Departement("974", "La Réunion", "04"),
    Departement("976", "Mayotte", "06"),
)

CONTRACT_TYPE_BY_CODE: dict[str, Entry] = _by_code(CONTRACT_TYPES)
DOMAIN_BY_CODE: dict[str, Entry] = _by_code(DOMAINS)
ORGANISATION_KIND_BY_CODE: dict[str, Entry] = _by_code(ORGANISATION_KINDS)
EDUCATION_LEVEL_BY_CODE: dict[str, Entry] = _by_code(EDUCATION_LEVELS)
REMOTE_MODE_BY_CODE: dict[str, Entry] = _by_code(REMOTE_MODES)
WORKING_TIME_BY_CODE: dict[str, Entry] = _by_code(WORKING_TIMES)
SALARY_PERIOD_BY_CODE: dict[str, Entry] = _by_code(SALARY_PERIODS)
SALARY_BASIS_BY_CODE: dict[str, Entry] = _by_code(SALARY_BASES)
VERSANT_BY_CODE: dict[str, Entry] = _by_code(VERSANTS)
CATEGORIE_BY_CODE: dict[str, Entry] = _by_code(CATEGORIES)
APPLY_VIA_BY_CODE: dict[str, Entry] = _by_code(APPLY_VIA)
OFFER_STATUS_BY_CODE: dict[str, Entry] = _by_code(OFFER_STATUSES)
REGION_BY_CODE: dict[str, Region] = {region.code: region for region in REGIONS}
DEPARTEMENT_BY_CODE: dict[str, Departement] = {dep.code: dep for dep in DEPARTEMENTS}
