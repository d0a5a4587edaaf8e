"""Uploaded documents: type detection by content, and the names shown to recruiters."""

import io
import tempfile
import zipfile
from typing import BinaryIO, cast
from urllib.parse import unquote

import pytest

from app.applications.documents import (
    DOCX,
    ODT,
    PDF,
    DocumentRejected,
    content_disposition,
    detect_type,
    sanitise_filename,
)
from tests.applications.files import build_pdf

MAX_BYTES = 5 * 1024 * 1024

# One page, with the cross-reference table a reader needs to find it.
MINIMAL_PDF = build_pdf()

CONTENT_TYPES = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml"
 ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>"""
RELS = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Target="word/document.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>
</Relationships>"""
WORD_DOCUMENT = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>Curriculum vitae</w:t></w:r></w:p></w:body>
</w:document>"""
ODT_CONTENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">
<office:body><office:text><text:p>Lettre de motivation</text:p></office:text></office:body>
</office:document-content>"""
ODT_MANIFEST = b"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
 manifest:version="1.3">
<manifest:file-entry manifest:full-path="/"
 manifest:media-type="application/vnd.oasis.opendocument.text"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def zip_of(*entries: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def make_docx() -> bytes:
    return zip_of(
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", RELS),
        ("word/document.xml", WORD_DOCUMENT),
    )


def make_odt(mimetype: bytes = ODT.encode()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # As the ODF spec asks: first, and stored, so that `file` can sniff it at offset 38.
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", ODT_CONTENT)
        archive.writestr("META-INF/manifest.xml", ODT_MANIFEST)
    return buffer.getvalue()


def with_renamed_local_header(data: bytes, name: bytes) -> bytes:
    """Rename the first entry in its local header only, so that it disagrees with the
    central directory, as in archives crafted to show one thing to each kind of reader."""
    start = data.find(name)
    return data[:start] + name[:-1] + b"X" + data[start + len(name) :]


def with_encryption_flag(data: bytes) -> bytes:
    """Set the "encrypted" bit in every local and central header, as a password-protected
    archive would have it (the content itself need not be encrypted for the check)."""
    patched = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = patched.find(signature)
        while start != -1:
            patched[start + flag_offset] |= 0x1
            start = patched.find(signature, start + 1)
    return bytes(patched)


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    # 200 MB of zeros, streamed in 1 MB chunks so they are never in memory at once;
    # level 1 deflates them in a fraction of a second and still reaches about 230:1.
    buffer = io.BytesIO()
    chunk = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("word/document.xml", "w", force_zip64=True) as entry,
    ):
        for _ in range(200):
            entry.write(chunk)
    return buffer.getvalue()


def detect(data: bytes, **limits: int) -> str:
    file = io.BytesIO(data)
    file.seek(7 if data else 0)  # detect_type must not rely on the caller's position
    try:
        return detect_type(file, **{"max_bytes": MAX_BYTES, **limits})
    finally:
        assert file.tell() == 0


def rejection(data: bytes, **limits: int) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as caught:
        detect(data, **limits)
    assert str(caught.value) == caught.value.message
    return caught.value


# Detection: what is accepted


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(MINIMAL_PDF, PDF, id="pdf"),
        pytest.param(make_docx(), DOCX, id="docx"),
        pytest.param(make_odt(), ODT, id="odt"),
    ],
)
def test_accepted_documents(data: bytes, expected: str) -> None:
    assert detect(data) == expected


def test_a_spooled_upload_rolled_to_disk_is_read_in_place() -> None:
    # What python-multipart hands over for anything larger than its memory threshold.
    with tempfile.SpooledTemporaryFile(max_size=1024) as spooled:
        spooled.write(make_docx())
        spooled.rollover()
        assert detect_type(cast(BinaryIO, spooled), max_bytes=MAX_BYTES) == DOCX
        assert spooled.tell() == 0


def test_a_file_of_exactly_max_bytes_is_accepted() -> None:
    assert detect(MINIMAL_PDF, max_bytes=len(MINIMAL_PDF)) == PDF


# Detection: size


