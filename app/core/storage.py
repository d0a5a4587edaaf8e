"""Where uploaded documents (CVs, cover letters) live: a folder on disk or an S3 bucket.

Both backends stream: ``save`` hashes and counts the bytes as they arrive and never holds
more than a small buffer, and ``open`` yields the object back chunk by chunk. A ``save``
either stores the whole object or, whatever goes wrong (too large, the backend, the
producer of the chunks, cancellation), leaves nothing behind, so a failed upload never
orphans a file that no database row points to.

Blocking work (file I/O, boto3) runs in worker threads that are always waited for, even
when the calling task is cancelled: an abandoned thread could still write after the
cleanup ran and leave a file or an object behind.
"""

import asyncio
import contextlib
import contextvars
import functools
import hashlib
import logging
import os
import re
import secrets
import tempfile
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import Depends, Request

from app.core.config import Settings
from app.core.private_files import make_private_folders

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("vocation.storage")

T = TypeVar("T")

DEFAULT_CHUNK_SIZE = 64 * 1024
# Chunks are gathered up to this size before a thread writes them: a producer that sends
# tiny chunks would otherwise cost one thread hop each.
_WRITE_BUFFER_BYTES = 64 * 1024
# Small documents never touch the disk on their way to S3; larger ones roll over to a
# temporary file, so memory stays flat whatever the size.
_SPOOL_MEMORY_BYTES = 1024 * 1024
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")
# S3 refuses keys over 1024 bytes; a segment also has to fit NAME_MAX (255) once the
# ".part-<random>" suffix of the temporary file is appended.
_MAX_KEY_LENGTH = 1024
_MAX_SEGMENT_LENGTH = 200


@dataclass(frozen=True, slots=True)
class StoredObject:
    key: str
    size: int
    sha256: str  # hex


@dataclass(frozen=True, slots=True)
class StoredEntry:
    """An object found by ``scan``: its key, and when it was last written (UTC)."""

    key: str
    modified: datetime


class StorageError(Exception):
    """The backend failed: disk, network, S3."""


class ObjectTooLarge(StorageError):
    """More than ``max_bytes`` were streamed to ``save``."""


class ObjectNotFound(StorageError):
    """No object is stored under this key."""


