"""`vocation push`: a recruiter's file of offers sent to `POST /v1/offers/bulk` in chunks.

Each chunk carries its own Idempotency-Key, so a chunk whose answer was lost (dropped
connection, proxy timeout) is sent again safely: the server replays its first answer
instead of writing twice.
"""

import csv
import io
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from app.offers.bulk.cells import COLUMNS
from app.offers.bulk.formats import csv_delimiter, header_name

CSV, NDJSON, JSON = "text/csv", "application/x-ndjson", "application/json"
# A client error is not sent again: the same request would get the same answer. Two are
# the server asking to come back later (`Retry-After`): our twin still running (409), or
# too many requests (429).
_ASKED_TO_RETRY = {409, 429}


class PushError(Exception):
    """A chunk could not be sent: the run stops, and says which rows were not sent."""


@dataclass(frozen=True, slots=True)
class Chunk:
    first_row: int  # the file's row number of the chunk's first row, from 1
    rows: int
    body: bytes
    references: tuple[str | None, ...]  # each row's, where one can be read


def media_type_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return CSV
    if suffix in {".ndjson", ".jsonl"}:
        return NDJSON
    if suffix == ".json":
        return JSON
    raise PushError(f"{path.name}: use a .csv, .ndjson (.jsonl) or .json file.")


