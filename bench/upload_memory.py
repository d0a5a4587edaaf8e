"""Upload benchmark: the server's peak memory growth and time for one 10 MB CV.

Starts uvicorn (one worker) on a throwaway SQLite database and upload folder, creates a
published offer that takes applications on the platform, warms up with two small
applications, then posts fresh random PDFs (10 MB = 10,000,000 bytes by default, streamed
from disk by httpx) to ``POST /v1/offers/{id}/applications``. It reports:

- the server's peak memory growth: ``VmHWM`` from ``/proc/<pid>/status`` after the uploads
  minus ``VmHWM`` after the warm-up (reset then via ``clear_refs``, since the start-up peak
  sits far above the resting size and would hide any growth), against a 5 MB target;
- the median upload time against the median time to write the same bytes straight to a
  file in the same folder with fsync, interleaved in the same run, and their ratio.

    .venv/bin/python bench/upload_memory.py [--size-mb 10] [--runs 5] [--idempotency-key]

Linux only. Exits 0 once it has measured: FAIL in the output is the verdict.
"""

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000
TARGET_GROWTH_MB = 5.0
WARMUP_APPLICATIONS = 2
WARMUP_PDF_BYTES = 4_000
PDF_HEADER = b"%PDF-1.7\n"
PDF_OBJECTS = (b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[]/Count 0>>")
STARTUP_TIMEOUT_S = 30.0


@dataclass
class Results:
    size: int
    upload_times: list[float] = field(default_factory=list)
    disk_times: list[float] = field(default_factory=list)
    hwm_after_warmup_kb: int = 0
    rss_after_warmup_kb: int = 0
    hwm_after_run_kb: list[int] = field(default_factory=list)
    rss_after_run_kb: list[int] = field(default_factory=list)


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) of ``pid``, in kB as the kernel reports them (KiB)."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            values[name] = int(rest.split()[0])
    return values["VmHWM"], values["VmRSS"]