class Storage(Protocol):
    async def save(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str, max_bytes: int
    ) -> StoredObject:
        """Store the chunks under ``key`` (replacing what was there) or, on any failure,
        store nothing and raise."""
        ...

    # A plain ``def``: an async generator function is a function returning an async
    # iterator, which ``async def ... -> AsyncIterator`` (a coroutine) would not match.
    def open(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        """Stream the object's bytes. ObjectNotFound is raised on the first iteration."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""
        ...

    async def exists(self, key: str) -> bool: ...

    def scan(self, folder: str) -> AsyncIterator[StoredEntry]:
        """Every object whose key starts with ``folder/``, in no particular order; on the
        local backend, the temporary files of saves under way or cut short too."""
        ...


def validate_key(key: str) -> str:
    """Keys come from the caller, yet end up in file paths: refuse anything that could
    climb out of the storage root or mean different things on disk and in S3."""
    if (
        len(key) > _MAX_KEY_LENGTH
        or ".." in key
        or not _KEY_PATTERN.fullmatch(key)
        or any(segment == "." or len(segment) > _MAX_SEGMENT_LENGTH for segment in key.split("/"))
    ):
        raise ValueError(
            f"invalid storage key {key[:80]!r}: use segments of [A-Za-z0-9_.-] joined by '/', "
            "without '..' or a leading '/'"
        )
    return key


def _is_key(key: str) -> bool:
    """Whether ``scan`` may list it: what no save could have made is not ours to delete."""
    try:
        validate_key(key)
    except ValueError:
        return False
    return True


async def _in_thread(func: Callable[[], T]) -> T:
    """``asyncio.to_thread`` that does not return before the thread is done.

    When the task is cancelled the thread runs on regardless (threads cannot be
    interrupted), so the cancellation is held back until it ends: the caller's cleanup
    then sees the final state rather than racing a write still in flight."""
    context = contextvars.copy_context()
    future = asyncio.get_running_loop().run_in_executor(None, context.run, func)
    cancelled: asyncio.CancelledError | None = None
    while not future.done():
        try:
            await asyncio.wait({future})
        except asyncio.CancelledError as error:
            cancelled = error
    if cancelled is not None:
        if not future.cancelled():
            future.exception()  # retrieved, so asyncio does not log it as never retrieved
        raise cancelled
    return future.result()


@contextlib.contextmanager
def _disk_errors(action: str, key: str) -> Iterator[None]:
    """OSError from our own files becomes StorageError; the one the chunk producer may
    raise must reach the caller untouched, hence wrapping here rather than in save."""
    try:
        yield
    except OSError as error:
        raise StorageError(f"could not {action} {key!r}: {error}") from error


def _check_max_bytes(max_bytes: int) -> None:
    if max_bytes < 0:
        raise ValueError("max_bytes must not be negative")


async def _stream_to(
    chunks: AsyncIterable[bytes], write: Callable[[bytes | bytearray], object], max_bytes: int
) -> tuple[int, str]:
    """Feed the chunks to ``write`` (called in a thread) and return their size and
    SHA-256, raising ObjectTooLarge as soon as they exceed ``max_bytes``."""
    digest = hashlib.sha256()
    size = 0
    buffer = bytearray()

    def flush(data: bytearray) -> None:
        # hashlib releases the GIL on large buffers, so hashing here keeps the loop free.
        digest.update(data)
        write(data)

    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise ObjectTooLarge(f"more than {max_bytes} bytes")
        buffer += chunk
        if len(buffer) >= _WRITE_BUFFER_BYTES:
            # A fresh buffer rather than clear(): the thread may still be reading this one
            # if the task is cancelled while it writes.
            full, buffer = buffer, bytearray()
            await _in_thread(functools.partial(flush, full))
    if buffer:
        await _in_thread(functools.partial(flush, buffer))
    return size, digest.hexdigest()


class _PartFile:
    """A temporary ``<name>.part-<random>`` file next to its final path, renamed over it
    once complete. Its methods run in threads; the attributes tell the cleanup, whenever
    it runs, what exists on disk."""

    def __init__(self, key: str, root: Path, final: Path) -> None:
        self.key = key
        self.root = root
        self.final = final
        self.part = final.with_name(f"{final.name}.part-{secrets.token_hex(8)}")
        self.file: IO[bytes] | None = None
        self.committed = False

    def create(self) -> None:
        with _disk_errors("store", self.key):
            _make_folders(self.root, self.final.parent)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            self.file = os.fdopen(os.open(self.part, flags, 0o600), "wb")

    def write(self, data: bytes | bytearray) -> None:
        assert self.file is not None
        with _disk_errors("store", self.key):
            self.file.write(data)

    def commit(self) -> None:
        assert self.file is not None
        with _disk_errors("store", self.key):
            self.file.flush()
            # Durable before visible: after a crash the final name holds the whole
            # document or the previous one, never a truncated file.
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.part, self.final)
        self.committed = True

    def discard(self) -> None:
        """Synchronous on purpose: it runs in exception handlers, also on cancellation,
        where awaiting a thread could be interrupted; a close and an unlink are quick."""
        if self.file is None:
            return  # the part file was never created
        self.file.close()
        try:
            (self.final if self.committed else self.part).unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove %s after a failed save", self.part, exc_info=True)


def _make_folders(root: Path, folder: Path) -> None:
    folder.relative_to(root)  # never a folder outside the root
    # Every level created gets 0o700, the root's parents too.
    make_private_folders(folder)


class LocalStorage:
    """Files under ``root``, one per key, with the key's folders as folders."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    async def save(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str, max_bytes: int
    ) -> StoredObject:
        _check_max_bytes(max_bytes)
        part = _PartFile(key, self.root, self._path(key))
        try:
            await _in_thread(part.create)
            size, sha256 = await _stream_to(chunks, part.write, max_bytes)
            await _in_thread(part.commit)
        except BaseException:
            part.discard()
            raise
        return StoredObject(key=key, size=size, sha256=sha256)

    def open(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        # Not itself a generator, so that a bad key fails at the call, not at first read.
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        return self._read(key, self._path(key), chunk_size)

    async def _read(self, key: str, path: Path, chunk_size: int) -> AsyncIterator[bytes]:
        try:
            file = await _in_thread(lambda: path.open("rb"))
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
            raise ObjectNotFound(key) from error
        except OSError as error:
            raise StorageError(f"could not open {key!r}: {error}") from error
        try:
            while chunk := await _in_thread(functools.partial(file.read, chunk_size)):
                yield chunk
        except OSError as error:
            raise StorageError(f"could not read {key!r}: {error}") from error
        finally:
            file.close()

    async def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            await _in_thread(functools.partial(path.unlink, missing_ok=True))
        except (IsADirectoryError, NotADirectoryError):
            return  # a folder or a path through a file: no object has this key
        except OSError as error:
            raise StorageError(f"could not delete {key!r}: {error}") from error

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        try:
            return await _in_thread(path.is_file)
        except OSError as error:
            raise StorageError(f"could not check {key!r}: {error}") from error

    def scan(self, folder: str) -> AsyncIterator[StoredEntry]:
        return self._scan(self._path(folder))

    async def _scan(self, top: Path) -> AsyncIterator[StoredEntry]:
        pending = [top]
        while pending:
            entries, folders = await _in_thread(functools.partial(self._list, pending.pop()))
            pending.extend(folders)
            for entry in entries:
                yield entry

    def _list(self, folder: Path) -> tuple[list[StoredEntry], list[Path]]:
        entries: list[StoredEntry] = []
        folders: list[Path] = []
        try:
            with os.scandir(folder) as listing:
                for item in listing:
                    try:
                        if item.is_dir(follow_symlinks=False):
                            folders.append(Path(item.path))
                            continue
                        # A symlink is not something a save made: left alone.
                        if not item.is_file(follow_symlinks=False):
                            continue
                        modified = item.stat(follow_symlinks=False).st_mtime
                    except FileNotFoundError:
                        continue  # removed meanwhile: a failed save, another sweep
                    key = Path(item.path).relative_to(self.root).as_posix()
                    if _is_key(key):
                        entries.append(StoredEntry(key, datetime.fromtimestamp(modified, UTC)))
        except FileNotFoundError:
            pass  # nothing was ever stored there
        except OSError as error:
            raise StorageError(f"could not list {folder.name!r}: {error}") from error
        return entries, folders


_S3_ERRORS = (BotoCoreError, ClientError, Boto3Error)
_boto_session_lock = threading.Lock()


@functools.cache
def _boto_session() -> boto3.session.Session:
    # Our own session, not boto3's default one that any library may reconfigure; shared
    # because a fresh session parses the service models again (~0.1 s a client).
    return boto3.session.Session()


_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NotFound", "404"})


def _s3_error(error: Exception, action: str, key: str) -> StorageError:
    if (
        isinstance(error, ClientError)
        and error.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES
    ):
        return ObjectNotFound(key)
    return StorageError(f"could not {action} {key!r} in S3: {error}")


class S3Storage:
    """Objects in an S3-compatible bucket, under ``prefix/``. boto3 is synchronous, so
    each call runs in a thread; its clients are thread-safe and shared."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str = "us-east-1",
    ) -> None:
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        config = Config(
            region_name=region,
            connect_timeout=5,
            read_timeout=30,
            retries={"mode": "standard", "max_attempts": 3},
        )
        if endpoint_url:
            # Other S3 implementations (MinIO, Ceph, Garage…) rarely resolve bucket
            # subdomains, and many reject the CRC checksums botocore sends by default.
            config = config.merge(
                Config(
                    s3={"addressing_style": "path"},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                )
            )
        # Credentials left at None fall back to boto3's chain (environment, instance
        # role). Sessions are not thread-safe, clients are.
        with _boto_session_lock:
            self._client: S3Client = _boto_session().client(
                "s3",
                endpoint_url=endpoint_url or None,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=config,
            )
        # Documents are far below the threshold, so an upload is one PUT streamed from
        # the spool file: atomic, with no multipart upload left over on failure, and no
        # part buffered in memory (s3transfer reads multipart parts of a file object
        # into memory). It already runs in a worker thread: no pool of its own.
        self._transfer = TransferConfig(multipart_threshold=256 * 1024 * 1024, use_threads=False)

    def _object_key(self, key: str) -> str:
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def save(
        self, key: str, chunks: AsyncIterable[bytes], *, content_type: str, max_bytes: int
    ) -> StoredObject:
        _check_max_bytes(max_bytes)
        object_key = self._object_key(key)
        uploaded = False
        # Spooled first: the sha256 metadata must be known before the PUT starts, and a
        # slow client must not hold an S3 connection open.
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY_BYTES) as spool:

            def spool_write(data: bytes | bytearray) -> None:
                with _disk_errors("spool", key):
                    spool.write(data)

            size, sha256 = await _stream_to(chunks, spool_write, max_bytes)

            def upload() -> None:
                nonlocal uploaded
                spool.seek(0)
                self._client.upload_fileobj(
                    spool,
                    self.bucket,
                    object_key,
                    ExtraArgs={"ContentType": content_type, "Metadata": {"sha256": sha256}},
                    Config=self._transfer,
                )
                uploaded = True

            try:
                await _in_thread(upload)
            except (*_S3_ERRORS, OSError) as error:
                raise _s3_error(error, "store", key) from error
            except BaseException:
                # Cancelled while the PUT went through: the caller will never record it.
                if uploaded:
                    await self._discard(object_key)
                raise
        return StoredObject(key=key, size=size, sha256=sha256)

    async def _discard(self, object_key: str) -> None:
        try:
            await _in_thread(
                functools.partial(self._client.delete_object, Bucket=self.bucket, Key=object_key)
            )
        except _S3_ERRORS:
            log.warning("could not remove s3://%s/%s", self.bucket, object_key, exc_info=True)

    def open(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> AsyncIterator[bytes]:
        # Not itself a generator, so that a bad key fails at the call, not at first read.
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        return self._read(key, self._object_key(key), chunk_size)

    async def _read(self, key: str, object_key: str, chunk_size: int) -> AsyncIterator[bytes]:
        try:
            response = await _in_thread(
                functools.partial(self._client.get_object, Bucket=self.bucket, Key=object_key)
            )
        except _S3_ERRORS as error:
            raise _s3_error(error, "open", key) from error
        body = response["Body"]
        try:
            while chunk := await _in_thread(functools.partial(body.read, chunk_size)):
                yield chunk
        except (*_S3_ERRORS, OSError) as error:
            raise _s3_error(error, "read", key) from error
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        object_key = self._object_key(key)
        try:
            await _in_thread(
                functools.partial(self._client.delete_object, Bucket=self.bucket, Key=object_key)
            )
        except _S3_ERRORS as error:
            raise _s3_error(error, "delete", key) from error

    async def exists(self, key: str) -> bool:
        object_key = self._object_key(key)
        try:
            await _in_thread(
                functools.partial(self._client.head_object, Bucket=self.bucket, Key=object_key)
            )
        except _S3_ERRORS as error:
            failure = _s3_error(error, "check", key)
            if isinstance(failure, ObjectNotFound):
                return False
            raise failure from error
        return True

    def scan(self, folder: str) -> AsyncIterator[StoredEntry]:
        return self._scan(folder, self._object_key(folder) + "/")

    async def _scan(self, folder: str, object_prefix: str) -> AsyncIterator[StoredEntry]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        paginator = self._client.get_paginator("list_objects_v2")
        # Lazy: each next() asks for one page of 1,000 keys, in a thread.
        pages = iter(paginator.paginate(Bucket=self.bucket, Prefix=object_prefix))
        while True:
            try:
                page = await _in_thread(functools.partial(next, pages, None))
            except _S3_ERRORS as error:
                raise _s3_error(error, "list", folder) from error
            if page is None:
                return
            for item in page.get("Contents", []):
                key = item["Key"][strip:]
                if _is_key(key):
                    yield StoredEntry(key, item["LastModified"].astimezone(UTC))


def storage_from_settings(settings: Settings) -> Storage:
    """``storage_url`` empty or ``file://<path>`` (relative or absolute, e.g.
    ``file:///srv/uploads``): a folder; ``s3://bucket/prefix``: a bucket."""
    url = settings.storage_url.strip()
    if not url:
        return LocalStorage(settings.upload_dir)
    parts = urlsplit(url)
    if parts.scheme == "file":
        # Everything after "file://" is the path, so that relative folders can be written.
        path = unquote(url[len("file:") :].removeprefix("//"))
        return LocalStorage(Path(path) if path else settings.upload_dir)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError("storage_url s3://bucket/prefix needs a bucket")
        secret = settings.s3_secret_access_key
        return S3Storage(
            bucket=parts.netloc,
            prefix=unquote(parts.path),
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret is not None else None,
            region=settings.s3_region,
        )
    raise ValueError(f"unsupported storage_url scheme {parts.scheme!r}: use file:// or s3://")


def storage_of(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(storage_of)]
