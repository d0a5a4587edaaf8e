"""One contract for both storage backends: a folder, and S3 as served by moto's real
HTTP server (so boto3's requests, errors and streaming bodies are the real ones)."""

import asyncio
import hashlib
import os
import random
import stat
import threading
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.core.storage import (
    LocalStorage,
    ObjectNotFound,
    ObjectTooLarge,
    S3Storage,
    Storage,
    StorageError,
    StoredObject,
    storage_from_settings,
)
from tests.s3 import BUCKET, REGION
from tests.s3 import s3_client as _s3_client

KiB = 1024
MiB = 1024 * KiB
PDF = "application/pdf"


def _s3_storage(endpoint: str, bucket: str = BUCKET) -> S3Storage:
    return S3Storage(
        bucket=bucket,
        prefix=f"tests/{uuid.uuid4().hex}",  # a fresh prefix: tests share the bucket
        endpoint_url=endpoint,
        access_key_id="testing",
        secret_access_key="testing",
        region=REGION,
    )


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "uploads")
    # Looked up lazily so that `-k local` never starts the S3 server.
    return _s3_storage(request.getfixturevalue("s3_endpoint"))


@pytest.fixture
def stored(request: pytest.FixtureRequest, storage: Storage) -> Callable[[], list[str]]:
    """Everything the backend holds, looked at behind the storage's back: for a folder
    every file including stray .part files, for S3 every object under the prefix."""
    if isinstance(storage, LocalStorage):
        root = storage.root

        return lambda: [path for path in _paths_under(root) if not (root / path).is_dir()]
    assert isinstance(storage, S3Storage)
    client = _s3_client(request.getfixturevalue("s3_endpoint"))

    def objects() -> list[str]:
        listing = client.list_objects_v2(Bucket=storage.bucket, Prefix=storage.prefix + "/")
        return sorted(item["Key"] for item in listing.get("Contents", []))

    return objects


def _paths_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def new_key(name: str = "cv.pdf") -> str:
    return f"applications/{uuid.uuid4().hex}/{name}"


async def chunks_of(data: bytes, size: int = 64 * KiB) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(storage: Storage, key: str, chunk_size: int = 64 * KiB) -> bytes:
    return b"".join([chunk async for chunk in storage.open(key, chunk_size)])


def expected(key: str, data: bytes) -> StoredObject:
    return StoredObject(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())


async def test_round_trip(storage: Storage) -> None:
    key = new_key()
    data = b"%PDF-1.7\n" + bytes(range(256)) * 40
    assert await storage.save(key, chunks_of(data, 1000), content_type=PDF, max_bytes=MiB) == (
        expected(key, data)
    )
    assert await storage.exists(key)
    assert await read_all(storage, key) == data


async def test_a_multi_megabyte_object_streams_in_chunks(storage: Storage) -> None:
    key = new_key()
    data = random.Random(7).randbytes(5 * MiB + 123)
    stored_object = await storage.save(key, chunks_of(data), content_type=PDF, max_bytes=10 * MiB)
    assert stored_object == expected(key, data)
    chunks = [chunk async for chunk in storage.open(key, 64 * KiB)]
    assert len(chunks) > 1
    assert all(len(chunk) <= 64 * KiB for chunk in chunks)
    assert b"".join(chunks) == data


async def test_an_empty_object(storage: Storage) -> None:
    key = new_key()
    assert await storage.save(key, chunks_of(b""), content_type=PDF, max_bytes=MiB) == (
        expected(key, b"")
    )
    assert await storage.exists(key)
    assert await read_all(storage, key) == b""


async def test_exactly_max_bytes_is_accepted_one_more_is_not(storage: Storage) -> None:
    key = new_key()
    data = b"x" * 100_000
    assert (await storage.save(key, chunks_of(data), content_type=PDF, max_bytes=100_000)).size == (
        100_000
    )
    with pytest.raises(ObjectTooLarge):
        await storage.save(new_key(), chunks_of(data), content_type=PDF, max_bytes=99_999)


async def test_too_large_leaves_nothing(storage: Storage, stored: Callable[[], list[str]]) -> None:
    key = new_key()
    with pytest.raises(ObjectTooLarge):
        await storage.save(key, chunks_of(b"x" * 300_000), content_type=PDF, max_bytes=200_000)
    assert not await storage.exists(key)
    assert stored() == []


async def test_a_failing_producer_leaves_nothing(
    storage: Storage, stored: Callable[[], list[str]]
) -> None:
    async def dropped_connection() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"y" * 64 * KiB
        raise ConnectionResetError("the client went away")

    key = new_key()
    # The producer's own error reaches the caller as it is: it is not a storage failure.
    with pytest.raises(ConnectionResetError):
        await storage.save(key, dropped_connection(), content_type=PDF, max_bytes=MiB)
    assert not await storage.exists(key)
    assert stored() == []


