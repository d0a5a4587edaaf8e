"""The referentials as enums, so request schemas and the OpenAPI spec list accepted values.

``tests/referentials`` checks that these agree with the labelled data in ``data.py``.
"""

from enum import StrEnum


class ContractType(StrEnum):
    cdi = "cdi"
    cdd = "cdd"
    stage = "stage"
    alternance = "alternance"
    service_civique = "service_civique"
    volontariat = "volontariat"
    interim = "interim"
    independant = "independant"
    fonctionnaire = "fonctionnaire"


class OrganisationKind(StrEnum):
    association = "association"
    collectif = "collectif"
    fondation = "fondation"
    think_tank = "think_tank"
    administration_etat = "administration_etat"
    collectivite_territoriale = "collectivite_territoriale"
    etablissement_public = "etablissement_public"
    etablissement_hospitalier = "etablissement_hospitalier"
    syndicat_mixte = "syndicat_mixte"
    organisme_international = "organisme_international"
    entreprise_ess = "entreprise_ess"
    other = "other"


class EducationLevel(StrEnum):
    none = "none"
    niveau_3 = "niveau_3"
    niveau_4 = "niveau_4"
    niveau_5 = "niveau_5"
    niveau_6 = "niveau_6"
    niveau_7 = "niveau_7"
    niveau_8 = "niveau_8"


class RemoteMode(StrEnum):
    none = "none"
    partial = "partial"
    full = "full"


class WorkingTime(StrEnum):
    full_time = "full_time"
    part_time = "part_time"


class SalaryPeriod(StrEnum):
    hour = "hour"
    month = "month"
    year = "year"


class SalaryBasis(StrEnum):
    gross = "gross"
    net = "net"


class Versant(StrEnum):
    fpe = "fpe"
    fpt = "fpt"
    fph = "fph"


class Categorie(StrEnum):
    a_plus = "A+"
    a = "A"
    b = "B"
    c = "C"


class ContractReason(StrEnum):
    creation = "creation"
    vacance = "vacance"
    remplacement = "remplacement"
    accroissement = "accroissement"
    projet = "projet"
    other = "other"


class StartPrecision(StrEnum):
    day = "day"
    month = "month"
    asap = "asap"


class Domain(StrEnum):
    administration = "administration"
    finances = "finances"
    ressources_humaines = "ressources_humaines"
    juridique = "juridique"
    politiques_publiques = "politiques_publiques"
    communication = "communication"
    plaidoyer = "plaidoyer"
    numerique = "numerique"
    innovation_design = "innovation_design"
    environnement = "environnement"
    urbanisme_mobilites = "urbanisme_mobilites"
    technique_batiment = "technique_batiment"
    action_sociale = "action_sociale"
    sante = "sante"
    education_jeunesse = "education_jeunesse"
    culture_sport = "culture_sport"
    recherche = "recherche"
    international = "international"
    vie_associative = "vie_associative"
    developpement_economique = "developpement_economique"
    securite_prevention = "securite_prevention"
    other = "other"


class LanguageLevel(StrEnum):
    """The CEFR's levels, and a native speaker's."""

    a1 = "A1"
    a2 = "A2"
    b1 = "B1"
    b2 = "B2"
    c1 = "C1"
    c2 = "C2"
    native = "native"


class ApplyVia(StrEnum):
    platform = "platform"
    email = "email"
    url = "url"


class OfferStatus(StrEnum):
    draft = "draft"
    published = "published"
    closed = "closed"
