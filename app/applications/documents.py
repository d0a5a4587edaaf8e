"""Uploaded documents (CVs, cover letters): what they really are, judged by their bytes, and
the name they are shown under.

The declared content type and the file name come from the candidate's browser, so neither is
trusted: the type is detected from the content, and the name is kept only as a label for
recruiters, with its extension forced to match that detected type.
"""

import lzma
import os
import re
import struct
import unicodedata
import zipfile
import zlib
from typing import BinaryIO
from urllib.parse import quote, unquote

from app.applications import pdf_content, zip_content
from app.applications.rejection import DocumentRejected

__all__ = ["DocumentRejected", "content_disposition", "detect_type", "sanitise_filename"]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
ACCEPTED_TYPES: tuple[str, ...] = (PDF, DOCX, ODT)
EXTENSIONS = {PDF: ".pdf", DOCX: ".docx", ODT: ".odt"}

UNSUPPORTED = "unsupported type: send a PDF, DOCX or ODT file"
NOT_AT_START = (
    "the PDF signature must start the file: a file with data before it (an HTML page, an "
    "image...) can be opened as something else"
)

_PDF_HEADER = b"%PDF-"
# PDF readers accept junk before the header as long as it starts within the first 1024
# bytes: a page or an image carrying the header there is a polyglot, and is named as such.
_PDF_HEADER_WINDOW = 1024
_ZIP_HEADER = b"PK\x03\x04"
# Each central-directory record starts with this signature, and zipfile insists on it.
_CENTRAL_DIRECTORY_RECORD = b"PK\x01\x02"
_MAX_CENTRAL_DIRECTORY_BYTES = 1024 * 1024
# Windows PE, ELF, Mach-O (32/64-bit, both byte orders, universal) and scripts. Checked
# before the PDF header so that an executable cannot pass as a PDF by carrying `%PDF-` in
# its first kilobyte.
_EXECUTABLE_HEADERS = (*zip_content.PROGRAMS, b"#!")
# Deflate tops out near 1030:1 and office XML rarely passes 20:1, so 100:1 leaves real
# documents alone and still catches a bomb, which needs an extreme ratio to be worth sending.
_MAX_RATIO = 100
_MIMETYPE_ENTRY = "mimetype"
_MAX_MIMETYPE_BYTES = 100
_DOCX_ENTRIES = ("[Content_Types].xml", "word/document.xml")
_CHUNK = 1024 * 1024
# What zipfile lets escape from a damaged archive: its own error, short reads, seeks past
# the end, garbled headers, and the decompressors' errors on a corrupt mimetype entry.
# NotImplementedError: an entry compressed by a method zipfile cannot read (any entry, XML
# parts included), which no office suite writes.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
    lzma.LZMAError,
    NotImplementedError,
)

# Cc: C0/C1 controls (NUL, newlines, ESC...); Cf: format characters, among them the bidi
# overrides and isolates (U+202E makes "cv\u202efdp.exe" display as "cvexe.pdf") and the
# zero-width ones; Cs: lone surrogates, which cannot be encoded to UTF-8 for the header.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_PATH_SEPARATORS = re.compile(r"[/\\]")
# What looks like a real extension gets replaced ("fdp.exe" -> "fdp.pdf"); a dot further in a
# name ("Jean.Dupont", "CV v2. final") is kept and the extension appended after it.
_EXTENSION_LIKE = re.compile(r"[A-Za-z0-9]{1,5}")
_FALLBACK_STEM = "document"


def detect_type(
    file: BinaryIO,
    *,
    max_bytes: int,
    max_unpacked_bytes: int = 50 * 1024 * 1024,
    max_entries: int = 1000,
) -> str:
    """Return the content type of ``file`` (one of ACCEPTED_TYPES) or raise DocumentRejected.

    The signature must start the file. A PDF is then parsed for its structure (never its
    page contents); of a ZIP, the central directory, a small entry or two and the first bytes
    of each entry are read, and nothing is extracted. Active content (scripts, macros,
    embedded files or programs, archives inside the archive) is refused with 422. ``file``
    is left at position 0, whatever the outcome.
    """
    try:
        file.seek(0, os.SEEK_END)
        size = file.tell()
        if size == 0:
            raise DocumentRejected(422, "empty file")
        if size > max_bytes:
            raise DocumentRejected(413, f"file too large: the limit is {max_bytes} bytes")
        file.seek(0)
        head = file.read(_PDF_HEADER_WINDOW)
        if head.startswith(_ZIP_HEADER):
            return _detect_zip(file, max_unpacked_bytes=max_unpacked_bytes, max_entries=max_entries)
        if head.startswith(_EXECUTABLE_HEADERS):
            raise DocumentRejected(415, UNSUPPORTED)
        if head.startswith(_PDF_HEADER):
            _check_pdf(file)
            return PDF
        if _PDF_HEADER in head:
            raise DocumentRejected(415, NOT_AT_START)
        raise DocumentRejected(415, UNSUPPORTED)
    finally:
        file.seek(0)


