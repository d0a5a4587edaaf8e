"""Real, minimal documents for upload tests."""

import io
import zipfile

ONE_PAGE = (
    b"<</Type/Catalog/Pages 2 0 R>>",
    b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
    b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>",
)


def build_pdf(objects: tuple[bytes, ...] = ONE_PAGE, *, size: int = 0) -> bytes:
    """A PDF of ``objects`` (numbered from 1, the first is the catalog) with a correct
    cross-reference table, padded with a comment after the header up to ``size`` bytes."""

    def assemble(padding: bytes) -> bytes:
        parts = [b"%PDF-1.7\n", padding]
        length = sum(map(len, parts))
        offsets = []
        for number, content in enumerate(objects, start=1):
            offsets.append(length)
            parts.append(b"%d 0 obj\n%s\nendobj\n" % (number, content))
            length += len(parts[-1])
        parts.append(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
        parts.extend(b"%010d 00000 n \n" % offset for offset in offsets)
        parts.append(b"trailer\n<</Size %d/Root 1 0 R>>\n" % (len(objects) + 1))
        parts.append(b"startxref\n%d\n%%%%EOF\n" % length)
        return b"".join(parts)

    bare = assemble(b"")
    if size <= len(bare) + 2:
        return bare
    padded = assemble(b"%" + b"x" * (size - len(bare) - 2) + b"\n")
    # startxref's offset may have gained digits: take them off the padding.
    return assemble(b"%" + b"x" * (2 * size - len(padded) - len(bare) - 2) + b"\n")


PDF_BYTES = build_pdf()


def pdf(size: int = 0) -> bytes:
    """A one-page PDF, padded up to ``size`` bytes."""
    return build_pdf(size=size)


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", "<w:document>Lettre de motivation</w:document>")
    return buffer.getvalue()


def odt() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


def zip_bomb(unpacked: int = 60 * 1024 * 1024) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(unpacked // len(chunk)):
                entry.write(chunk)
    return buffer.getvalue()
