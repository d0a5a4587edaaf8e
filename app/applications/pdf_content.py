"""What a PDF would do when a recruiter opens it, read from its object graph with pypdf.

A byte search for ``/JavaScript`` misses everything inside compressed object streams and
hex-escaped names (``/J#61vaScript``), and flags harmless text that merely mentions them.
pypdf parses the file as a reader does (cross-reference table, object streams, escapes), so
the walk below sees the dictionaries a reader would act on: every object reachable from the
catalog, whatever the route to it (open action, additional actions of the catalog, pages,
annotations and form fields, outline items, name trees, chained ``/Next`` actions).

Nothing is decoded except the object streams that hold the objects themselves: page
contents, images and fonts are never inflated, because none of them can carry an action.
"""

import time
from collections.abc import Iterator
from typing import BinaryIO

from pypdf import Configuration, PdfReader, apply_configuration
from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    TextStringObject,
)

from app.applications.rejection import DocumentRejected

JAVASCRIPT = "the PDF contains JavaScript"
LAUNCH = "the PDF contains an action that opens another file or program"
EMBEDDED_FILES = "the PDF contains embedded files"
RICH_MEDIA = "the PDF contains rich media (Flash, video or 3D), which can run code"
XFA = "the PDF contains an XFA form, which can run scripts"
ENCRYPTED = "encrypted PDFs are not accepted: send the file without a password or protection"
UNREADABLE = "corrupt document: not a readable PDF"
TOO_COMPLEX = "the PDF is too complex to check: send a simpler export of it"

# Actions (ISO 32000-2, 12.6.4) that run code or reach outside the document: another file
# (GoToR), a file embedded in this one (GoToE), a program (Launch), data imported from a
# file into the form (ImportData), a script inside rich media (RichMediaExecute).
_ACTIONS = {
    "/JavaScript": JAVASCRIPT,
    "/Launch": LAUNCH,
    "/GoToR": LAUNCH,
    "/GoToE": EMBEDDED_FILES,
    "/ImportData": LAUNCH,
    "/RichMediaExecute": RICH_MEDIA,
}
# Keys that give a dictionary away wherever it sits: a script (/JS in an action, the
# /JavaScript name tree), files (/EmbeddedFiles name tree, /EF of a file specification),
# rich media content, and an XFA form in the AcroForm dictionary.
_KEYS = {
    "/JS": JAVASCRIPT,
    "/JavaScript": JAVASCRIPT,
    "/EmbeddedFiles": EMBEDDED_FILES,
    "/EF": EMBEDDED_FILES,
    "/RichMediaContent": RICH_MEDIA,
    "/XFA": XFA,
}
_TYPES = {"/EmbeddedFile": EMBEDDED_FILES}
_SUBTYPES = {
    "/FileAttachment": EMBEDDED_FILES,
    "/RichMedia": RICH_MEDIA,
    # 3D annotations run JavaScript of their own (ISO 32000-2, 13.6.2).
    "/3D": RICH_MEDIA,
}

# A CV of a few pages has a few hundred objects, a long portfolio a few tens of thousands;
# the limits stop a crafted graph from holding a worker, whatever the file's size.
MAX_NODES = 1_000_000
MAX_SECONDS = 5.0
# What pypdf may inflate to read object streams. The defaults (75 MB a stream) are meant
# for documents one trusts; a 10 MB upload has no business unpacking to more than this.
_INFLATE_LIMIT = 16 * 1024 * 1024
_CONFIGURATION = Configuration(
    zlib_maximum_output_length=_INFLATE_LIMIT,
    lzw_maximum_output_length=_INFLATE_LIMIT,
    run_length_maximum_output_length=_INFLATE_LIMIT,
    brotli_maximum_output_length=_INFLATE_LIMIT,
    jbig2_maximum_output_length=_INFLATE_LIMIT,
    array_based_stream_maximum_output_length=_INFLATE_LIMIT,
    image_maximum_buffer_size=_INFLATE_LIMIT,
    stream_decoding_work_maximum_length=4 * _INFLATE_LIMIT,
    maximum_declared_stream_length=_INFLATE_LIMIT,
    # JBIG2 is decoded by running an outside program: never for an upload.
    jbig2dec_binary=None,
    # Otherwise pypdf copies its deprecated module-level constants over the limits above.
    disable_legacy_handling=True,
)