def _detect_zip(file: BinaryIO, *, max_unpacked_bytes: int, max_entries: int) -> str:
    # zipfile builds an object per central-directory record before we can count them, and a
    # file of a few MB can hold hundreds of thousands of empty records (seconds of CPU, over
    # 100 MB of memory). Every record it parses starts with the signature, so counting the
    # signatures first bounds that work, whatever the end record claims.
    if _count_occurrences(file, _CENTRAL_DIRECTORY_RECORD) > max_entries:
        raise DocumentRejected(422, f"archive has more than {max_entries} entries")
    # zipfile also holds the whole central directory in memory, comments and extra fields
    # included: a 10 MB upload could make it hold 10 MB. Real documents need a few KB.
    if _central_directory_size(file) > _MAX_CENTRAL_DIRECTORY_BYTES:
        raise DocumentRejected(422, "archive directory too large for a document")
    file.seek(0)
    # zipfile trusts the central directory and ignores the sizes in the local headers, which
    # a crafted archive can set to anything. That is acceptable because we never extract:
    # the limits below apply to the central directory's figures, and the only entry we read
    # (mimetype) is read with a hard cap. Whoever extracts these files later must enforce its
    # own limits on what it actually inflates.
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
            _check_entries(entries, max_unpacked_bytes=max_unpacked_bytes, max_entries=max_entries)
            content_type = _archive_type(archive, {entry.filename for entry in entries})
            zip_content.check_archive(file, archive, content_type)
            return content_type
    except _ZIP_ERRORS as error:
        raise DocumentRejected(422, "corrupt document: not a readable ZIP archive") from error


def _archive_type(archive: zipfile.ZipFile, names: set[str]) -> str:
    if _MIMETYPE_ENTRY in names and _read_mimetype(archive) == ODT.encode():
        return ODT
    if all(name in names for name in _DOCX_ENTRIES):
        return DOCX
    raise DocumentRejected(415, UNSUPPORTED)


def _check_pdf(file: BinaryIO) -> None:
    # A PDF that zipfile would also open carries an archive after its end: a polyglot.
    if zipfile.is_zipfile(file):
        raise DocumentRejected(422, zip_content.POLYGLOT)
    pdf_content.check_pdf(file)


def _central_directory_size(file: BinaryIO) -> int:
    """The size the end-of-central-directory record declares (0 when there is none: zipfile
    then refuses the archive). ZIP64 archives, which no document of this size needs, count
    as too large."""
    end = zip_content.end_record(file)
    if end is None:
        return 0
    tail, position = end
    (directory_size,) = struct.unpack_from("<I", tail, position + 12)
    return int(directory_size)


def _count_occurrences(file: BinaryIO, needle: bytes) -> int:
    """Count ``needle`` in ``file`` a chunk at a time; the needle cannot overlap itself, so
    carrying its length minus one bytes between chunks counts each occurrence once."""
    file.seek(0)
    count = 0
    carry = b""
    while chunk := file.read(_CHUNK):
        window = carry + chunk
        count += window.count(needle)
        carry = window[-(len(needle) - 1) :]
    return count


def _check_entries(
    entries: list[zipfile.ZipInfo], *, max_unpacked_bytes: int, max_entries: int
) -> None:
    if len(entries) > max_entries:
        raise DocumentRejected(422, f"archive has more than {max_entries} entries")
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise DocumentRejected(422, "encrypted documents are not accepted")
    bomb = DocumentRejected(422, "archive expands too much: refusing a possible zip bomb")
    if sum(entry.file_size for entry in entries) > max_unpacked_bytes:
        raise bomb
    for entry in entries:
        # A zero compressed size with content behind it is an infinite ratio, not a pass.
        if entry.file_size > entry.compress_size * _MAX_RATIO:
            raise bomb


def _read_mimetype(archive: zipfile.ZipFile) -> bytes | None:
    entry = archive.getinfo(_MIMETYPE_ENTRY)
    if entry.file_size >= _MAX_MIMETYPE_BYTES:
        return None
    # An unsupported compression method raises NotImplementedError: such an entry cannot be
    # the mimetype of an ODT, whose packages store it uncompressed.
    try:
        with archive.open(entry) as stream:
            # The cap holds even if the entry inflates past its declared size.
            return stream.read(_MAX_MIMETYPE_BYTES)
    except NotImplementedError:
        return None


def sanitise_filename(name: str | None, content_type: str, *, max_length: int = 120) -> str:
    """A safe label for an uploaded file: its own name without any path, invisible or
    control characters, at most ``max_length`` characters, ending in the extension of the
    detected ``content_type``."""
    extension = EXTENSIONS[content_type]
    room = max_length - len(extension)
    if room < 1:
        raise ValueError("max_length leaves no room for a name before the extension")
    # Some clients percent-encode the multipart file name (httpx does): decode it first so
    # the rules below see the characters it really names.
    label = unquote(name or "", errors="replace")
    # A C-string consumer would stop at the NUL, so what follows it is never the real name.
    label = label.split("\x00", 1)[0]
    # Whitespace controls (tab, newline) separate words: turn them into spaces, not nothing.
    label = "".join(
        " " if char.isspace() else char
        for char in label
        if char.isspace() or unicodedata.category(char) not in _INVISIBLE_CATEGORIES
    )
    label = unicodedata.normalize("NFC", label)
    label = _PATH_SEPARATORS.split(label)[-1]
    label = " ".join(label.split()).lstrip(". ")
    stem, dot, suffix = label.rpartition(".")
    if not (dot and _EXTENSION_LIKE.fullmatch(suffix)):
        stem = label
    stem = stem.rstrip(". ")[:room].rstrip(". ") or _FALLBACK_STEM[:room]
    return stem + extension


def content_disposition(filename: str) -> str:
    """An RFC 6266 ``attachment`` value: an ASCII ``filename`` for old clients and the exact
    name, UTF-8 and percent-encoded (RFC 8187), in ``filename*``."""
    # Quotes and backslashes would end or escape the quoted-string; controls (CR, LF) would
    # split the header.
    fallback = "".join(
        char if char.isascii() and char.isprintable() else "_"
        for char in filename
        if char not in '"\\'
    )
    encoded = quote(filename, safe="", errors="replace")
    return f"attachment; filename=\"{fallback or _FALLBACK_STEM}\"; filename*=UTF-8''{encoded}"
