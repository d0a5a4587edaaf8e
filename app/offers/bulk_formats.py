"""Reading an upload of offers as a stream of rows, whatever its format: a JSON array
(read item by item with ijson), NDJSON, or CSV from a spreadsheet (UTF-8 with or without
BOM, `,` or `;`, headers in our field names, accents and case ignored).

Rows are numbered from 1 in every format, by their position among the offers: a CSV's
header line and NDJSON's blank lines are not rows.
"""

import codecs
import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import ijson  # type: ignore[import-untyped]

JSON = "application/json"
NDJSON = "application/x-ndjson"
CSV = "text/csv"
MEDIA_TYPES = (JSON, NDJSON, CSV)

# Spreadsheet cells say yes and no in French too.
_BOOLEANS = {"oui": "true", "non": "false", "vrai": "true", "faux": "false"}
# French names a spreadsheet may give its columns, after accents and case are dropped.
_HEADER_ALIASES = {
    "intitule": "title",
    "titre": "title",
    "profil": "profile",
    "type_de_contrat": "contract_type",
    "contrat": "contract_type",
    "duree_mois": "duration_months",
    "ville": "city",
    "code_postal": "postcode",
    "pays": "country",
    "teletravail": "remote",
    "salaire_min": "salary_min",
    "salaire_max": "salary_max",
    "date_limite": "deadline",
    "date_de_debut": "start_date",
    "statut": "status",
    "categorie": "categorie",
}


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A row that is not an offer at all (bad JSON, a CSV line with too many cells)."""

    message: str


class UploadUnreadable(Exception):
    """The upload as a whole cannot be read (not a JSON array, no CSV header)."""


def header_name(raw: str) -> str:
    decomposed = unicodedata.normalize("NFKD", raw.strip().lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    name = "_".join(plain.replace("(", " ").replace(")", " ").split())
    return _HEADER_ALIASES.get(name, name)


def _cell(value: str | None) -> Any:
    if value is None:
        return None
    value = value.strip()
    if value == "":
        return None
    return _BOOLEANS.get(value.lower(), value)


def _csv_rows(source: IO[bytes]) -> Iterator[dict[str, Any] | Unreadable]:
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    try:
        header_line = text.readline()
    except UnicodeDecodeError:
        raise UploadUnreadable("The CSV is not UTF-8.") from None
    if not header_line.strip():
        raise UploadUnreadable("The CSV has no header line naming the offers' fields.")
    # A spreadsheet saved in French uses ';' (',' is the decimal separator there).
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    header = [header_name(name) for name in next(csv.reader([header_line], delimiter=delimiter))]
    reader = csv.reader(text, delimiter=delimiter)
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(header):
                yield Unreadable(f"{len(cells)} cells for {len(header)} columns")
                continue
            # An empty cell is "not given": the field's default applies, as when a JSON
            # row leaves the key out.
            values = ((name, _cell(cell)) for name, cell in zip(header, cells, strict=False))
            yield {name: value for name, value in values if value is not None}
    except UnicodeDecodeError:
        yield Unreadable("not UTF-8")
    except csv.Error as error:
        yield Unreadable(f"not CSV: {error}")


def _ndjson_rows(source: IO[bytes]) -> Iterator[dict[str, Any] | Unreadable]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    for raw in source:
        try:
            line = decoder.decode(raw)
        except UnicodeDecodeError:
            yield Unreadable("not UTF-8")
            continue
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as error:
            yield Unreadable(f"not JSON: {error}")
            continue
        yield value if isinstance(value, dict) else Unreadable("each line must be an object")


def _json_rows(source: IO[bytes]) -> Iterator[dict[str, Any] | Unreadable]:
    start = source.read(64).decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if not start.startswith("["):
        raise UploadUnreadable("The body must be a JSON array of offers: [{...}, {...}].")
    source.seek(0)
    try:
        for value in ijson.items(source, "item", use_float=True):
            yield value if isinstance(value, dict) else Unreadable("each item must be an object")
    except ijson.JSONError as error:
        raise UploadUnreadable(f"The body is not a JSON array of offers ({error}).") from None


def rows(source: IO[bytes], media_type: str) -> Iterator[dict[str, Any] | Unreadable]:
    if media_type == CSV:
        return _csv_rows(source)
    if media_type == NDJSON:
        return _ndjson_rows(source)
    return _json_rows(source)