def _reference(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _reference_of(item: Any) -> str | None:
    return _reference(item.get("reference")) if isinstance(item, dict) else None


def _ndjson_reference(line: str) -> str | None:
    try:
        return _reference_of(json.loads(line))
    except ValueError:
        return None  # the server reports the line


def _csv_chunks(text: str, size: int) -> Iterator[Chunk]:
    delimiter = csv_delimiter(text.split("\n", 1)[0])
    # Strict, as the server reads: rewritten into chunks, a quote left open would otherwise
    # reach the server well quoted, with the rows after it inside one cell.
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise PushError("The CSV file is empty.")
        rows = [cells for cells in reader if any(cell.strip() for cell in cells)]
    except csv.Error as error:
        raise PushError(f"line {reader.line_num} of the file is not CSV: {error}") from None
    names = [header_name(name) for name in header]
    column = names.index("reference") if "reference" in names else None
    for start in range(0, len(rows), size):
        part = rows[start : start + size]
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(part)
        references = tuple(
            _reference(cells[column]) if column is not None and column < len(cells) else None
            for cells in part
        )
        yield Chunk(start + 1, len(part), out.getvalue().encode(), references)


def chunks(path: Path, media_type: str, size: int) -> Iterator[Chunk]:
    """The file's rows in chunks of ``size``, each in the file's own format."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise PushError(
            f"{path.name} is not UTF-8: save it as « CSV UTF-8 » (or UTF-8 text)."
        ) from None
    if media_type == CSV:
        yield from _csv_chunks(text, size)
        return
    if media_type == NDJSON:
        # Lines end at "\n" only, as the server reads them: U+2028 and its kind are text.
        lines = [line for line in text.split("\n") if line.strip()]
        for start in range(0, len(lines), size):
            part = lines[start : start + size]
            references = tuple(_ndjson_reference(line) for line in part)
            yield Chunk(start + 1, len(part), ("\n".join(part) + "\n").encode(), references)
        return
    try:
        items = json.loads(text)
    except ValueError as error:
        raise PushError(f"{path.name} is not JSON: {error}") from None
    if not isinstance(items, list):
        raise PushError(f"{path.name} must hold a JSON array of offers.")
    for start in range(0, len(items), size):
        part = items[start : start + size]
        body = json.dumps(part, ensure_ascii=False).encode()
        yield Chunk(start + 1, len(part), body, tuple(_reference_of(item) for item in part))


@dataclass(slots=True)
class Totals:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    # Valid rows not written because their chunk was refused whole (mode=atomic), by
    # their row in the file.
    held_back_rows: list[int] = field(default_factory=list)

    @property
    def held_back(self) -> int:
        return len(self.held_back_rows)

    def add(self, report: dict[str, Any], chunk: Chunk) -> None:
        for name in ("created", "updated", "unchanged", "closed", "failed"):
            setattr(self, name, getattr(self, name) + int(report.get(name, 0)))
        failed_rows = set()
        for error in report.get("errors", []):
            # The server counts rows within the chunk; the recruiter reads the file.
            row = error["row"] + chunk.first_row - 1
            failed_rows.add(row)
            self.errors.append({**error, "row": row})
        if report.get("mode") == "atomic" and report.get("failed"):
            # The server refused the chunk whole (or, in a dry run, would): its valid
            # rows are not written either.
            rows = range(chunk.first_row, chunk.first_row + chunk.rows)
            self.held_back_rows.extend(row for row in rows if row not in failed_rows)


def row_ranges(rows: list[int]) -> str:
    """`3, 5–9, 12`: file rows, runs shortened."""
    runs: list[list[int]] = []
    for row in sorted(rows):
        if runs and row == runs[-1][1] + 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    return ", ".join(str(first) if first == last else f"{first}–{last}" for first, last in runs)


def _retryable(response: httpx.Response) -> bool:
    if response.status_code >= 500:
        return True
    return response.status_code in _ASKED_TO_RETRY and "retry-after" in response.headers


def _tries(count: int) -> str:
    return "1 try" if count == 1 else f"{count} tries"


def check_api(api: str) -> str:
    """The server's base URL, or a PushError at once: a URL that can never work would
    otherwise be tried again and again."""
    example = "such as https://api.example.org or http://127.0.0.1:8000"
    try:
        url = httpx.URL(api)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in {"http", "https"} or not url.host:
        raise PushError(f"--api {api!r} must start with http:// or https://, {example}.")
    if url.path.rstrip("/").endswith("/v1"):
        raise PushError(
            f"--api {api!r}: give the server's address without /v1, {example}; "
            "vocation push adds /v1/offers/bulk."
        )
    return api.rstrip("/")


def _wait_before_retry(response: httpx.Response | None, attempt: int) -> float:
    if response is not None and response.headers.get("retry-after", "").isdigit():
        return float(response.headers["retry-after"])
    return float(min(0.5 * 2**attempt, 8.0))


def send_chunk(
    client: httpx.Client,
    chunk: Chunk,
    *,
    media_type: str,
    params: dict[str, str],
    key: str,
    retries: int,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Send one chunk, again with the same Idempotency-Key after a network error or a
    retryable answer, and return the server's report."""
    headers = {"Content-Type": media_type, "Idempotency-Key": key}
    for attempt in range(retries + 1):
        response: httpx.Response | None = None
        try:
            response = client.post(
                "/v1/offers/bulk", content=chunk.body, params=params, headers=headers
            )
        except httpx.TransportError as error:
            problem = f"network error ({type(error).__name__})"
        else:
            body = _json_or_none(response)
            if body is not None and "created" in body:
                return body  # a report: 200, or 422 when an atomic chunk had bad rows
            if not _retryable(response):
                detail = (body or {}).get("detail") or response.text[:200]
                where = ""
                if response.status_code in {413, 422}:
                    # About the chunk's rows, which the server counts from 1.
                    last = chunk.first_row + chunk.rows - 1
                    where = f"rows {chunk.first_row}–{last} of the file (one chunk): "
                raise PushError(f"{where}the server answered {response.status_code}: {detail}")
            problem = f"the server answered {response.status_code}"
        if attempt == retries:
            raise PushError(f"{problem}; gave up after {_tries(retries + 1)}")
        delay = _wait_before_retry(response, attempt)
        say(
            f"  rows {chunk.first_row}–{chunk.first_row + chunk.rows - 1}: {problem}, "
            f"sending again in {delay:g} s (same Idempotency-Key)"
        )
        sleep(delay)
    raise AssertionError("unreachable")


def _json_or_none(response: httpx.Response) -> dict[str, Any] | None:
    try:
        value = response.json()
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def template(kind: str) -> str:
    """A header line naming every column an upload takes."""
    if kind != "csv":
        raise PushError("Only `--template csv` exists.")
    return ",".join(["reference", *(name for name in COLUMNS if name != "reference")])


def _refuse_references_across_chunks(parts: list[Chunk]) -> None:
    """The server finds a reference repeated within one request; one repeated in two
    chunks would silently overwrite the first row with the second. Nothing is sent."""
    first_seen: dict[str, tuple[int, int]] = {}  # reference -> (chunk, file row)
    repeated = []
    for number, part in enumerate(parts):
        for row, reference in enumerate(part.references, start=part.first_row):
            if reference is None:
                continue
            seen = first_seen.setdefault(reference, (number, row))
            if seen[0] != number:
                repeated.append(f"rows {seen[1]} and {row} ({reference})")
    if repeated:
        shown = "; ".join(repeated[:10]) + ("; …" if len(repeated) > 10 else "")
        raise PushError(
            f"references repeated in different chunks: {shown}. Each offer must appear "
            "once. Nothing was sent."
        )


def push(
    path: Path,
    *,
    api: str,
    key: str,
    dry_run: bool,
    sync: bool,
    mode: str,
    chunk_size: int,
    retries: int,
    progress: Callable[[int, int, Totals], None],
    say: Callable[[str], None] = print,
    transport: httpx.BaseTransport | None = None,
) -> Totals:
    base_url = check_api(api)
    media_type = media_type_of(path)
    # With --sync the upload must be the whole list at once: a chunk would close the
    # offers of the other chunks.
    parts = list(chunks(path, media_type, sys.maxsize if sync else chunk_size))
    total = sum(part.rows for part in parts)
    if sync and not total:
        raise PushError(
            f"{path.name} holds no offer: with --sync that would close all your published "
            "offers. Nothing was sent."
        )
    _refuse_references_across_chunks(parts)
    params = {"mode": mode, "dry_run": str(dry_run).lower(), "sync": str(sync).lower()}
    run = uuid.uuid4().hex[:12]
    totals = Totals()
    with httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Bearer {key}", "User-Agent": "vocation-push"},
        timeout=httpx.Timeout(300.0, connect=10.0),
        transport=transport,
    ) as client:
        sent = 0
        for number, part in enumerate(parts, start=1):
            report = send_chunk(
                client,
                part,
                media_type=media_type,
                params=params,
                key=f"push-{run}-{number}",
                retries=retries,
                say=say,
            )
            totals.add(report, part)
            sent += part.rows
            progress(sent, total, totals)
    return totals