async def test_a_cancelled_save_leaves_nothing(
    storage: Storage, stored: Callable[[], list[str]]
) -> None:
    halfway = asyncio.Event()

    async def stalled_upload() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"z" * 64 * KiB
        halfway.set()
        await asyncio.Event().wait()
        yield b"never"

    key = new_key()
    task = asyncio.create_task(storage.save(key, stalled_upload(), content_type=PDF, max_bytes=MiB))
    await halfway.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await storage.exists(key)
    assert stored() == []


async def test_cancelled_while_committing_leaves_nothing(
    storage: Storage, stored: Callable[[], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancellation arrives while the thread is making the object visible (rename,
    PUT); the thread cannot be stopped, so the object it made must be removed after."""
    committed = threading.Event()
    release = threading.Event()

    def then_hold(commit: Callable[..., Any]) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> Any:
            result = commit(*args, **kwargs)
            committed.set()
            release.wait(5)
            return result

        return held

    if isinstance(storage, LocalStorage):
        monkeypatch.setattr(os, "replace", then_hold(os.replace))
    else:
        assert isinstance(storage, S3Storage)
        client = storage._client
        monkeypatch.setattr(client, "upload_fileobj", then_hold(client.upload_fileobj))
    key = new_key()
    task = asyncio.create_task(
        storage.save(key, chunks_of(b"c" * 200_000), content_type=PDF, max_bytes=MiB)
    )
    assert await asyncio.to_thread(committed.wait, 5)
    task.cancel()
    await asyncio.sleep(0.05)  # save must still be waiting for its thread here
    assert not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not await storage.exists(key)
    assert stored() == []


async def test_saving_again_replaces_the_object(
    storage: Storage, stored: Callable[[], list[str]]
) -> None:
    key = new_key()
    await storage.save(key, chunks_of(b"first version"), content_type=PDF, max_bytes=MiB)
    second = await storage.save(key, chunks_of(b"second"), content_type=PDF, max_bytes=MiB)
    assert second == expected(key, b"second")
    assert await read_all(storage, key) == b"second"
    assert len(stored()) == 1


async def test_delete_is_idempotent(storage: Storage) -> None:
    key = new_key()
    await storage.save(key, chunks_of(b"cv"), content_type=PDF, max_bytes=MiB)
    await storage.delete(key)
    assert not await storage.exists(key)
    await storage.delete(key)
    await storage.delete(new_key())


async def test_opening_a_missing_key_raises_not_found(storage: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        await read_all(storage, new_key())


async def test_a_keys_folder_is_not_an_object(storage: Storage) -> None:
    key = new_key()
    await storage.save(key, chunks_of(b"cv"), content_type=PDF, max_bytes=MiB)
    folder = key.rsplit("/", 1)[0]
    assert not await storage.exists(folder)
    with pytest.raises(ObjectNotFound):
        await read_all(storage, folder)
    await storage.delete(folder)
    assert await storage.exists(key)


BAD_KEYS = [
    "",
    "../etc/passwd",
    "applications/../../etc/passwd",
    "a..b",
    "/etc/passwd",
    "applications\\cv.pdf",
    "applications/cv 2.pdf",
    "applications/cv\n.pdf",
    "candidatures/cv-é.pdf",
    "applications//cv.pdf",
    "applications/",
    "./cv.pdf",
    "applications/./cv.pdf",
    "applications/%2e%2e/cv.pdf",
    "a" * 2000,
]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_keys_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.save(key, chunks_of(b"x"), content_type=PDF, max_bytes=MiB)
    with pytest.raises(ValueError, match="invalid storage key"):
        storage.open(key)
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.delete(key)
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.exists(key)


@pytest.fixture(params=["local", "s3"])
def broken(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Storage, Callable[[], Any]]:
    """A storage whose backend cannot work, and what it leaves behind."""
    if request.param == "local":
        root = tmp_path / "uploads"
        root.write_bytes(b"a file where the folder should be")
        return LocalStorage(root), lambda: sorted(p.name for p in tmp_path.rglob("*"))
    endpoint = request.getfixturevalue("s3_endpoint")
    missing = f"missing-{uuid.uuid4().hex}"

    def buckets() -> list[str]:
        return [bucket["Name"] for bucket in _s3_client(endpoint).list_buckets()["Buckets"]]

    return _s3_storage(endpoint, bucket=missing), buckets


async def test_a_backend_failure_raises_storage_error_and_leaves_nothing(
    broken: tuple[Storage, Callable[[], Any]],
) -> None:
    storage, leftovers = broken
    before = leftovers()
    key = new_key()
    with pytest.raises(StorageError) as raised:
        await storage.save(key, chunks_of(b"cv" * 100_000), content_type=PDF, max_bytes=MiB)
    assert type(raised.value) is StorageError
    assert leftovers() == before
    with pytest.raises(StorageError):
        await read_all(storage, key)


async def test_local_failure_after_writing_removes_the_part_file(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    await storage.save("a/b/c", chunks_of(b"inner"), content_type=PDF, max_bytes=MiB)
    # "a/b" is a folder, so the final rename fails once every byte has been written.
    with pytest.raises(StorageError):
        await storage.save("a/b", chunks_of(b"x" * 300_000), content_type=PDF, max_bytes=MiB)
    assert _paths_under(tmp_path) == ["a", "a/b", "a/b/c"]


async def test_local_files_are_private(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    await LocalStorage(root).save("a/b/cv.pdf", chunks_of(b"cv"), content_type=PDF, max_bytes=MiB)
    assert stat.S_IMODE((root / "a/b/cv.pdf").stat().st_mode) == 0o600
    for folder in (root, root / "a", root / "a/b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


async def test_local_memory_does_not_grow_with_the_object(tmp_path: Path) -> None:
    chunk = b"m" * 64 * KiB  # one buffer yielded again and again: the producer allocates nothing

    async def sixteen_megabytes() -> AsyncIterator[bytes]:
        for _ in range(16 * MiB // len(chunk)):
            yield chunk

    tracemalloc.start()
    try:
        stored_object = await LocalStorage(tmp_path).save(
            "big", sixteen_megabytes(), content_type=PDF, max_bytes=32 * MiB
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored_object.size == 16 * MiB
    assert peak < 2 * MiB


async def test_s3_objects_carry_content_type_and_sha256(s3_endpoint: str) -> None:
    storage = _s3_storage(s3_endpoint)
    key = new_key("letter.odt")
    content_type = "application/vnd.oasis.opendocument.text"
    stored_object = await storage.save(
        key, chunks_of(b"lettre"), content_type=content_type, max_bytes=MiB
    )
    head = _s3_client(s3_endpoint).head_object(Bucket=BUCKET, Key=f"{storage.prefix}/{key}")
    assert head["ContentType"] == content_type
    assert head["Metadata"] == {"sha256": stored_object.sha256}


def test_storage_from_settings(tmp_path: Path) -> None:
    default = storage_from_settings(Settings(upload_dir=tmp_path))
    assert isinstance(default, LocalStorage)
    assert default.root == tmp_path

    absolute = storage_from_settings(Settings(storage_url="file:///srv/vocation/uploads"))
    assert isinstance(absolute, LocalStorage)
    assert absolute.root == Path("/srv/vocation/uploads")
    relative = storage_from_settings(Settings(storage_url="file://./var/documents"))
    assert isinstance(relative, LocalStorage)
    assert relative.root == Path("var/documents")

    s3 = storage_from_settings(
        Settings(
            storage_url="s3://vocation-documents/prod/uploads/",
            s3_endpoint_url="http://127.0.0.1:9000",
            s3_access_key_id="key",
            s3_secret_access_key="very-secret",
        )
    )
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == ("vocation-documents", "prod/uploads")

    for url in ("ftp://example.org/uploads", "s3:///no-bucket"):
        with pytest.raises(ValueError, match="storage_url"):
            storage_from_settings(Settings(storage_url=url))


def test_the_s3_secret_is_never_printed() -> None:
    settings = Settings(s3_secret_access_key="very-secret")
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())


async def test_scan_lists_a_folders_objects_with_when_they_were_written(storage: Storage) -> None:
    # S3 keeps the time to the second.
    before = datetime.now(UTC) - timedelta(seconds=2)
    folder = f"scanned-{uuid.uuid4().hex}"
    keys = {f"{folder}/a.pdf", f"{folder}/b/c.pdf"}
    for key in [*keys, f"other-{uuid.uuid4().hex}/d.pdf"]:
        await storage.save(key, chunks_of(b"%PDF-1.4"), content_type=PDF, max_bytes=KiB)
    found = {entry.key: entry.modified async for entry in storage.scan(folder)}
    assert found.keys() == keys
    assert all(before <= moment <= datetime.now(UTC) for moment in found.values())
    assert [entry async for entry in storage.scan(f"empty-{uuid.uuid4().hex}")] == []


async def test_local_scan_lists_part_files_and_nothing_a_save_could_not_make(
    tmp_path: Path,
) -> None:
    storage = LocalStorage(tmp_path / "uploads")
    await storage.save("applications/cv", chunks_of(b"%PDF-1.4"), content_type=PDF, max_bytes=KiB)
    folder = tmp_path / "uploads" / "applications"
    (folder / "cv.part-0123456789abcdef").write_bytes(b"%PDF")
    (folder / "deux mots").write_bytes(b"not ours")
    (tmp_path / "secret").write_bytes(b"not ours either")
    (folder / "lien").symlink_to(tmp_path / "secret")
    found = {entry.key async for entry in storage.scan("applications")}
    assert found == {"applications/cv", "applications/cv.part-0123456789abcdef"}
