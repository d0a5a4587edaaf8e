"""Referential values as a French spreadsheet writes them: by their label (« CDD »,
« Télétravail partiel »), compared without case, accents or extra spaces.

The maps are built once from the referentials' own labels (app.referentials.data), for
every field of a bulk row whose type is one of their enums, so a label changed or a field
added there is read here with no second list to keep. A text that names no value, or
more than one, is left as written: the row's check then refuses it, naming the field.
"""

import unicodedata
from collections import defaultdict
from enum import Enum
from typing import get_args

from app.offers.bulk.upsert import OfferRow
from app.offers.models import LanguageRequirement
from app.referentials import data, enums

_ENTRIES: dict[type[Enum], tuple[data.Entry, ...]] = {
    enums.ContractType: data.CONTRACT_TYPES,
    enums.EducationLevel: data.EDUCATION_LEVELS,
    enums.RemoteMode: data.REMOTE_MODES,
    enums.WorkingTime: data.WORKING_TIMES,
    enums.SalaryPeriod: data.SALARY_PERIODS,
    enums.SalaryBasis: data.SALARY_BASES,
    enums.Versant: data.VERSANTS,
    enums.Categorie: data.CATEGORIES,
    enums.ContractReason: data.CONTRACT_REASONS,
    enums.StartPrecision: data.START_PRECISIONS,
    enums.Domain: data.DOMAINS,
    enums.LanguageLevel: data.LANGUAGE_LEVELS,
    enums.ApplyVia: data.APPLY_VIA,
    enums.OfferStatus: data.OFFER_STATUSES,
}


def plain(text: str) -> str:
    """``text`` as compared: no accents, no case, one space between words."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def _names(entry: data.Entry) -> set[str]:
    # A label's words before its parenthesis are what a spreadsheet writes:
    # « Alternance » for « Alternance (apprentissage ou professionnalisation) ».
    short = entry.label.split(" (", 1)[0]
    return {plain(entry.code), plain(entry.label), plain(short)}


def _codes_by_name(entries: tuple[data.Entry, ...]) -> dict[str, str]:
    found: defaultdict[str, set[str]] = defaultdict(set)
    for entry in entries:
        for name in _names(entry):
            found[name].add(entry.code)
    # A name shared by two values is not guessed at.
    return {name: codes.pop() for name, codes in found.items() if len(codes) == 1}


def _enum_of(annotation: object) -> type[Enum] | None:
    for kind in (annotation, *get_args(annotation)):
        if isinstance(kind, type) and issubclass(kind, Enum):
            return kind
    return None


def _by_field() -> dict[str, dict[str, str]]:
    maps = {}
    for name, field in OfferRow.model_fields.items():
        kind = _enum_of(field.annotation)
        if kind is not None:
            # A KeyError here is an enum field added without its referential above.
            maps[name] = _codes_by_name(_ENTRIES[kind])
    return maps


_BY_FIELD = _by_field()
_LEVELS = _codes_by_name(_ENTRIES[LanguageRequirement.__annotations__["level"]])
FIELDS = frozenset(_BY_FIELD)
"""The fields of a bulk row whose values a label may name."""


def code_of(field: str, text: str) -> str:
    """The code that ``text`` names among ``field``'s values, or ``text`` as it is."""
    return _BY_FIELD[field].get(plain(text), text)


def language_level(text: str) -> str:
    """The level that ``text`` names (« B2 », « b2 », « Langue maternelle »), or ``text``."""
    return _LEVELS.get(plain(text), text)
