"""Issue 15, security item 8: documents that would run code, launch files, carry other
files or read as another type are refused, each with a plain reason on its field."""

import io
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.applications.documents import DOCX, ODT, PDF, DocumentRejected, detect_type
from app.applications.models import Application
from app.applications.pdf_content import check_pdf
from tests.applications import hostile
from tests.applications.conftest import World, apply
from tests.applications.files import build_pdf, docx, odt, pdf

MAX_BYTES = 10 * 1024 * 1024


def rejection(data: bytes) -> DocumentRejected:
    file = io.BytesIO(data)
    with pytest.raises(DocumentRejected) as caught:
        detect_type(file, max_bytes=MAX_BYTES)
    assert file.tell() == 0
    return caught.value


# What is still accepted


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(pdf(), PDF, id="hand-made-pdf"),
        pytest.param(pdf(400_000), PDF, id="padded-pdf"),
        pytest.param(hostile.clean_pdf_with_links(), PDF, id="pypdf-pdf-with-link-and-bookmark"),
        pytest.param(docx(), DOCX, id="docx"),
        pytest.param(odt(), ODT, id="odt"),
        pytest.param(hostile.docx_with_entry_named("word/media/image1.png"), DOCX, id="image"),
        pytest.param(hostile.docx_with_a_web_link(), DOCX, id="docx-with-a-web-link"),
        pytest.param(hostile.docx_from_an_office_template(), DOCX, id="docx-office-template"),
        pytest.param(hostile.pdf_link_to(b"https://example.org/cv"), PDF, id="pdf-web-link"),
        pytest.param(hostile.pdf_link_to(b"mailto:camille@example.org"), PDF, id="pdf-mailto"),
    ],
)
def test_clean_documents_are_accepted(data: bytes, expected: str) -> None:
    assert detect_type(io.BytesIO(data), max_bytes=MAX_BYTES) == expected


# Polyglots: the signature must start the file


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(hostile.html_carrying_pdf_header()[:1024], id="html"),
        pytest.param(hostile.svg_carrying_pdf_header(), id="svg"),
        pytest.param(b"\xef\xbb\xbf\r\n" + pdf(), id="bom-before-pdf"),
    ],
)
def test_a_pdf_signature_after_the_start_is_refused(data: bytes) -> None:
    assert b"%PDF-" in data[:1024]
    rejected = rejection(data)
    assert rejected.status == 415
    assert "must start the file" in rejected.message


@pytest.mark.parametrize(
    "make",
    [
        hostile.pdf_with_zip_appended,
        hostile.docx_with_data_before,
        hostile.docx_with_data_after,
        hostile.docx_carrying_pdf_header,
    ],
)
def test_files_readable_as_two_types_are_refused(make: Callable[[], bytes]) -> None:
    rejected = rejection(make())
    assert rejected.status == 422
    assert "not a plain document" in rejected.message


# PDF: actions, scripts, files


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (hostile.pdf_open_action_javascript, "the PDF contains JavaScript"),
        (hostile.pdf_names_javascript, "the PDF contains JavaScript"),
        (hostile.pdf_page_additional_action, "the PDF contains JavaScript"),
        (hostile.pdf_catalog_additional_action, "the PDF contains JavaScript"),
        (hostile.pdf_link_running_javascript, "the PDF contains JavaScript"),
        (hostile.pdf_outline_javascript, "the PDF contains JavaScript"),
        (hostile.pdf_escaped_names, "the PDF contains JavaScript"),
        (lambda: hostile.pdf_link_to(b"javascript:alert(1)"), "the PDF contains JavaScript"),
        (
            lambda: hostile.pdf_link_to(b"file:///C:/Windows/System32/calc.exe"),
            "the PDF contains an action that opens another file or program",
        ),
        (
            lambda: hostile.pdf_link_to(b"\\\\\\\\attacker.example\\\\share"),
            "the PDF contains an action that opens another file or program",
        ),
        (hostile.pdf_launch, "the PDF contains an action that opens another file or program"),
        (hostile.pdf_go_to_remote, "the PDF contains an action that opens another file or program"),
        (hostile.pdf_embedded_file, "the PDF contains embedded files"),
        (hostile.pdf_xfa, "the PDF contains an XFA form, which can run scripts"),
        (
            hostile.pdf_rich_media,
            "the PDF contains rich media (Flash, video or 3D), which can run code",
        ),
        (
            hostile.pdf_encrypted,
            "encrypted PDFs are not accepted: send the file without a password or protection",
        ),
    ],
)
def test_active_pdfs_are_refused(make: Callable[[], bytes], message: str) -> None:
    rejected = rejection(make())
    assert (rejected.status, rejected.message) == (422, message)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.4\n%%EOF\n", id="header-only"),
        pytest.param(b"%PDF-1.7\n" + bytes(range(256)) * 8, id="garbage"),
        pytest.param(build_pdf()[:200], id="truncated"),
    ],
)
def test_a_pdf_that_cannot_be_read_is_refused(data: bytes) -> None:
    rejected = rejection(data)
    assert (rejected.status, rejected.message) == (422, "corrupt document: not a readable PDF")


