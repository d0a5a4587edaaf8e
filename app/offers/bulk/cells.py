"""A CSV line's cells as the values of a bulk row, written as a French spreadsheet writes
them: yes and no in French (oui, non), dates day first (31/12/2026), referential values
by their label (« Télétravail partiel »), amounts with spaces and a decimal comma
(« 2 600,50 € »), hours as « 10h30 », lists in one cell (« IFSE; CIA »), languages as
« en:B2; de:C1 », and the contact in columns of its own (contact_name, contact_email…).

What cannot be read so is left as written: the row's check refuses it, naming the field.
An empty cell is not given: the field's default applies, as when a JSON row leaves the
key out.
"""

import re
from collections.abc import Callable
from datetime import date
from typing import Any, get_args, get_origin

from app.offers.bulk import amounts, labels
from app.offers.bulk.upsert import OfferRow
from app.offers.models import ContactFields

_BOOLEANS = {"oui": "true", "non": "false", "vrai": "true", "faux": "false"}
_FRENCH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
# Items of a list in one cell: `;` or `|` between them, or a line break (Alt+Entrée in a
# spreadsheet), which no item may hold anyway: each is a single line.
_ITEMS = re.compile(r"[;|\r\n]")
_NUMBERS: dict[str, Callable[[str], str]] = {
    "salary_min": amounts.euros,
    "salary_max": amounts.euros,
    "hours_per_week": amounts.hours,
}
_LANGUAGES = "languages"
# The contact's parts, each in a column of its own: contact_name, contact_role…
_CONTACT = "contact"
_CONTACT_COLUMNS = {f"{_CONTACT}_{part}": part for part in ContactFields.__annotations__}

COLUMNS = tuple(
    column
    for name in OfferRow.model_fields
    for column in (_CONTACT_COLUMNS if name == _CONTACT else (name,))
)
"""The columns a CSV of offers may have, in the order of the fields."""


def _fields_of(kind: type) -> frozenset[str]:
    return frozenset(
        name
        for name, field in OfferRow.model_fields.items()
        if kind in (field.annotation, *get_args(field.annotation))
    )


def _lists_of_texts() -> frozenset[str]:
    return frozenset(
        name
        for name, field in OfferRow.model_fields.items()
        if get_origin(field.annotation) is list and str in get_args(get_args(field.annotation)[0])
    )


_BOOLEAN_FIELDS = _fields_of(bool)
_DATE_FIELDS = _fields_of(date)
_TEXT_LISTS = _lists_of_texts()


def _items(value: str) -> list[str]:
    return [item.strip() for item in _ITEMS.split(value) if item.strip()]


def _language(item: str) -> dict[str, str]:
    code, colon, level = item.partition(":")
    language = {"code": code.strip()}
    # Without a colon there is no level: the row is refused for the level it lacks.
    if colon:
        language["level"] = labels.language_level(level.strip())
    return language


def _cell(name: str, value: str) -> Any:
    if name in _BOOLEAN_FIELDS:
        return _BOOLEANS.get(value.lower(), value)
    if name in _DATE_FIELDS and (day_first := _FRENCH_DATE.fullmatch(value)):
        day, month, year = day_first.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    if name in labels.FIELDS:
        return labels.code_of(name, value)
    if name in _NUMBERS:
        return _NUMBERS[name](value)
    if name in _TEXT_LISTS:
        return _items(value)
    if name == _LANGUAGES:
        return [_language(item) for item in _items(value)]
    return value


def row(header: list[str], cells: list[str]) -> dict[str, Any]:
    """The values of a line's given cells, by field; ``header``: the columns' names as
    formats.header_name reads them."""
    values: dict[str, Any] = {}
    contact: dict[str, str] = {}
    for name, raw in zip(header, cells, strict=False):
        cell = raw.strip()
        if cell == "":
            continue
        if name in _CONTACT_COLUMNS:
            contact[_CONTACT_COLUMNS[name]] = cell
        else:
            values[name] = _cell(name, cell)
    if contact:
        # A `contact` column of its own is text, and refused: it is not set aside here.
        values.setdefault(_CONTACT, contact)
    return values