def check_pdf(
    file: BinaryIO, *, max_nodes: int = MAX_NODES, max_seconds: float = MAX_SECONDS
) -> None:
    """Raise DocumentRejected (422) if the PDF cannot be read, is encrypted, or holds
    anything that runs code, opens other files or carries files of its own."""
    file.seek(0)
    with apply_configuration(_CONFIGURATION):
        try:
            reader = PdfReader(file, strict=False)
            if reader.is_encrypted:
                raise DocumentRejected(422, ENCRYPTED)
            root = reader.trailer.raw_get("/Root")
            _walk(root, max_nodes=max_nodes, deadline=time.monotonic() + max_seconds)
        except DocumentRejected:
            raise
        except (DependencyError, FileNotDecryptedError):
            # AES needs a crypto library pypdf did not find: the file is encrypted either way.
            raise DocumentRejected(422, ENCRYPTED) from None
        except (LimitReachedError, RecursionError):
            raise DocumentRejected(422, TOO_COMPLEX) from None
        except Exception as error:
            # pypdf's errors on malformed input are not a closed set (its own, but also
            # ValueError, KeyError, TypeError, zlib.error... from deep inside); a PDF it cannot
            # read is one we cannot vouch for, and one a lenient reader might run anyway.
            raise DocumentRejected(422, UNREADABLE) from error


def _walk(root: object, *, max_nodes: int, deadline: float) -> None:
    if not isinstance(root, IndirectObject | DictionaryObject):
        raise DocumentRejected(422, UNREADABLE)
    seen: set[tuple[int, int]] = set()
    pending: list[object] = [root]
    nodes = 0
    while pending:
        node = pending.pop()
        nodes += 1
        if nodes > max_nodes or (nodes % 1024 == 0 and time.monotonic() > deadline):
            raise DocumentRejected(422, TOO_COMPLEX)
        if isinstance(node, IndirectObject):
            reference = (node.idnum, node.generation)
            if reference in seen:
                continue
            seen.add(reference)
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            _check_dictionary(node)
            # dict.values, not the mapping's own accessors: pypdf resolves references on
            # access, and the walk must see them to visit each object once.
            pending.extend(dict.values(node))
        elif isinstance(node, ArrayObject):
            pending.extend(list.__iter__(node))


def _check_dictionary(node: DictionaryObject) -> None:
    for key in _present(node, _KEYS):
        raise DocumentRejected(422, _KEYS[key])
    action = _name(node, "/S")
    if action in _ACTIONS:
        raise DocumentRejected(422, _ACTIONS[action])
    if action == "/URI":
        _check_uri(node)
    message = _TYPES.get(_name(node, "/Type") or "")
    if message:
        raise DocumentRejected(422, message)
    message = _SUBTYPES.get(_name(node, "/Subtype") or "")
    if message:
        raise DocumentRejected(422, message)


def _check_uri(node: DictionaryObject) -> None:
    """A link is what CVs are made of (a portfolio, a profile); a link that is a script or
    a path on the recruiter's machine or network is not."""
    value = dict.get(node, "/URI")
    if isinstance(value, IndirectObject):
        value = value.get_object()
    if isinstance(value, TextStringObject | ByteStringObject):
        uri = value.original_bytes if isinstance(value, TextStringObject) else bytes(value)
        scheme = uri.strip().split(b":", 1)[0].lower() if b":" in uri else b""
        if scheme in (b"javascript", b"vbscript"):
            raise DocumentRejected(422, JAVASCRIPT)
        if scheme == b"file" or uri.strip().startswith(b"\\\\"):
            raise DocumentRejected(422, LAUNCH)


def _present(node: DictionaryObject, keys: dict[str, str]) -> Iterator[str]:
    return (key for key in keys if key in node)


def _name(node: DictionaryObject, key: str) -> str | None:
    value = dict.get(node, key)
    if isinstance(value, IndirectObject):
        value = value.get_object()
    return str(value) if isinstance(value, NameObject) else None