def test_a_script_deep_in_a_long_document_is_found_in_time() -> None:
    """Fifty links a page on three hundred pages, the last link chaining to a script."""
    pages = 300
    annotations = 50
    objects: list[bytes] = [b"<</Type/Catalog/Pages 2 0 R>>", b""]
    kids = []
    link = 3 + pages * (annotations + 1)
    for _ in range(pages):
        page = len(objects) + 1
        kids.append(b"%d 0 R" % page)
        first = page + 1
        refs = b" ".join(b"%d 0 R" % number for number in range(first, first + annotations))
        objects.append(b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Annots[%s]>>" % refs)
        objects.extend(
            b"<</Type/Annot/Subtype/Link/Rect[0 0 9 9]/A<</S/URI/URI(https://a.example)>>>>"
            for _ in range(annotations)
        )
    objects[1] = b"<</Type/Pages/Kids[%s]/Count %d>>" % (b" ".join(kids), pages)
    objects.append(b"<</S/JavaScript/JS(app.alert(1))>>")
    objects[-2] = objects[-2].replace(b"/URI(https://a.example)", b"/URI(x)/Next %d 0 R" % link)
    data = build_pdf(tuple(objects))
    started = time.monotonic()
    rejected = rejection(data)
    assert time.monotonic() - started < 5
    assert rejected.message == "the PDF contains JavaScript"


def test_an_object_stream_that_inflates_too_far_is_refused() -> None:
    data = hostile.pdf_object_stream_bomb()
    assert len(data) < 64 * 1024
    assert detect_type(io.BytesIO(hostile.pdf_object_stream_bomb(1000)), max_bytes=MAX_BYTES)
    started = time.monotonic()
    rejected = rejection(data)
    assert time.monotonic() - started < 2
    assert (rejected.status, rejected.message) == (
        422,
        "the PDF is too complex to check: send a simpler export of it",
    )


def test_the_walk_stops_at_its_node_limit() -> None:
    with pytest.raises(DocumentRejected) as caught:
        check_pdf(io.BytesIO(hostile.clean_pdf_with_links()), max_nodes=10)
    assert caught.value.message.startswith("the PDF is too complex to check")
    check_pdf(io.BytesIO(hostile.clean_pdf_with_links()))


# DOCX and ODT: macros, objects, archives, paths


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (hostile.docx_with_macros, "the document contains macros"),
        (hostile.docx_declaring_a_renamed_macro_project, "the document contains macros"),
        (hostile.docm, "the document contains macros"),
        (hostile.odt_with_basic_macros, "the document contains macros"),
        (hostile.odt_with_python_script, "the document contains macros"),
        (
            hostile.docx_with_activex,
            "the document contains embedded objects (ActiveX or OLE), which can run code",
        ),
        (
            hostile.docx_with_ole_object_renamed,
            "the document contains embedded objects (ActiveX or OLE), which can run code",
        ),
        (hostile.docx_with_nested_archive, "the document contains another archive inside it"),
        (
            hostile.docx_with_nested_archive_named_like_xml,
            "the document contains another archive inside it",
        ),
        (hostile.docx_with_gzip, "the document contains another archive inside it"),
        (hostile.docx_with_program, "the document contains a program"),
        (
            hostile.docx_with_remote_template,
            "the document loads content from outside itself (a remote template, object or image)",
        ),
        (
            hostile.docx_with_template_on_a_share,
            "the document loads content from outside itself (a remote template, object or image)",
        ),
        (
            hostile.docx_with_remote_image,
            "the document loads content from outside itself (a remote template, object or image)",
        ),
    ],
)
def test_active_archives_are_refused(make: Callable[[], bytes], message: str) -> None:
    rejected = rejection(make())
    assert (rejected.status, rejected.message) == (422, message)


@pytest.mark.parametrize(
    "name",
    [
        "../../../etc/cron.d/vocation",
        "word/../../evil.xml",
        "/etc/passwd",
        "word\\..\\..\\evil.xml",
        "C:/Users/Public/evil.xml",
    ],
)
def test_entries_that_leave_their_folder_are_refused(name: str) -> None:
    rejected = rejection(hostile.docx_with_entry_named(name))
    assert rejected.status == 422
    assert rejected.message.startswith("the document contains an entry whose name leaves")


# Through the API: a 422 problem naming the field


def stored_files(upload_dir: Path) -> list[Path]:
    return [path for path in upload_dir.rglob("*") if path.is_file()] if upload_dir.exists() else []


async def count_applications(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(Application))).scalar_one())


@pytest.mark.parametrize(
    ("field", "file", "message"),
    [
        (
            "cv",
            ("cv.pdf", hostile.pdf_open_action_javascript(), "application/pdf"),
            "the PDF contains JavaScript",
        ),
        (
            "cover_letter",
            ("lettre.docx", hostile.docx_with_macros(), "application/octet-stream"),
            "the document contains macros",
        ),
        (
            "cover_letter",
            ("lettre.docx", hostile.docx_with_entry_named("../x.xml"), "application/octet-stream"),
            "the document contains an entry whose name leaves its folder (../, /, \\ or C:)",
        ),
        (
            "cv",
            ("cv.pdf", hostile.pdf_embedded_file(), "application/pdf"),
            "the PDF contains embedded files",
        ),
    ],
)
async def test_the_api_answers_422_on_the_field(
    client: httpx.AsyncClient,
    session: AsyncSession,
    world: World,
    upload_dir: Path,
    field: str,
    file: tuple[str, bytes, str],
    message: str,
) -> None:
    files = {field: file}
    response = await apply(client, world.offer.id, **files)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"] == [{"field": field, "message": message}]
    assert problem["detail"] == message
    assert await count_applications(session) == 0
    assert stored_files(upload_dir) == []


def test_a_part_compressed_by_an_unknown_method_is_refused_not_a_crash() -> None:
    # [Content_Types].xml is the first entry: its method (2 bytes) is at offset 8 of the
    # local header and at offset 10 of the central directory's first record. 9 is Deflate64,
    # which zipfile cannot read.
    data = bytearray(hostile._docx_with())
    data[8:10] = (9).to_bytes(2, "little")
    central = data.index(b"PK\x01\x02")
    data[central + 10 : central + 12] = (9).to_bytes(2, "little")
    rejected = rejection(bytes(data))
    assert rejected.status == 422
