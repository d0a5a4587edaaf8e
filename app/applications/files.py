"""An application's uploaded files: checked before anything is written, read back for the
request's fingerprint, and stored (or removed again when the application is not)."""

import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import UploadFile

from app.applications import documents
from app.applications.models import ApplicationDocument, DocumentKind
from app.core.errors import (
    AppError,
    FieldError,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
)
from app.core.storage import ObjectTooLarge, Storage

log = logging.getLogger("vocation.applications")

CHUNK = 64 * 1024
# Every document's key starts with it: the orphan sweep looks there and nowhere else.
FOLDER = "applications"


@dataclass(slots=True)
class CheckedFile:
    kind: DocumentKind
    upload: UploadFile
    content_type: str
    file_name: str


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file in storage, as the row that will describe it needs it."""

    kind: DocumentKind
    storage_key: str
    file_name: str
    content_type: str
    size: int
    sha256: str

    def row(self, application_id: uuid.UUID) -> ApplicationDocument:
        return ApplicationDocument(
            application_id=application_id,
            kind=self.kind.value,
            storage_key=self.storage_key,
            file_name=self.file_name,
            content_type=self.content_type,
            size=self.size,
            sha256=self.sha256,
        )


def check_files(
    uploads: list[tuple[DocumentKind, UploadFile]], *, max_bytes: int, max_unpacked: int
) -> list[CheckedFile]:
    checked = []
    for kind, upload in uploads:
        try:
            content_type = documents.detect_type(
                upload.file, max_bytes=max_bytes, max_unpacked_bytes=max_unpacked
            )
        except documents.DocumentRejected as rejected:
            raise _document_problem(rejected, kind) from None
        name = documents.sanitise_filename(upload.filename, content_type)
        checked.append(CheckedFile(kind, upload, content_type, name))
    return checked


_REJECTIONS: dict[int, type[AppError]] = {
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: Unprocessable,
}


def _document_problem(rejected: documents.DocumentRejected, kind: DocumentKind) -> AppError:
    problem = _REJECTIONS.get(rejected.status, Unprocessable)
    return problem(str(rejected), errors=[FieldError(field=kind.value, message=str(rejected))])


def documents_too_large(max_bytes: int) -> AppError:
    return _document_problem(
        documents.DocumentRejected(413, f"each file is at most {max_bytes} bytes"),
        DocumentKind.cv,
    )


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    await upload.seek(0)
    while chunk := await upload.read(CHUNK):
        yield chunk


async def sha256(checked: CheckedFile) -> str:
    digest = hashlib.sha256()
    async for chunk in _chunks(checked.upload):
        digest.update(chunk)
    return digest.hexdigest()


async def store(storage: Storage, files: list[CheckedFile], *, max_bytes: int) -> list[StoredFile]:
    """Store every file, or none: on failure, what was stored is removed again."""
    keys: list[str] = []
    stored = []
    try:
        for checked in files:
            key = f"{FOLDER}/{uuid.uuid4().hex}"
            # Before saving: a save that fails half-way may leave part of the object.
            keys.append(key)
            saved = await storage.save(
                key, _chunks(checked.upload), content_type=checked.content_type, max_bytes=max_bytes
            )
            stored.append(
                StoredFile(
                    checked.kind,
                    key,
                    checked.file_name,
                    checked.content_type,
                    saved.size,
                    saved.sha256,
                )
            )
    except BaseException as error:
        await _delete_quietly(storage, keys)
        if isinstance(error, ObjectTooLarge):
            raise documents_too_large(max_bytes) from None
        raise
    return stored


async def remove(storage: Storage, files: list[StoredFile]) -> None:
    await _delete_quietly(storage, [stored.storage_key for stored in files])


async def _delete_quietly(storage: Storage, keys: list[str]) -> None:
    # The first failure is the one to report; a failed clean-up is logged (the key is
    # random, no personal data) and left to an operator.
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:
            log.exception("could not remove stored object %s after a failed application", key)
