"""What a DOCX or ODT carries besides text: macros, embedded programs, archives inside the
archive, entry names that escape the folder they are extracted to, targets outside the
document that Word fetches on opening, and bytes around the archive that another kind of
reader would take for a file of its own.

Entries are judged by their first bytes (read through zipfile, which inflates no more than
asked), by their names, and, for DOCX, by the content types Word uses to decide what a part
is: a macro project renamed ``word/notes.dat`` is still declared as one there.
"""

import os
import re
import struct
import zipfile
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from app.applications.rejection import DocumentRejected

MACROS = "the document contains macros"
OBJECTS = "the document contains embedded objects (ActiveX or OLE), which can run code"
PROGRAM = "the document contains a program"
NESTED_ARCHIVE = "the document contains another archive inside it"
UNSAFE_PATH = "the document contains an entry whose name leaves its folder (../, /, \\ or C:)"
POLYGLOT = (
    "the file is not a plain document: it has data before or after the archive, "
    "or is also readable as a PDF"
)
UNREADABLE_TYPES = "corrupt document: its content types cannot be read"
EXTERNAL = "the document loads content from outside itself (a remote template, object or image)"
UNREADABLE_RELATIONSHIPS = "corrupt document: its relationships cannot be read"

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_CONTENT_TYPES = "[Content_Types].xml"
_MAX_XML_BYTES = 1024 * 1024
# tar's "ustar" magic sits at offset 257, the furthest any signature below needs.
_HEAD_BYTES = 262
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ARCHIVES = (
    b"PK\x03\x04",  # zip, and every format built on it (docx, xlsx, jar, odt, apk...)
    b"PK\x05\x06",  # an empty zip
    b"PK\x07\x08",  # a spanned zip
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",  # gzip
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",  # zstandard
    b"MSCF",  # cabinet
)
# Programs by their first bytes: the same as a whole upload is refused for.
PROGRAMS = (
    b"MZ",
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
# What Word calls the VBA project and its data; ".docm" parts are "macroEnabled".
_MACRO_TYPES = ("vbaproject", "vbadata", "macroenabled")
_OBJECT_TYPES = ("activex", "oleobject")
_MACRO_NAMES = re.compile(r"(^|/)(vbaproject\.bin|vbadata\.xml|vbaprojectsignature\w*\.bin)$")
# ODF keeps Basic modules under Basic/ and Python or JavaScript macros under Scripts/.
_ODF_MACRO_FOLDERS = ("basic/", "scripts/")
_OBJECT_NAMES = re.compile(r"(^|/)(activex/|(activex|oleobject)[^/]*\.bin$)")
_DRIVE = re.compile(r"^[A-Za-z]:")
_END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"
_END_RECORD_LENGTH = 22
_PDF_HEADER = b"%PDF-"
_PDF_HEADER_WINDOW = 1024


def check_archive(file: BinaryIO, archive: zipfile.ZipFile, content_type: str) -> None:
    """Raise DocumentRejected (422) for anything in ``archive`` but the document itself.
    zipfile's own errors (a local header that disagrees with the directory) pass through."""
    _check_layout(file, archive)
    entries = archive.infolist()
    for entry in entries:
        if _unsafe_name(entry):
            raise DocumentRejected(422, UNSAFE_PATH)
    for entry in entries:
        _check_name(entry.filename.lower())
    if content_type == _DOCX:
        _check_content_types(archive)
        for entry in entries:
            if entry.filename.lower().endswith(".rels"):
                _check_relationships(archive, entry)
    for entry in entries:
        if not entry.is_dir():
            _check_head(_head(archive, entry))


def _check_layout(file: BinaryIO, archive: zipfile.ZipFile) -> None:
    """The archive fills the file: its first entry at offset 0, its end record last. zipfile
    tolerates bytes before (a self-extractor's program) and after (anything) the archive,
    and so do PDF readers, which look for their header anywhere in the first kilobyte."""
    entries = archive.infolist()
    if entries and min(entry.header_offset for entry in entries) != 0:
        raise DocumentRejected(422, POLYGLOT)
    file.seek(0)
    if _PDF_HEADER in file.read(_PDF_HEADER_WINDOW):
        raise DocumentRejected(422, POLYGLOT)
    end = end_record(file)
    if end is None:
        raise DocumentRejected(422, POLYGLOT)
    tail, position = end
    (comment_length,) = struct.unpack_from("<H", tail, position + 20)
    if position + _END_RECORD_LENGTH + comment_length != len(tail):
        raise DocumentRejected(422, POLYGLOT)


def _unsafe_name(entry: zipfile.ZipInfo) -> bool:
    # orig_filename keeps what zipfile cuts at a NUL, which an extractor in C would not.
    name = entry.orig_filename
    return (
        "\x00" in name
        or "\\" in name
        or name.startswith("/")
        or bool(_DRIVE.match(name))
        or ".." in name.split("/")
    )


def _check_name(name: str) -> None:
    if _MACRO_NAMES.search(name) or name.startswith(_ODF_MACRO_FOLDERS):
        raise DocumentRejected(422, MACROS)
    if _OBJECT_NAMES.search(name):
        raise DocumentRejected(422, OBJECTS)


def _check_content_types(archive: zipfile.ZipFile) -> None:
    types = _parse(archive, archive.getinfo(_CONTENT_TYPES), UNREADABLE_TYPES)
    for element in types.iter():
        declared = element.get("ContentType", "").lower()
        if any(kind in declared for kind in _MACRO_TYPES):
            raise DocumentRejected(422, MACROS)
        if any(kind in declared for kind in _OBJECT_TYPES):
            raise DocumentRejected(422, OBJECTS)


def _check_relationships(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    """Word fetches an external target when the document opens: a template (which may bring
    macros), an OLE object, a frame, an image (which leaks the reader's address, and on
    Windows its NTLM hash for a \\\\host path). Links wait for a click, and a path on the
    author's own disk (a CV made from an Office template names the template there) reaches
    nothing on the recruiter's machine."""
    root = _parse(archive, entry, UNREADABLE_RELATIONSHIPS)
    for element in root.iter():
        if element.get("TargetMode", "").lower() != "external":
            continue
        if element.get("Type", "").endswith("/hyperlink"):
            continue
        if _remote(element.get("Target", "")):
            raise DocumentRejected(422, EXTERNAL)


def _remote(target: str) -> bool:
    path = target.strip().replace("\\", "/")
    if path.startswith("//"):
        return True
    parts = urlsplit(path)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return parts.netloc.lower() not in ("", "localhost") or parts.path.startswith("//")
    # No scheme: a relative path; one letter: a drive ("C:/Users/...").
    return len(scheme) > 1


def _parse(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, unreadable: str) -> Any:
    if entry.file_size > _MAX_XML_BYTES:
        raise DocumentRejected(422, unreadable)
    with archive.open(entry) as stream:
        data = stream.read(_MAX_XML_BYTES + 1)
    try:
        # OPC forbids DTDs, so defusedxml's refusal of entities and DTDs costs no real file.
        return fromstring(data)
    except (ParseError, DefusedXmlException):
        raise DocumentRejected(422, unreadable) from None


def _head(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(entry) as stream:
            return stream.read(_HEAD_BYTES)
    except NotImplementedError:
        # A compression method zipfile cannot read: neither can we vouch for the entry.
        raise zipfile.BadZipFile("unsupported compression method") from None


def _check_head(head: bytes) -> None:
    if head.startswith(_OLE2):
        # VBA projects and OLE objects are both OLE2 compound files, whatever their name.
        raise DocumentRejected(422, OBJECTS)
    if head.startswith(_ARCHIVES) or head[257:262] == b"ustar":
        raise DocumentRejected(422, NESTED_ARCHIVE)
    if head.startswith(PROGRAMS):
        raise DocumentRejected(422, PROGRAM)


def end_record(file: BinaryIO) -> tuple[bytes, int] | None:
    """The file's last 64 KiB + 22 bytes (where the end-of-central-directory record and its
    comment must lie) and the record's position in them; None when there is no whole one."""
    file.seek(0, os.SEEK_END)
    size = file.tell()
    tail_length = min(size, _END_RECORD_LENGTH + 0xFFFF)
    file.seek(size - tail_length)
    tail = file.read(tail_length)
    position = tail.rfind(_END_OF_CENTRAL_DIRECTORY)
    if position < 0 or position + _END_RECORD_LENGTH > len(tail):
        return None
    return tail, position
