"""What the crash tests need: a real server in its own process (so that it can be killed
with SIGKILL), the CLI in its own process, and a look at what storage holds beside what the
database records."""

import asyncio
import hashlib
import os
import socket
import sys
import time
from asyncio.subprocess import Process
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.applications.models import ApplicationDocument
from tests.s3 import BUCKET, REGION, s3_client

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Backend:
    """Where the server stores documents: a folder, or a prefix of moto's bucket."""

    name: str
    upload_dir: Path
    s3_endpoint: str = ""
    s3_prefix: str = ""

    def env(self) -> dict[str, str]:
        if self.name == "local":
            return {"VOCATION_UPLOAD_DIR": str(self.upload_dir), "VOCATION_STORAGE_URL": ""}
        return {
            "VOCATION_STORAGE_URL": f"s3://{BUCKET}/{self.s3_prefix}",
            "VOCATION_S3_ENDPOINT_URL": self.s3_endpoint,
            "VOCATION_S3_ACCESS_KEY_ID": "testing",
            "VOCATION_S3_SECRET_ACCESS_KEY": "testing",
            "VOCATION_S3_REGION": REGION,
        }

    def keys(self) -> set[str]:
        """The keys of every stored object, temporary files included."""
        if self.name == "local":
            if not self.upload_dir.exists():
                return set()
            return {
                path.relative_to(self.upload_dir).as_posix()
                for path in self.upload_dir.rglob("*")
                if path.is_file()
            }
        listing = s3_client(self.s3_endpoint).list_objects_v2(
            Bucket=BUCKET, Prefix=self.s3_prefix + "/"
        )
        return {item["Key"][len(self.s3_prefix) + 1 :] for item in listing.get("Contents", [])}

    def objects(self) -> dict[str, bytes]:
        """Every stored object under its key, temporary files included."""
        if self.name == "local":
            if not self.upload_dir.exists():
                return {}
            return {
                path.relative_to(self.upload_dir).as_posix(): path.read_bytes()
                for path in self.upload_dir.rglob("*")
                if path.is_file()
            }
        client = s3_client(self.s3_endpoint)
        listing = client.list_objects_v2(Bucket=BUCKET, Prefix=self.s3_prefix + "/")
        start = len(self.s3_prefix) + 1
        return {
            item["Key"][start:]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
            for item in listing.get("Contents", [])
        }

    def mid_upload(self, recorded: int) -> bool:
        """Whether a cover letter is being stored, its CV stored already: its application's
        rows cannot be committed yet."""
        if self.name == "local":
            folder = self.upload_dir / "applications"
            try:
                # CVs are smaller than one 64 KiB write; only a cover letter's .part grows
                # past it.
                return any(
                    ".part-" in entry.name and entry.stat().st_size >= 64 * 1024
                    for entry in os.scandir(folder)
                )
            except FileNotFoundError:
                return False
        listing = s3_client(self.s3_endpoint).list_objects_v2(
            Bucket=BUCKET, Prefix=self.s3_prefix + "/"
        )
        return int(listing.get("KeyCount", 0)) > recorded


def server_env(database_url: str, backend: Backend, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "VOCATION_DATABASE_URL": database_url,
        "VOCATION_RATE_LIMIT_DEFAULT": "",
        "VOCATION_RATE_LIMIT_APPLY": "",
        "VOCATION_BULK_CHECK_PROCESSES": "0",
        **backend.env(),
        **{f"VOCATION_{name.upper()}": value for name, value in settings.items()},
    }


async def start_server(env: dict[str, str]) -> tuple[Process, str]:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port)),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient(base_url=base_url, timeout=1) as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return process, base_url
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    process.kill()
    raise AssertionError("the server did not start")


async def stop(process: Process) -> None:
    if process.returncode is None:
        process.terminate()
    await asyncio.wait_for(process.wait(), 15)


async def run_cli(env: dict[str, str], *arguments: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "app.cli", *arguments),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def recorded_documents(session: AsyncSession) -> dict[str, str]:
    """The storage key of every document row, with the SHA-256 the row holds."""
    rows = await session.execute(
        select(col(ApplicationDocument.storage_key), col(ApplicationDocument.sha256))
    )
    await session.commit()
    return {key: sha256 for key, sha256 in rows}


def digests(objects: dict[str, bytes]) -> dict[str, str]:
    return {key: hashlib.sha256(data).hexdigest() for key, data in objects.items()}