def test_an_empty_file_is_422() -> None:
    rejected = rejection(b"")
    assert (rejected.status, rejected.message) == (422, "empty file")


def test_a_file_over_max_bytes_is_413() -> None:
    assert rejection(MINIMAL_PDF, max_bytes=len(MINIMAL_PDF) - 1).status == 413


def test_the_size_is_measured_without_reading_the_file() -> None:
    class Unreadable(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise AssertionError("the file was read")

    with pytest.raises(DocumentRejected) as caught:
        detect_type(Unreadable(b"x" * 2048), max_bytes=1024)
    assert caught.value.status == 413


# Detection: not a document we take


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56) + b"PE\x00\x00", id="exe-named-cv.pdf"
        ),
        pytest.param(b"MZ\x90\x00" + bytes(60) + b"%PDF-1.7\n", id="exe-carrying-pdf-header"),
        pytest.param(b"\x7fELF\x02\x01\x01" + bytes(9) + b"%PDF-1.4", id="elf"),
        pytest.param(b"#!/bin/sh\n# %PDF-1.4\nrm -rf ~\n", id="script"),
        pytest.param(b"<!DOCTYPE html><html><script>alert(1)</script></html>", id="html"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(32), id="png"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(32), id="ole2-doc"),
        pytest.param(b" " * 1020 + MINIMAL_PDF, id="pdf-header-after-1024"),
        pytest.param(b"plain text, not a CV", id="text"),
        pytest.param(zip_of(("notes.txt", b"hello")), id="plain-zip"),
        pytest.param(zip_of(("word/document.xml", WORD_DOCUMENT)), id="docx-without-content-types"),
        pytest.param(make_odt(b"application/vnd.oasis.opendocument.spreadsheet"), id="ods"),
        pytest.param(make_odt(ODT.encode() + b"\n"), id="odt-mimetype-not-exact"),
        pytest.param(make_odt(ODT.encode() + b" " * 100), id="odt-mimetype-too-long"),
    ],
)
def test_other_content_is_415(data: bytes) -> None:
    rejected = rejection(data)
    assert rejected.status == 415
    assert rejected.message == "unsupported type: send a PDF, DOCX or ODT file"


@pytest.mark.parametrize(
    "data",
    [
        # Issue 15: PDF readers open these, and so would a browser or an image viewer.
        pytest.param(b"\xef\xbb\xbf\r\n" + MINIMAL_PDF, id="pdf-after-junk"),
        pytest.param(b" " * 1019 + MINIMAL_PDF, id="pdf-header-ending-at-1024"),
    ],
)
def test_a_pdf_header_after_the_start_is_415(data: bytes) -> None:
    rejected = rejection(data)
    assert rejected.status == 415
    assert rejected.message.startswith("the PDF signature must start the file")


# Detection: archives we refuse to trust


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(make_docx()[: len(make_docx()) // 2], id="truncated"),
        pytest.param(b"PK\x03\x04" + bytes(200), id="garbage-after-signature"),
        pytest.param(with_encryption_flag(make_docx()), id="encrypted"),
        pytest.param(with_renamed_local_header(make_odt(), b"mimetype"), id="lying-local-header"),
    ],
)
def test_unusable_archives_are_422(data: bytes) -> None:
    assert rejection(data).status == 422


def test_a_zip_bomb_is_422(zip_bomb: bytes) -> None:
    assert len(zip_bomb) < 2 * 1024 * 1024
    rejected = rejection(zip_bomb)
    assert rejected.status == 422
    assert "zip bomb" in rejected.message


def test_a_high_compression_ratio_alone_is_422() -> None:
    data = zip_of(
        ("[Content_Types].xml", CONTENT_TYPES),
        ("word/document.xml", WORD_DOCUMENT + b" " * 1024 * 1024),
    )
    assert rejection(data).status == 422


def test_too_much_unpacked_content_is_422() -> None:
    assert rejection(make_docx(), max_unpacked_bytes=len(WORD_DOCUMENT)).status == 422


