"""Reading an upload of offers as a stream of rows, whatever its format: a JSON array
(each item's text cut out as it is read), NDJSON, or CSV from a spreadsheet (UTF-8 with or without
BOM, `,` or `;`, headers in our field names or French ones, accents and case ignored; its
cells are read as app.offers.bulk.cells says).

Rows are numbered from 1 in every format, by their position among the offers: a CSV's
header line and NDJSON's blank lines are not rows.
"""

import codecs
import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from app.offers.bulk.cells import row as cells_of_row

JSON = "application/json"
NDJSON = "application/x-ndjson"
CSV = "text/csv"
MEDIA_TYPES = (JSON, NDJSON, CSV)

# French names a spreadsheet may give its columns, after accents and case are dropped.
_HEADER_ALIASES = {
    "intitule": "title",
    "titre": "title",
    "profil": "profile",
    "type_de_contrat": "contract_type",
    "contrat": "contract_type",
    "duree_mois": "duration_months",
    "duree_mois_min": "duration_months_min",
    "ville": "city",
    "code_postal": "postcode",
    "pays": "country",
    "teletravail": "remote",
    "salaire_min": "salary_min",
    "salaire_max": "salary_max",
    "date_limite": "deadline",
    "date_de_debut": "start_date",
    "date_de_fin": "end_date",
    "statut": "status",
    "categorie": "categorie",
    "avantages": "benefits",
    "heures_par_semaine": "hours_per_week",
    "precision_du_debut": "start_precision",
    "motif_du_contrat": "contract_reason",
    "motif_de_recrutement": "contract_reason",
    "domaine": "domain",
    "langues": "languages",
    "pieces_a_fournir": "documents_required",
    "fin_de_publication": "expires_at",
    "date_de_fin_de_publication": "expires_at",
    "contact_nom": "contact_name",
    "nom_du_contact": "contact_name",
    "contact_fonction": "contact_role",
    "fonction_du_contact": "contact_role",
    "contact_e-mail": "contact_email",
    "contact_courriel": "contact_email",
    "e-mail_du_contact": "contact_email",
    "courriel_du_contact": "contact_email",
    "contact_telephone": "contact_phone",
    "telephone_du_contact": "contact_phone",
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


# A cell may hold at most this much, the bound of one JSON item: csv's own default (128 KiB)
# would stop the reading in the middle of a row. The limit is the process's, not a reader's.
_LONGEST_CELL = 1024 * 1024
csv.field_size_limit(max(csv.field_size_limit(), _LONGEST_CELL))


def csv_delimiter(header_line: str) -> str:
    # A spreadsheet saved in French uses ';' (',' is the decimal separator there).
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _not_utf8(cells: list[str]) -> bool:
    # Bytes that are not UTF-8 were decoded as lone surrogates (surrogateescape).
    try:
        "".join(cells).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _csv_rows(source: IO[bytes]) -> Iterator[dict[str, Any] | Unreadable]:
    # surrogateescape: bytes that are not UTF-8 are found in the row that holds them, and
    # that row is named (a strict decoder fails on a whole block of the file).
    text = io.TextIOWrapper(source, encoding="utf-8-sig", errors="surrogateescape", newline="")
    header_line = text.readline()
    if not header_line.strip():
        raise UploadUnreadable("The CSV has no header line naming the offers' fields.")
    if _not_utf8([header_line]):
        raise UploadUnreadable("The CSV is not UTF-8.")
    delimiter = csv_delimiter(header_line)
    header = [header_name(name) for name in next(csv.reader([header_line], delimiter=delimiter))]
    # strict: a quote left open is an error, not a cell that swallows the rows after it
    # (and, with sync=true, closes their offers).
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # Where the next row starts is unknown: nothing after it can be trusted.
            raise UploadUnreadable(f"Row {number + 1} is not CSV: {error}.") from None
        if not any(cell.strip() for cell in cells):
            continue
        number += 1
        if _not_utf8(cells):
            # A file has one encoding: read as UTF-8, a Windows-1252 export would lose only
            # its rows with accents, and be half written.
            raise UploadUnreadable(
                f"The CSV is not UTF-8 (row {number}): save it as « CSV UTF-8 »."
            )
        if len(cells) > len(header):
            yield Unreadable(f"{len(cells)} cells for {len(header)} columns")
        else:
            yield cells_of_row(header, cells)


def json_value(data: bytes, media_type: str) -> "dict[str, Any] | Unreadable":
    """A row sent as JSON text, read as Python values: for a row whose check failed."""
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return Unreadable("not UTF-8")
    except ValueError as error:
        return Unreadable(f"not JSON: {error}")
    except RecursionError:
        return Unreadable("not JSON: nested too deeply")
    if isinstance(value, dict):
        return value
    return Unreadable(f"each {'line' if media_type == NDJSON else 'item'} must be an object")


Row = bytes | dict[str, Any] | Unreadable
"""A row as read: the JSON text of one value (JSON and NDJSON), which pydantic-core parses
and checks in one pass with no Python objects in between; a CSV line's cells by field; or
what could not be read."""


def _ndjson_rows(source: IO[bytes]) -> Iterator[Row]:
    number = 0
    first = True
    # A line is read up to the bound of one offer, never whole whatever its length.
    while line := source.readline(LONGEST_ITEM + 1):
        if first:
            line, first = line.removeprefix(codecs.BOM_UTF8), False
        if not line.strip():
            continue
        number += 1
        if len(line) > LONGEST_ITEM:
            raise UploadUnreadable(
                f"Row {number} is over {LONGEST_ITEM // (1024 * 1024)} MiB: one offer may "
                "take at most that much JSON."
            )
        yield line


# Reading a JSON array without building its items: each item's text is cut out and handed
# to pydantic-core. ijson, which we used before, builds every item as Python objects, and
# that took as long as checking them; no library gives an array's items as text.
_READ_SIZE = 1024 * 1024
LONGEST_ITEM = 1024 * 1024
"""Bytes of JSON one offer may take: its texts at their longest fit several times over."""
_WHITESPACE = b" \t\r\n"
_FIRST_WINDOW = 4 * 1024  # of the body, for the standard library's parser (_exact_item)
_PARSER = json.JSONDecoder()
# An offer is a flat object: it ends at a "}" followed by "," or "]" (_surely_whole tells
# when that cut is certain; otherwise the standard library's parser finds the end).
_ITEM_END = re.compile(rb"\}[ \t\r\n]*[,\]]")


def _surely_whole(data: bytes) -> bool:
    """Whether ``data``, cut from a "{" to a "}", is exactly that object: its only braces
    are those two, and the last is outside any string: an even number of quotes, counted
    when no backslash escapes another (then each backslash-quote is an escaped quote)."""
    return (
        data.find(b"{", 1) < 0
        and data.find(b"}", 0, -1) < 0
        and data.find(b"\\\\") < 0
        and (data.count(b'"') - data.count(b'\\"')) % 2 == 0
    )


class _JsonArray:
    def __init__(self, source: IO[bytes], read_size: int = _READ_SIZE) -> None:
        self._source, self._read_size = source, read_size
        self._buffer = b""
        self._position = 0
        self._ended = False

    def _read(self) -> bool:
        """More of the body, keeping what is not yet read; False at its end."""
        more = b"" if self._ended else self._source.read(self._read_size)
        if not more:
            self._ended = True
            return False
        self._buffer = self._buffer[self._position :] + more
        self._position = 0
        return True

    def _next_char(self) -> int | None:
        """The next byte that is not whitespace, at self._position; None at the end."""
        while True:
            buffer, position = self._buffer, self._position
            while position < len(buffer) and buffer[position] in _WHITESPACE:
                position += 1
            self._position = position
            if position < len(buffer):
                return buffer[position]
            if not self._read():
                return None

    def __iter__(self) -> Iterator[Row]:
        self._buffer = self._source.read(len(codecs.BOM_UTF8)).removeprefix(codecs.BOM_UTF8)
        if self._next_char() != ord("["):
            raise UploadUnreadable("The body must be a JSON array of offers: [{...}, {...}].")
        self._position += 1
        if self._next_char() == ord("]"):
            self._finish()
            return
        while True:
            char = self._next_char()
            if char is None:
                raise _broken("it ends before its closing ']'")
            yield self._item() if char == ord("{") else self._exact_item()
            char = self._next_char()
            if char is None:
                raise _broken("it ends before its closing ']'")
            if char == ord("]"):
                self._finish()
                return
            if char != ord(","):
                raise _broken("expected ',' or ']' after an offer")
            self._position += 1

    def _item(self) -> Row:
        while True:
            start = self._position
            found = _ITEM_END.search(self._buffer, start)
            if found is not None and found.start() - start < LONGEST_ITEM:
                data = self._buffer[start : found.start() + 1]
                if not _surely_whole(data):
                    return self._exact_item()
                self._position = found.start() + 1
                return data
            if len(self._buffer) - start > LONGEST_ITEM or not self._read():
                return self._exact_item()

    def _exact_item(self) -> Row:
        """The item at self._position, its end found by the standard library's parser.

        It reads a window of the body, doubled until the item fits in it (an item is
        small: reading a whole LONGEST_ITEM for each would cost a millisecond). Bytes that
        are not UTF-8 are kept as they are (surrogateescape): the item's check reports
        them, as on the fast path, and its length in bytes stays exact."""
        window = _FIRST_WINDOW
        while True:
            while len(self._buffer) - self._position < window and self._read():
                pass
            data = self._buffer[self._position : self._position + window]
            cut = len(data) == window  # the item may go on past the window
            text = data.decode("utf-8", "surrogateescape")
            try:
                value, end = _PARSER.raw_decode(text)
            except RecursionError:
                raise _broken("an item is nested too deeply") from None
            except ValueError as error:
                if cut and window <= LONGEST_ITEM:
                    window *= 2
                    continue
                if cut:
                    raise _broken(
                        f"an item is not JSON, or longer than {LONGEST_ITEM:,} bytes"
                    ) from None
                raise _broken(str(error)) from None
            if end == len(text) and cut and window <= LONGEST_ITEM:
                window *= 2  # a number may go on past the window
                continue
            length = len(text[:end].encode("utf-8", "surrogateescape"))
            if length > LONGEST_ITEM:
                raise _broken(f"an item is longer than {LONGEST_ITEM:,} bytes")
            item = self._buffer[self._position : self._position + length]
            self._position += length
            return item if isinstance(value, dict) else Unreadable("each item must be an object")

    def _finish(self) -> None:
        self._position += 1  # the closing "]"
        if self._next_char() is not None:
            raise _broken("something follows its closing ']'")


def _broken(why: str) -> UploadUnreadable:
    return UploadUnreadable(f"The body is not a JSON array of offers ({why}).")


def rows(source: IO[bytes], media_type: str) -> Iterator[Row]:
    if media_type == CSV:
        return _csv_rows(source)
    if media_type == NDJSON:
        return _ndjson_rows(source)
    return iter(_JsonArray(source))