def reset_peak(pid: int) -> None:
    """Bring VmHWM down to the current VmRSS (Linux 4.0+, the process's owner may).

    Without it the mark would still hold the server's start-up peak, which is far above
    its resting size (importing the app hashes a dummy password with argon2, whose
    default memory cost is 64 MiB), and would hide any growth below that peak."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError as error:
        raise RuntimeError(f"cannot reset the server's VmHWM ({error})") from error


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def run_cli(env: dict[str, str], *args: str) -> str:
    """Run ``vocation <args>`` with this interpreter (so any venv works); return stdout."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"vocation {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def write_pdf(path: Path, size: int) -> None:
    """A file of exactly ``size`` bytes that the app reads as a PDF (header at the start,
    a cross-reference table, nothing active); its bulk is a random stream that nothing on
    the way can compress, and that the app's check never inflates."""

    def assemble(filler: int) -> bytes:
        parts = [PDF_HEADER]
        offsets = []
        for number, content in enumerate(PDF_OBJECTS, start=1):
            offsets.append(sum(map(len, parts)))
            parts.append(b"%d 0 obj\n%s\nendobj\n" % (number, content))
        offsets.append(sum(map(len, parts)))
        parts.append(b"3 0 obj\n<</Length %d>>\nstream\n" % filler)
        parts.append(os.urandom(filler) + b"\nendstream\nendobj\n")
        xref = sum(map(len, parts))
        parts.append(b"xref\n0 4\n0000000000 65535 f \n")
        parts.extend(b"%010d 00000 n \n" % offset for offset in offsets)
        parts.append(b"trailer\n<</Size 4/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % xref)
        return b"".join(parts)

    filler = size - len(assemble(0))
    if filler < 0:
        raise ValueError(f"a PDF needs at least {len(assemble(0))} bytes")
    # The numbers written in the file grow with the filler: take their digits back off it.
    for _ in range(3):
        data = assemble(filler)
        filler -= len(data) - size
    data = assemble(filler)
    if len(data) != size:
        raise ValueError(f"cannot make a PDF of exactly {size} bytes")
    path.write_bytes(data)


# uvicorn's flags for this benchmark; the others pass their own.
DEFAULT_FLAGS = ("--host", "127.0.0.1", "--log-level", "warning")


@contextlib.contextmanager
def server(
    env: dict[str, str],
    port: int,
    log_path: Path,
    *,
    target: str = "app.main:app",
    flags: Sequence[str] = DEFAULT_FLAGS,
    stop_timeout: float = 10,
    cpus: Sequence[int] = (),
) -> Iterator[subprocess.Popen[bytes]]:
    """uvicorn serving ``target`` (one worker), once it answers /healthz; always stopped
    on the way out. Every benchmark starts its servers here. ``cpus``, if given, pins it
    to those cores (``taskset`` execs uvicorn: the process's pid is the server's)."""
    pinned = ["taskset", "--cpu-list", ",".join(map(str, cpus))] if cpus else []
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and fixed arguments
            [*pinned, sys.executable, "-m", "uvicorn", target, *flags, "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(process, port, log_path)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_healthy(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer /healthz in {STARTUP_TIMEOUT_S:.0f} s")


def create_offer(client: httpx.Client, admin_key: str) -> str:
    """An organisation and a published offer that takes applications on the platform."""
    auth = {"Authorization": f"Bearer {admin_key}"}
    organisation = client.post(
        "/v1/organisations",
        headers=auth,
        json={"slug": "bench-organisation", "name": "Bench organisation", "kind": "association"},
    )
    organisation.raise_for_status()
    offer = client.post(
        "/v1/offers",
        headers=auth,
        json={
            "organisation_id": organisation.json()["id"],
            "reference": "BENCH-UPLOAD",
            "title": "Chargé·e de mission (benchmark)",
            "description": "Une offre pour mesurer les candidatures avec un CV.",
            "contract_type": "cdd",
            "duration_months": 12,
            "city": "Nantes",
            "postcode": "44000",
            "departement": "44",
            "remote": "none",
            "apply_via": "platform",
            "status": "published",
        },
    )
    offer.raise_for_status()
    offer_id: str = offer.json()["id"]
    return offer_id


def apply(
    client: httpx.Client, offer_id: str, cv: Path, email: str, idempotency_key: bool
) -> float:
    """Post one application with ``cv`` streamed from disk; return the request's time."""
    headers = {"Idempotency-Key": uuid.uuid4().hex} if idempotency_key else {}
    with cv.open("rb") as file:
        start = time.perf_counter()
        response = client.post(
            f"/v1/offers/{offer_id}/applications",
            headers=headers,
            data={
                "first_name": "Camille",
                "last_name": "Banc-d'Essai",
                "email": email,
                "consent": "true",
            },
            files={"cv": ("cv.pdf", file, "application/pdf")},
        )
        elapsed = time.perf_counter() - start
    if response.status_code != 201:
        raise RuntimeError(f"upload answered {response.status_code}: {response.text[:500]}")
    return elapsed


def write_to_disk(source: Path, target: Path) -> float:
    """The baseline: the same bytes, already in memory, written to a file and fsynced."""
    data = source.read_bytes()
    start = time.perf_counter()
    with target.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    elapsed = time.perf_counter() - start
    target.unlink()
    return elapsed


def measure(work: Path, size: int, runs: int, idempotency_key: bool) -> Results:
    env = {
        **os.environ,
        "VOCATION_DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
        "VOCATION_UPLOAD_DIR": str(work / "uploads"),
        "VOCATION_STORAGE_URL": "",
        # Applications are limited per client address (20 a minute by default), and every
        # request here comes from 127.0.0.1; the other limits stay as configured.
        "VOCATION_RATE_LIMIT_APPLY": "",
    }
    run_cli(env, "migrate")
    admin_key = run_cli(env, "keys", "create", "--role", "admin").strip().splitlines()[-1]
    port = free_port()
    results = Results(size=size)
    with (
        server(env, port, work / "server.log") as process,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client,
    ):
        offer_id = create_offer(client, admin_key)
        warmup_cv = work / "warmup.pdf"
        write_pdf(warmup_cv, WARMUP_PDF_BYTES)
        for number in range(WARMUP_APPLICATIONS):
            apply(client, offer_id, warmup_cv, f"warmup-{number}@example.org", idempotency_key)
        reset_peak(process.pid)
        results.hwm_after_warmup_kb, results.rss_after_warmup_kb = memory_kb(process.pid)
        for number in range(runs):
            cv = work / f"cv-{number}.pdf"
            write_pdf(cv, size)  # fresh random content for every run
            upload_first = number % 2 == 0  # alternate, so neither always runs on a warm cache
            if not upload_first:
                results.disk_times.append(write_to_disk(cv, work / "baseline.bin"))
            email = f"candidate-{number}@example.org"
            results.upload_times.append(apply(client, offer_id, cv, email, idempotency_key))
            hwm, rss = memory_kb(process.pid)
            results.hwm_after_run_kb.append(hwm)
            results.rss_after_run_kb.append(rss)
            if upload_first:
                results.disk_times.append(write_to_disk(cv, work / "baseline.bin"))
            cv.unlink()
    return results


def report(results: Results, idempotency_key: bool) -> bool:
    """Print the table; return whether the memory target is met."""
    kib = 1024 / MB  # kernel kB (KiB) to decimal MB
    upload = statistics.median(results.upload_times)
    disk = statistics.median(results.disk_times)
    growth = (max(results.hwm_after_run_kb) - results.hwm_after_warmup_kb) * kib
    passed = growth < TARGET_GROWTH_MB
    runs = len(results.upload_times)
    print()
    print(f"Upload of a {results.size / MB:g} MB CV ({results.size:,} bytes), {runs} runs")
    print(f"Idempotency-Key sent: {'yes' if idempotency_key else 'no'}")
    print(
        f"Server after warm-up: VmHWM {results.hwm_after_warmup_kb * kib:.1f} MB, "
        f"VmRSS {results.rss_after_warmup_kb * kib:.1f} MB"
    )
    print()
    print(f"{'run':>4} {'upload s':>9} {'disk s':>9} {'ratio':>7} {'VmHWM +MB':>10} {'RSS +MB':>8}")
    rows = zip(
        results.upload_times,
        results.disk_times,
        results.hwm_after_run_kb,
        results.rss_after_run_kb,
        strict=True,
    )
    for number, (up, down, hwm, rss) in enumerate(rows, start=1):
        print(
            f"{number:>4} {up:>9.3f} {down:>9.3f} {up / down:>6.1f}x "
            f"{(hwm - results.hwm_after_warmup_kb) * kib:>10.2f} "
            f"{(rss - results.rss_after_warmup_kb) * kib:>8.2f}"
        )
    print()
    print(f"{'size':<36} {results.size / MB:g} MB")
    print(f"{'runs':<36} {runs}")
    print(f"{'median upload (POST -> 201)':<36} {upload:.3f} s")
    print(f"{'median disk write + fsync':<36} {disk:.3f} s")
    print(f"{'ratio upload / disk write':<36} {upload / disk:.1f}x")
    print(f"{'server peak RSS growth (VmHWM)':<36} {growth:.2f} MB")
    verdict = "PASS" if passed else "FAIL"
    print(f"{'memory target < 5 MB':<36} {verdict}")
    if not passed:
        print(f"FAIL: the server's peak memory grew by {growth:.2f} MB, over {TARGET_GROWTH_MB} MB")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description="Server memory and time for one CV upload.")
    parser.add_argument("--size-mb", type=float, default=10.0, help="CV size in MB (10^6 bytes)")
    parser.add_argument("--runs", type=int, default=5, help="uploads (and disk writes) to time")
    parser.add_argument(
        "--idempotency-key",
        action="store_true",
        help="send an Idempotency-Key with each application (the app then hashes the file)",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="vocation-bench-"))
    try:
        results = measure(work, round(args.size_mb * MB), args.runs, args.idempotency_key)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results, args.idempotency_key)


if __name__ == "__main__":
    main()