def test_too_many_entries_is_422() -> None:
    data = zip_of(
        ("[Content_Types].xml", CONTENT_TYPES),
        ("word/document.xml", WORD_DOCUMENT),
        *((f"word/media/image{i}.png", b"") for i in range(20)),
    )
    assert detect(data) == DOCX
    assert rejection(data, max_entries=10).status == 422


# File names


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("../../x.pdf", PDF, "x.pdf"),
        ("C:\\Users\\a\\cv.pdf", PDF, "cv.pdf"),
        ("cv.pdf\x00.php", PDF, "cv.pdf"),
        ("\u202efdp.exe", PDF, "fdp.pdf"),
        (".bashrc", PDF, "bashrc.pdf"),
        (None, PDF, "document.pdf"),
        ("", DOCX, "document.docx"),
        ("../..", PDF, "document.pdf"),
        ("lettre de motivation.odt", ODT, "lettre de motivation.odt"),
        ("cv.pdf", DOCX, "cv.docx"),
        ("cv.doc", DOCX, "cv.docx"),
        ("CV.PDF", PDF, "CV.pdf"),
        ("Jean.Dupont", PDF, "Jean.Dupont.pdf"),
        ("mon\tcv\n\u00a0 final .pdf", PDF, "mon cv final.pdf"),
        ("cv\u200b\u2066\u2069\ufeff\x1b[31m.pdf", PDF, "cv[31m.pdf"),
        ("CV Ame\u0301lie.pdf", PDF, "CV Am\u00e9lie.pdf"),
        ("cv\udcff.pdf", PDF, "cv.pdf"),
    ],
)
def test_sanitise_filename(name: str | None, content_type: str, expected: str) -> None:
    assert sanitise_filename(name, content_type) == expected


def test_a_right_to_left_override_cannot_disguise_the_extension() -> None:
    name = sanitise_filename("\u202efdp.exe", PDF)
    assert "\u202e" not in name
    assert name.endswith(".pdf")


@pytest.mark.parametrize("name", ["é" * 296 + ".pdf", "x" * 300, "a" * 119 + ".exe"])
def test_long_names_are_cut_keeping_the_extension(name: str) -> None:
    sanitised = sanitise_filename(name, PDF)
    assert len(sanitised) <= 120
    assert sanitised.endswith(".pdf")
    assert sanitised[0] == name[0]


def test_max_length_must_leave_room_for_a_name() -> None:
    assert sanitise_filename("curriculum.pdf", PDF, max_length=8) == "curr.pdf"
    with pytest.raises(ValueError, match="max_length"):
        sanitise_filename("cv.pdf", PDF, max_length=4)


# Content-Disposition


def test_content_disposition_of_an_ascii_name() -> None:
    assert content_disposition("cv.pdf") == (
        "attachment; filename=\"cv.pdf\"; filename*=UTF-8''cv.pdf"
    )


def test_content_disposition_of_a_name_with_quotes_and_accents() -> None:
    name = 'CV "Amélie" \\ été.pdf'
    value = content_disposition(name)
    assert value.startswith("attachment; filename=\"CV Am_lie  _t_.pdf\"; filename*=UTF-8''")
    encoded = value.split("filename*=UTF-8''", 1)[1]
    assert encoded == "CV%20%22Am%C3%A9lie%22%20%5C%20%C3%A9t%C3%A9.pdf"
    assert unquote(encoded) == name


def test_content_disposition_cannot_split_the_header() -> None:
    value = content_disposition("cv\r\nSet-Cookie: a=b.pdf")
    assert "\r" not in value
    assert "\n" not in value
    assert value.isascii()


def test_a_huge_central_directory_is_refused_before_zipfile_reads_it() -> None:
    """Entry comments fill the central directory: zipfile would hold it all in memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for index in range(40):
            info = zipfile.ZipInfo(f"word/media/{index}.bin")
            info.comment = b"c" * 60_000
            archive.writestr(info, b"x")
    buffer.seek(0)
    with pytest.raises(DocumentRejected) as rejected:
        detect_type(buffer, max_bytes=10 * 1024 * 1024)
    assert rejected.value.status == 422
    assert buffer.tell() == 0
